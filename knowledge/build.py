"""`make index`: build the help-center index from data/knowledge/*.md.

    python -m knowledge.build [--articles data/knowledge] [--out models/knowledge] [--force]

Splits every article into passages by section, embeds them with all-MiniLM-L6-v2 (only
articles that are new or changed since the last build; --force re-embeds all), writes the
FAISS and BM25 indexes, then fits the answer-confidence model on the calibration part of
the labelled questions in data/eval/ (never on the part `make eval-knowledge` reports).
A running assistant picks the new index up without a restart.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.paths import DATA_DIR
from knowledge.articles import load_articles
from knowledge.errors import KnowledgeError
from knowledge.index import HelpCenterIndex
from knowledge.retriever import ConfidenceModel, Retriever, index_dir

ARTICLES_DIR = DATA_DIR / "knowledge"
QUESTIONS = DATA_DIR / "eval" / "helpcenter_questions.csv"
UNANSWERABLE = DATA_DIR / "eval" / "helpcenter_unanswerable.csv"
TARGET_PRECISION = 0.9  # answer only when at least 9 in 10 such answers are right


@dataclass(frozen=True)
class Question:
    text: str
    article_id: str | None  # None: the help center has no answer


def question_split(text: str) -> str:
    from nlu.datasets import hash_fraction

    return "calibration" if hash_fraction(text, "helpcenter") < 0.3 else "test"


def load_questions(part: str | None = None) -> list[Question]:
    """Labelled customer questions (`calibration` 30% / `test` 70% / None for all)."""
    out: list[Question] = []
    if QUESTIONS.is_file():
        with QUESTIONS.open(newline="", encoding="utf-8") as f:
            out += [Question(r["question"], r["article_id"]) for r in csv.DictReader(f)]
    if UNANSWERABLE.is_file():
        with UNANSWERABLE.open(newline="", encoding="utf-8") as f:
            out += [Question(r["question"], None) for r in csv.DictReader(f)]
    return [q for q in out if part is None or question_split(q.text) == part]


def fit_confidence(retriever: Retriever, questions: list[Question]) -> ConfidenceModel | None:
    from sklearn.linear_model import LogisticRegression

    if len({q.article_id is None for q in questions}) < 2:
        return None
    rows, labels = [], []
    for q in questions:
        hits = retriever.search(q.text, k=5)
        rows.append(ConfidenceModel.features(hits, retriever.fusion))
        labels.append(
            int(bool(hits) and q.article_id is not None and hits[0].article_id == q.article_id)
        )
    x, y = np.array(rows), np.array(labels)
    if len(set(labels)) < 2:
        return None
    model = LogisticRegression(C=10.0, max_iter=2000).fit(x, y)
    p = model.predict_proba(x)[:, 1]
    threshold = 0.5
    for t in np.linspace(0.05, 0.95, 91):
        answered = p >= t
        if answered.sum() >= 5 and y[answered].mean() >= TARGET_PRECISION:
            threshold = float(t)
            break
    return ConfidenceModel(
        [float(c) for c in model.coef_[0]], float(model.intercept_[0]), threshold
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=Path, default=ARTICLES_DIR)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="re-embed every article")
    args = parser.parse_args(argv)
    out = args.out or index_dir()
    try:
        articles = load_articles(args.articles)
    except KnowledgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.force and out.exists():
        shutil.rmtree(out)
    from nlu.encoder import shared_encoder

    encoder = shared_encoder()
    bar = tqdm(total=0, desc="embedding changed articles", unit="entry")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    report = HelpCenterIndex.build(articles, encoder.embed, out, progress=progress)
    bar.close()
    retriever = Retriever(out, encoder=encoder)
    confidence = fit_confidence(retriever, load_questions("calibration"))
    if confidence is not None:
        confidence.save(
            out,
            {
                "fitted_on": "calibration part of data/eval/helpcenter_*.csv",
                "target_precision": TARGET_PRECISION,
            },
        )
    print(
        f"help-center index: {report.articles} articles, {report.passages} search entries "
        f"({report.embedded_articles} embedded, {report.reused_articles} unchanged, "
        f"{report.removed_articles} removed), {report.index_type} index, "
        f"{report.seconds:.1f} s → {out}"
    )
    if confidence is not None:
        print(
            f"answer confidence threshold: {confidence.threshold:.2f} "
            f"(precision ≥ {TARGET_PRECISION} on the calibration questions)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
