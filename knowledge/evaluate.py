"""`make eval-knowledge`: help-center retrieval quality, printed as one table.

    python -m knowledge.evaluate

1. The project's labelled customer questions (data/eval/), test part only — the
   development part was looked at while designing the features; neither is fitted on
   (`knowledge.questions`, `knowledge.calibration`): recall@1, recall@5 and MRR over
   articles; how well the answer confidence separates right answers from wrong or
   unanswerable ones (AUROC); and what the threshold does (share of questions answered,
   precision of those answers, share of unanswerable questions correctly declined).
2. An outside check of the retrieval machinery on public data (../shared/data):
   - BANKING77: train utterances indexed as documents (label = intent), queried with
     held-out utterances by 5-fold cross-validation; top-1 / top-5 intent accuracy, for
     the nearest neighbour and for a similarity-weighted vote of the 10 nearest;
   - CLINC150: out-of-scope detection, `oos_val` against `val`, with the train split
     indexed; AUROC of (1 − similarity to the nearest in-scope utterances).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from core.paths import SHARED_DATA_DIR
from knowledge.document_store import FaissDocumentStore
from knowledge.questions import TEST, load_questions
from knowledge.retriever import Retriever

TARGETS = {"recall@5": 0.95, "mrr": 0.85, "banking77 top-1": 0.85, "oos auroc": 0.95}
SHARED = SHARED_DATA_DIR


def own_questions(retriever: Retriever) -> dict[str, float]:
    questions = load_questions(TEST)
    answerable = [q for q in questions if q.article_id]
    ranks, confident, correct, declined = [], [], [], []
    for q in questions:
        hits = retriever.search(q.text, k=5)
        ids = [h.article_id for h in hits]
        p = retriever.confidence(hits)
        right = bool(q.article_id) and bool(ids) and ids[0] == q.article_id
        confident.append(p)
        correct.append(right)
        if q.article_id:
            ranks.append(ids.index(q.article_id) + 1 if q.article_id in ids else 0)
        else:
            declined.append(p < retriever.threshold)
    r = np.array(ranks)
    conf, ok = np.array(confident), np.array(correct)
    answered = conf >= retriever.threshold
    return {
        "questions": len(answerable),
        "unanswerable": len(declined),
        "recall@1": float(np.mean(r == 1)),
        "recall@5": float(np.mean((r >= 1) & (r <= 5))),
        "mrr": float(np.mean([1 / x if x else 0.0 for x in r])),
        "confidence auroc": float(roc_auc_score(ok, conf)),
        "answered": float(answered.mean()),
        "answer precision": float(ok[answered].mean()) if answered.any() else 0.0,
        "unanswerable declined": float(np.mean(declined)) if declined else 0.0,
    }


def _embed(texts: list[str]) -> np.ndarray:
    from nlu.encoder import shared_encoder

    return shared_encoder().embed(texts, batch_size=128)


def banking77(root: Path = SHARED, folds: int = 5) -> dict[str, float]:
    import csv

    from nlu.datasets import hash_fraction

    with (root / "banking77" / "train.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    labels = np.array([r["category"] for r in rows])
    vectors = _embed(texts)
    fold = np.array([int(hash_fraction(t, "b77-cv") * folds) for t in texts])
    top1_nn = top5_nn = top1_vote = top5_vote = 0
    for k in range(folds):
        train, test = np.where(fold != k)[0], np.where(fold == k)[0]
        store = FaissDocumentStore(vectors.shape[1], "exact")
        store.add(vectors[train])
        scores, ids = store.search(vectors[test], 10)
        for row, q in enumerate(test):
            neighbours = labels[train[ids[row]]]
            ranked_nn: list[str] = list(dict.fromkeys(neighbours))
            votes: dict[str, float] = defaultdict(float)
            for label, s in zip(neighbours, scores[row], strict=True):
                votes[label] += float(np.exp(10 * s))
            ranked_vote = sorted(votes, key=lambda x: -votes[x])
            truth = labels[q]
            top1_nn += ranked_nn[0] == truth
            top5_nn += truth in ranked_nn[:5]
            top1_vote += ranked_vote[0] == truth
            top5_vote += truth in ranked_vote[:5]
    n = len(texts)
    return {
        "queries": n,
        "top-1 nn": top1_nn / n,
        "top-5 nn": top5_nn / n,
        "top-1 vote": top1_vote / n,
        "top-5 vote": top5_vote / n,
    }


def clinc_oos(root: Path = SHARED) -> dict[str, float]:
    data = json.loads((root / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    index_vectors = _embed([t for t, _ in data["train"]])
    inside = _embed([t for t, _ in data["val"]])
    outside = _embed([t for t, _ in data["oos_val"]])
    store = FaissDocumentStore(index_vectors.shape[1], "exact")
    store.add(index_vectors)
    result: dict[str, float] = {"in-scope": len(inside), "out-of-scope": len(outside)}
    y = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    for k in (1, 5):
        s_in, _ = store.search(inside, k)
        s_out, _ = store.search(outside, k)
        score = -np.r_[s_in.mean(axis=1), s_out.mean(axis=1)]
        result[f"oos auroc (mean of top-{k})"] = float(roc_auc_score(y, score))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--skip-public", action="store_true", help="only the own questions")
    args = parser.parse_args(argv)
    started = time.monotonic()
    retriever = Retriever().warm_up()
    own = own_questions(retriever)
    lines = [
        "help-center retrieval, own questions (test part, never used for tuning)",
        f"  {own['questions']} answerable + {own['unanswerable']} unanswerable questions",
    ]
    for key in (
        "recall@1",
        "recall@5",
        "mrr",
        "confidence auroc",
        "answered",
        "answer precision",
        "unanswerable declined",
    ):
        target = TARGETS.get(key)
        verdict = (
            f"  target ≥ {target:.2f} {'PASS' if own[key] >= target else 'FAIL'}" if target else ""
        )
        lines.append(f"  {key:26} {own[key]:.3f}{verdict}")
    if not args.skip_public and (SHARED / "banking77").is_dir():
        b = banking77()
        lines.append(
            f"BANKING77, {b['queries']} utterances, 5-fold cross-validation "
            "(baseline frozen MiniLM + exact search: 0.82 / 0.94)"
        )
        for key in ("top-1 nn", "top-5 nn", "top-1 vote", "top-5 vote"):
            verdict = ""
            if key == "top-1 vote":
                verdict = f"  target ≥ 0.85 {'PASS' if b[key] >= 0.85 else 'FAIL'}"
            lines.append(f"  {key:26} {b[key]:.3f}{verdict}")
        c = clinc_oos()
        lines.append(
            f"CLINC150 out-of-scope detection, {c['out-of-scope']} oos_val vs "
            f"{c['in-scope']} val (baseline max cosine: 0.93)"
        )
        for key in ("oos auroc (mean of top-1)", "oos auroc (mean of top-5)"):
            verdict = ""
            if key.endswith("top-5)"):
                verdict = f"  target ≥ 0.95 {'PASS' if c[key] >= 0.95 else 'FAIL'}"
            lines.append(f"  {key:26} {c[key]:.3f}{verdict}")
    elif not args.skip_public:
        lines.append(f"note: {SHARED} not found: public-data checks skipped.")
    print("\n".join(lines))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
