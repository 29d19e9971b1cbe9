"""`make train-context`: train the context emotion model (`nlu.context_model`).

    python -m nlu.train_context [--epochs 80] [--hidden 64] [--members 5] [--seed 13]

Data, all in this repository (no ../shared needed; about two minutes on 2 cores): the
labelled support conversations (`data/emotion/conversations/`, docs/labeling.md), train
split, each customer turn with its context, and the same turns with the context dropped
at random, so turns without context are learned too. (Not the single messages of
`data/emotion/support_messages.csv`: the message model trained on them, so its scores
there are too sure of themselves, and a model stacked on them learns to over-trust them.)
The lexical cues' own logits for the training turns come from models fitted on the other
conversations (5 folds, by conversation).

The epoch is chosen, and the temperatures fitted, on the calibration conversations
only; the test conversations are for `make eval-emotion` and are never read here. The
message model's scores, an input, come from the committed emotion artifact.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlu.context_model import (
    CONFIG,
    CONTEXT_DIR,
    FEATURES,
    PROBABILITIES,
    WEIGHTS,
    _probability_features,
    turn_features,
)
from nlu.datasets import SENTIMENTS
from nlu.labeling import (
    CONVERSATIONS_DIR,
    LabelledTurn,
    previous_turns,
    read_conversations,
    turns_in_split,
)
from nlu.lexical import LexicalCues, out_of_fold
from nlu.text import normalise

# Context dropped at random in training: both parts, the previous turn only, the reply only.
DROP_BOTH, DROP_PREVIOUS, DROP_REPLY = 0.2, 0.1, 0.1
PATIENCE = 12  # epochs without a better calibration loss before a member stops


@dataclass
class Split:
    """Feature variants [4, n, F] (full, no previous, no reply, none) and labels."""

    variants: np.ndarray
    sentiment: np.ndarray
    frustration: np.ndarray
    urgency: np.ndarray
    has_context: np.ndarray  # False for rows that never had any
    previous: np.ndarray  # index of the same conversation's previous turn in the split, -1
    conversations: list[str]

    def rows(self, idx: np.ndarray) -> Split:
        """The split's rows `idx` (their `previous` no longer index anything)."""
        return Split(
            self.variants[:, idx],
            self.sentiment[idx],
            self.frustration[idx],
            self.urgency[idx],
            self.has_context[idx],
            np.full(len(idx), -1),
            [self.conversations[i] for i in idx],
        )

    def with_previous(self, probabilities: np.ndarray) -> Split:
        """The split with the previous turn's scores in context filled in from
        `probabilities` [n, 5] (one row per turn of this split) where a variant keeps the
        previous turn."""
        variants = self.variants.copy()
        has = self.previous >= 0
        block = _probability_features(probabilities[np.maximum(self.previous, 0)])
        block[~has] = 0.0
        variants[:, :, -PROBABILITIES:] = 0.0
        for v in (0, 2):  # full, no reply (see `build_split`)
            variants[v, :, -PROBABILITIES:] = block
        return Split(
            variants,
            self.sentiment,
            self.frustration,
            self.urgency,
            self.has_context,
            self.previous,
            self.conversations,
        )


def build_split(
    scorer: object,
    turns: Sequence[LabelledTurn],
    lexical: LexicalCues | None,
) -> Split:
    """Features and labels of `turns`, each with its context. Lexical logits from
    `lexical`, or, when None, out of fold (the training split's own rows)."""
    from nlu.scorer import EmotionScorer

    assert isinstance(scorer, EmotionScorer)
    texts = [t.text for t in turns]
    sentence, probs, hidden = scorer.vectors(texts)
    previous = [t.previous_customer for t in turns]
    replies = [t.last_reply for t in turns]
    present = [t for t in previous + replies if t]
    e, p, _ = scorer.vectors(present) if present else (np.zeros((0, 384)), np.zeros((0, 5)), None)
    lookup = {t: (e[i], p[i]) for i, t in enumerate(present)}
    blank = (np.zeros(384, np.float32), np.full(5, 1 / 3, np.float32))
    prev_e = np.stack([lookup.get(t, blank)[0] for t in previous])
    prev_p = np.stack([lookup.get(t, blank)[1] for t in previous])
    reply_e = np.stack([lookup.get(t, blank)[0] for t in replies])
    has_prev = np.array([bool(t) for t in previous])
    has_reply = np.array([bool(t) for t in replies])
    none = np.zeros(len(texts), bool)
    blank_scores = np.full((len(texts), PROBABILITIES), 1 / 3, np.float32)  # `with_previous`
    labels_s = [SENTIMENTS.index(t.sentiment) for t in turns]
    labels_f = [t.frustration for t in turns]
    labels_u = [t.urgency for t in turns]
    normalised = [normalise(t) for t in texts]
    lexical_logits = (
        lexical.logits(normalised)
        if lexical is not None
        else out_of_fold(
            normalised,
            labels_s,
            labels_f,
            labels_u,
            groups=[t.conversation for t in turns],
        )
    )
    # A previous turn is a row of the same split: its logits as that row got them.
    by_text = {t: lexical_logits[i] for i, t in enumerate(normalised)}
    missing = sorted({normalise(t) for t in previous if t and normalise(t) not in by_text})
    if missing:
        assert lexical is not None, "a training turn's previous turn is not a training turn"
        by_text.update(zip(missing, lexical.logits(missing), strict=True))
    prev_lexical = np.stack(
        [by_text[normalise(t)] if t else np.zeros(5, np.float32) for t in previous]
    )
    variants = np.stack(
        [
            turn_features(
                sentence,
                hidden,
                probs,
                lexical_logits,
                prev_e,
                prev_p,
                prev_lexical,
                reply_e,
                hp,
                hr,
                blank_scores,
            )
            for hp, hr in (
                (has_prev, has_reply),
                (none, has_reply),
                (has_prev, none),
                (none, none),
            )
        ]
    )
    variants[:, :, -PROBABILITIES:] = 0.0
    return Split(
        variants,
        np.array(labels_s, np.int64),
        np.array(labels_f, np.float32),
        np.array(labels_u, np.float32),
        has_prev | has_reply,
        np.array(previous_turns(turns)),
        [t.conversation for t in turns],
    )


def data_version(directory: Path = CONVERSATIONS_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train(args: argparse.Namespace) -> dict[str, object]:
    import torch

    from nlu.scorer import EmotionScorer

    started = time.monotonic()
    conversations = read_conversations(Path(args.data))
    scorer = EmotionScorer(backend="torch")
    print(f"encoding {len(conversations)} conversations …")
    train_turns = turns_in_split("train", conversations)
    lexical = LexicalCues.fit(
        [normalise(t.text) for t in train_turns],
        [SENTIMENTS.index(t.sentiment) for t in train_turns],
        [t.frustration for t in train_turns],
        [t.urgency for t in train_turns],
    )
    print(f"lexical cues: {len(lexical.vocabulary)} words and word pairs")
    train_split = build_split(scorer, train_turns, None)
    calibration = build_split(scorer, turns_in_split("calibration", conversations), lexical)
    n_train = len(train_split.sentiment)
    print(f"train: {n_train} turns; calibration: {len(calibration.sentiment)} turns")

    cal_y = [
        torch.from_numpy(a)
        for a in (calibration.sentiment, calibration.frustration, calibration.urgency)
    ]
    # First pass: the previous turn's scores in context, for each training turn from
    # networks that did not train on its conversation, for the calibration turns from
    # all of them.
    print(f"first pass: {FOLDS} folds by conversation, the previous turns' scores")
    first_train, first_cal = first_pass(args, train_split, calibration, cal_y)
    train_split = train_split.with_previous(first_train)
    calibration_first = calibration.with_previous(first_cal)

    members = []
    for member in range(args.members):
        seed = args.seed + member
        print(f"member {member + 1}/{args.members} (seed {seed})")
        members.append(fit_member(args, seed, train_split, calibration_first))
    networks = [m for m, _, _ in members]
    z = ensemble_logits(networks, calibration_first.variants[0])
    temperatures = fit_temperatures(z, cal_y)
    # As the pipeline scores: each turn after the previous one, with its scores.
    z = chained_logits(networks, calibration, temperatures)
    temperatures = fit_temperatures(z, cal_y)
    calibrated = calibration_metrics(z, cal_y, temperatures)
    print("calibration split: " + "  ".join(f"{k} {v:.3f}" for k, v in calibrated.items()))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def stacked(layer: int, part: str) -> np.ndarray:
        arrays = [getattr(m[layer], part).detach().numpy() for m, _, _ in members]
        return np.stack([a.T if part == "weight" else a for a in arrays]).astype(np.float32)

    np.savez(
        out / WEIGHTS,
        w1=stacked(1, "weight"),
        b1=stacked(1, "bias"),
        w2=stacked(4, "weight"),
        b2=stacked(4, "bias"),
        temperature=np.array(temperatures, np.float32),
        **lexical.arrays(),
    )
    config = {
        "features": FEATURES,
        "hidden": args.hidden,
        "seed": args.seed,
        "epochs": args.epochs,
        "members": args.members,
        "best_epochs": [epoch for _, epoch, _ in members],
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "dropout": args.dropout,
        "input_dropout": args.input_dropout,
        "batch_size": args.batch_size,
        "temperatures": [round(t, 4) for t in temperatures],
        "first_pass_folds": FOLDS,
        "training_turns": {
            "conversations": int(train_split.has_context.sum()),
            "single_messages": int((~train_split.has_context).sum()),
        },
        "calibration_turns": len(calibration.sentiment),
        "calibration_metrics": {k: round(v, 4) for k, v in calibrated.items()},
        "conversations_version": data_version(Path(args.data)),
        "loss_per_epoch": [h for _, _, h in members],
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(
        f"best epochs {[e for _, e, _ in members]}; temperatures "
        f"{', '.join(f'{t:.2f}' for t in temperatures)}; saved to {out} in {config['seconds']} s"
    )
    return config


FOLDS = 5


def fold_of(conversation: str) -> int:
    return int(hashlib.sha256(conversation.encode()).hexdigest(), 16) % FOLDS


def ensemble_logits(networks: Sequence[Any], x: np.ndarray) -> Any:
    import torch

    with torch.no_grad():
        return torch.stack([m(torch.from_numpy(x)) for m in networks]).mean(dim=0)


def fit_temperatures(z: Any, y: Sequence[Any]) -> list[float]:
    return [
        fit_temperature(z[:, :3], y[0], "softmax"),
        fit_temperature(z[:, 3], y[1], "sigmoid"),
        fit_temperature(z[:, 4], y[2], "sigmoid"),
    ]


def calibrated(z: Any, temperatures: Sequence[float]) -> np.ndarray:
    """[n, 5] probabilities, as `ContextModel.probabilities` makes them."""
    import torch

    return torch.cat(
        [
            torch.softmax(z[:, :3] / temperatures[0], dim=1),
            torch.sigmoid(z[:, 3:4] / temperatures[1]),
            torch.sigmoid(z[:, 4:5] / temperatures[2]),
        ],
        dim=1,
    ).numpy()


def first_pass(
    args: argparse.Namespace, train_split: Split, calibration: Split, cal_y: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities [n, 5] of each training turn (out of fold: networks trained on
    the other conversations) and each calibration turn (all folds' networks), without
    the previous turn's scores."""
    folds = np.array([fold_of(c) for c in train_split.conversations])
    train_z = np.zeros((len(folds), PROBABILITIES), np.float32)
    cal_z = []
    for k in range(FOLDS):
        held = np.flatnonzero(folds == k)
        print(f"  fold {k + 1}/{FOLDS}: {len(held)} turns held out")
        model, _, _ = fit_member(
            args, args.seed + 100 + k, train_split.rows(np.flatnonzero(folds != k)), calibration
        )
        train_z[held] = ensemble_logits([model], train_split.variants[0][held]).numpy()
        cal_z.append(ensemble_logits([model], calibration.variants[0]))
    import torch

    cal_mean = torch.stack(cal_z).mean(dim=0)
    temperatures = fit_temperatures(cal_mean, cal_y)
    return calibrated(torch.from_numpy(train_z), temperatures), calibrated(cal_mean, temperatures)


def chained_logits(networks: Sequence[Any], split: Split, temperatures: Sequence[float]) -> Any:
    """Logits of the split's full-context rows, each turn with its previous turn's
    scores as these networks gave them (`EmotionScorer.in_conversations`)."""
    import torch

    n = len(split.previous)
    depth = np.zeros(n, np.int64)
    for i, j in enumerate(split.previous):
        depth[i] = 0 if j < 0 else depth[j] + 1
    x = split.variants[0].copy()
    x[:, -PROBABILITIES:] = 0.0
    z = torch.zeros((n, PROBABILITIES))
    for level in range(int(depth.max(initial=-1)) + 1):
        idx = np.flatnonzero(depth == level)
        if level:
            probs = calibrated(z[split.previous[idx]], temperatures)
            x[idx, -PROBABILITIES:] = _probability_features(probs)
        z[idx] = ensemble_logits(networks, x[idx])
    return z


def fit_member(
    args: argparse.Namespace, seed: int, train_split: Split, calibration: Split
) -> tuple:
    """One network, trained with `seed`; the epoch with the lowest calibration loss.
    Returns (model, best epoch, [(train loss, calibration loss) per epoch])."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_train = len(train_split.sentiment)
    model = nn.Sequential(
        nn.Dropout(args.input_dropout),
        nn.Linear(FEATURES, args.hidden),
        nn.GELU(approximate="tanh"),
        nn.Dropout(args.dropout),
        nn.Linear(args.hidden, 5),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    ce, bce = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()

    def loss_of(z: torch.Tensor, s: torch.Tensor, f: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return ce(z[:, :3], s) + bce(z[:, 3], f) + bce(z[:, 4], u)

    cal_x = torch.from_numpy(calibration.variants[0])
    cal_y = [
        torch.from_numpy(a)
        for a in (calibration.sentiment, calibration.frustration, calibration.urgency)
    ]
    best: tuple[float, int, dict[str, Any] | None] = (math.inf, 0, None)
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        draw = rng.random(n_train)
        choice = np.where(
            draw < DROP_BOTH,
            3,
            np.where(
                draw < DROP_BOTH + DROP_PREVIOUS,
                1,
                np.where(draw < DROP_BOTH + DROP_PREVIOUS + DROP_REPLY, 2, 0),
            ),
        )
        choice[~train_split.has_context] = 0
        x_all = train_split.variants[choice, np.arange(n_train)]
        order = rng.permutation(n_train)
        total = 0.0
        for start in range(0, n_train, args.batch_size):
            idx = order[start : start + args.batch_size]
            x = torch.from_numpy(x_all[idx])
            loss = loss_of(
                model(x),
                torch.from_numpy(train_split.sentiment[idx]),
                torch.from_numpy(train_split.frustration[idx]),
                torch.from_numpy(train_split.urgency[idx]),
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            cal_loss = float(loss_of(model(cal_x), *cal_y))
        history.append((round(total / n_train, 4), round(cal_loss, 4)))
        if cal_loss < best[0]:
            best = (cal_loss, epoch, {k: v.clone() for k, v in model.state_dict().items()})
        if epoch % 10 == 0 or epoch == args.epochs:
            print(
                f"  epoch {epoch:3d}  train loss {total / n_train:.4f}  "
                f"calibration loss {cal_loss:.4f}"
            )
        if epoch - best[1] >= PATIENCE:
            print(f"  epoch {epoch:3d}  stop: no better calibration loss for {PATIENCE} epochs")
            break
    _, best_epoch, state = best
    assert state is not None
    model.load_state_dict(state)
    model.eval()
    return model, best_epoch, history


def calibration_metrics(
    z: object, y: Sequence[object], temperatures: Sequence[float]
) -> dict[str, float]:
    """Selection figures on the calibration split (never the test split)."""
    import torch
    from sklearn.metrics import recall_score, roc_auc_score

    assert isinstance(z, torch.Tensor)
    s, f, u = (np.asarray(t) for t in y)
    pred = (z[:, :3] / temperatures[0]).argmax(dim=1).numpy()
    return {
        "sentiment_macro_recall": float(recall_score(s, pred, average="macro")),
        "frustration_auroc": float(roc_auc_score(f, z[:, 3].numpy())),
        "urgency_auroc": float(roc_auc_score(u, z[:, 4].numpy())),
    }


def fit_temperature(z: object, y: object, kind: str) -> float:
    import torch

    assert isinstance(z, torch.Tensor) and isinstance(y, torch.Tensor)
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        scaled = z / log_t.exp()
        if kind == "softmax":
            loss = torch.nn.functional.cross_entropy(scaled, y)
        else:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(scaled, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.train_context",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.2)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--input-dropout", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--members", type=int, default=5, help="networks averaged (seeds seed, seed+1, …)"
    )
    parser.add_argument("--out", default=str(CONTEXT_DIR))
    parser.add_argument(
        "--data", default=str(CONVERSATIONS_DIR), help="the labelled conversations' directory"
    )
    args = parser.parse_args(argv)
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
