"""`make train-emotion`: fine-tune the emotion heads and write the artifact.

    python -m nlu.train [--epochs 3] [--seed 13] [--out nlu/artifacts/emotion]

1. Loads the labelled data (nlu/datasets.py): the project's own messages and, when
   ../shared/data is present, GoEmotions, TweetEval emotion, the trained half of
   TweetEval sentiment val, BANKING77 and CLINC150. Evaluation parts are never loaded here.
2. Normalises every text (`nlu.text.normalise`) and runs the frozen lower layers
   (MiniLM 1-2, `--branch-layer`) once over it.
3. Fine-tunes the layers above and the three heads on all tasks at once; a task without
   a label on an example does not contribute to its loss.
4. Fits one temperature per head on the calibration parts (never trained on).
5. Saves the weights (float16), the configuration, the seed, the data versions and the
   training metrics next to each other, then prints the evaluation table.

Reproducible: fixed seeds, deterministic data order, single-threaded-safe ops.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from nlu.datasets import (
    Example,
    banking77_urgency,
    clinc150_urgency,
    data_versions,
    deduplicate,
    goemotions,
    own_examples,
    shared_data_available,
    tweeteval_emotion,
    tweeteval_sentiment,
)
from nlu.emotion_model import ARTIFACT_DIR, EmotionHeads
from nlu.encoder import BRANCH_LAYER, SharedEncoder
from nlu.text import normalise

# Small in-domain sets, repeated in every epoch: the product's own messages (few, but most
# like real traffic) and the trained half of TweetEval sentiment (the only neutral tweets).
REPEAT = {"own": 4, "tweeteval_sentiment": 4}
AUXILIARY_LABELS = 28  # GoEmotions' 27 emotions + neutral


@dataclass
class Encoded:
    """Frozen branch-layer states of one example (float16, no padding) and its labels."""

    states: torch.Tensor
    sentiment: int
    frustration: int
    urgency: int  # -1: no label
    emotions: tuple[int, ...] | None = None  # GoEmotions label ids, auxiliary task


def encode_examples(
    encoder: SharedEncoder, examples: Sequence[Example], desc: str, batch_size: int = 64
) -> list[Encoded]:
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].text))
    out: list[Encoded | None] = [None] * len(examples)
    with tqdm(total=len(examples), desc=desc, unit="msg", leave=False) as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            # Only the frozen layers: the fine-tuned ones run in every training step.
            branch, mask = encoder.encode_lower([normalise(examples[i].text) for i in idx])
            for j, i in enumerate(idx):
                length = int(mask[j].sum())
                e = examples[i]
                out[i] = Encoded(
                    branch[j, :length].to(torch.float16).clone(),
                    -1 if e.sentiment is None else e.sentiment,
                    -1 if e.frustration is None else e.frustration,
                    -1 if e.urgency is None else e.urgency,
                    e.emotions,
                )
            bar.update(len(idx))
    return [e for e in out if e is not None]


def auxiliary_targets(items: Sequence[Encoded]) -> torch.Tensor:
    """[n, 28] multi-hot GoEmotions labels; rows of examples without them are -1."""
    out = torch.full((len(items), AUXILIARY_LABELS), -1.0)
    for i, e in enumerate(items):
        if e.emotions is not None:
            out[i] = 0.0
            out[i, list(e.emotions)] = 1.0
    return out


def collate(items: Sequence[Encoded]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    length = max(int(e.states.shape[0]) for e in items)
    states = torch.zeros(len(items), length, items[0].states.shape[-1])
    mask = torch.zeros(len(items), length, dtype=torch.long)
    for i, e in enumerate(items):
        n = int(e.states.shape[0])
        states[i, :n] = e.states.to(torch.float32)
        mask[i, :n] = 1
    labels = torch.tensor([[e.sentiment, e.frustration, e.urgency] for e in items])
    return states, mask, labels


def batches(items: list[Encoded], size: int, rng: random.Random) -> list[list[Encoded]]:
    """Shuffled batches of similar length (less padding, faster on CPU)."""
    shuffled = items[:]
    rng.shuffle(shuffled)
    chunks = [shuffled[i : i + size * 50] for i in range(0, len(shuffled), size * 50)]
    out = []
    for chunk in chunks:
        chunk.sort(key=lambda e: int(e.states.shape[0]))
        out += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def multitask_loss(
    logits: dict[str, torch.Tensor],
    labels: torch.Tensor,
    sentiment_weights: torch.Tensor,
    auxiliary: torch.Tensor | None = None,
    auxiliary_weight: float = 0.0,
) -> torch.Tensor:
    loss = torch.zeros(())
    if auxiliary is not None and auxiliary_weight and "emotions" in logits:
        has = auxiliary[:, 0] >= 0
        if has.any():
            loss = loss + auxiliary_weight * nn.functional.binary_cross_entropy_with_logits(
                logits["emotions"][has], auxiliary[has]
            )
    s = labels[:, 0] >= 0
    if s.any():
        loss = loss + nn.functional.cross_entropy(
            logits["sentiment"][s], labels[s, 0], weight=sentiment_weights
        )
    for column, task in ((1, "frustration"), (2, "urgency")):
        m = labels[:, column] >= 0
        if m.any():
            loss = loss + nn.functional.binary_cross_entropy_with_logits(
                logits[task][m], labels[m, column].float()
            )
    return loss


def fit_temperature(z: torch.Tensor, y: torch.Tensor, task: str) -> float:
    """The temperature T minimising the negative log-likelihood of `y` under `z / T`."""
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        scaled = z / log_t.exp()
        if task == "sentiment":
            loss = nn.functional.cross_entropy(scaled, y)
        else:
            loss = nn.functional.binary_cross_entropy_with_logits(scaled, y.float())
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.exp().item())


def fit_temperatures(heads: EmotionHeads, items: list[Encoded]) -> list[float]:
    """One temperature per head minimising the negative log-likelihood on `items`."""
    heads.eval()
    collected: dict[str, list[torch.Tensor]] = {"sentiment": [], "frustration": [], "urgency": []}
    label_rows = []
    with torch.no_grad():
        for start in range(0, len(items), 128):
            states, mask, labels = collate(items[start : start + 128])
            raw = heads.logits(states, mask)
            for k in collected:
                collected[k].append(raw[k])
            label_rows.append(labels)
    labels = torch.cat(label_rows)
    logits = {k: torch.cat(v) for k, v in collected.items()}
    temperatures = []
    for column, task in enumerate(("sentiment", "frustration", "urgency")):
        m = labels[:, column] >= 0
        if not m.any():
            temperatures.append(1.0)
            continue
        temperatures.append(fit_temperature(logits[task][m], labels[m, column], task))
    heads.temperature.copy_(torch.tensor(temperatures))
    return temperatures


def load_training_data(seed: int) -> tuple[dict[str, list[Example]], dict[str, list[Example]]]:
    """(training sets, calibration sets), each by source name."""
    train: dict[str, list[Example]] = {"own": own_examples("train")}
    calibration: dict[str, list[Example]] = {"own": own_examples("calibration")}
    if shared_data_available():
        train["goemotions"] = deduplicate(goemotions("train"))
        train["tweeteval_emotion"] = deduplicate(tweeteval_emotion("train"))
        train["tweeteval_sentiment"] = deduplicate(tweeteval_sentiment("train"))
        train["banking77"] = deduplicate(banking77_urgency("train"))
        train["clinc150"] = deduplicate(clinc150_urgency("train"))
        calibration["goemotions"] = deduplicate(goemotions("calibration"))
        calibration["banking77"] = deduplicate(banking77_urgency("calibration"))
        calibration["clinc150"] = deduplicate(clinc150_urgency("calibration"))
    else:
        print("note: ../shared/data not found: training on the project's own data only.")
    return train, calibration


def train(args: argparse.Namespace) -> dict:
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.monotonic()

    encoder = SharedEncoder(max_tokens=args.max_tokens, branch_layer=args.branch_layer).warm_up()
    train_sets, calibration_sets = load_training_data(args.seed)
    print("training examples:", {k: len(v) for k, v in train_sets.items()})
    encoded = {k: encode_examples(encoder, v, f"encode {k}") for k, v in train_sets.items()}
    calibration = [
        e
        for k, v in calibration_sets.items()
        for e in encode_examples(encoder, v, f"encode {k} (calibration)")
    ]

    heads = EmotionHeads.from_minilm(
        encoder.minilm.layers,
        encoder.minilm.config,
        args.branch_layer,
        auxiliary_labels=AUXILIARY_LABELS if args.auxiliary_weight else 0,
    )
    counts = np.bincount(
        [e.sentiment for v in encoded.values() for e in v if e.sentiment >= 0], minlength=3
    ).astype(np.float64)
    sentiment_weights = torch.tensor(
        counts.sum() / (3 * np.maximum(counts, 1)), dtype=torch.float32
    )

    rng = random.Random(args.seed)
    layer_params = [p for n, p in heads.named_parameters() if n.startswith("layers.")]
    head_params = [p for n, p in heads.named_parameters() if not n.startswith("layers.")]
    optimizer = torch.optim.AdamW(
        [{"params": layer_params, "lr": args.lr}, {"params": head_params, "lr": args.head_lr}],
        weight_decay=0.01,
    )

    def epoch_items() -> list[Encoded]:
        items: list[Encoded] = []
        for name, values in encoded.items():
            if name in REPEAT:
                items += values * REPEAT[name]
                continue
            per_epoch = args.goemotions_per_epoch
            if name == "goemotions" and 0 < per_epoch < len(values):
                values = rng.sample(values, per_epoch)
            items = items + values
        return items

    steps_per_epoch = math.ceil(len(epoch_items()) / args.batch_size)
    total = steps_per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(1.0, (step + 1) / (0.06 * total)) * max(0.0, (total - step) / total),
    )
    history = []
    for epoch in range(args.epochs):
        heads.train()
        running, seen = 0.0, 0
        with tqdm(
            batches(epoch_items(), args.batch_size, rng),
            desc=f"epoch {epoch + 1}/{args.epochs}",
            unit="batch",
        ) as bar:
            for batch in bar:
                states, mask, labels = collate(batch)
                loss = multitask_loss(
                    heads.logits(states, mask),
                    labels,
                    sentiment_weights,
                    auxiliary_targets(batch),
                    args.auxiliary_weight,
                )
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(heads.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                running += float(loss) * len(batch)
                seen += len(batch)
                bar.set_postfix(loss=f"{running / seen:.3f}")
        history.append(round(running / seen, 4))

    temperatures = fit_temperatures(heads, calibration)
    print(
        "calibration temperatures (sentiment, frustration, urgency):",
        [round(t, 3) for t in temperatures],
    )
    minutes = (time.monotonic() - started) / 60
    extra = {
        "branch_layer": args.branch_layer,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "head_lr": args.head_lr,
        "goemotions_per_epoch": args.goemotions_per_epoch,
        "auxiliary_weight": args.auxiliary_weight,
        "train_loss_per_epoch": history,
        "temperatures": temperatures,
        "training_examples": {k: len(v) for k, v in train_sets.items()},
        "calibration_examples": {k: len(v) for k, v in calibration_sets.items()},
        "data_versions": data_versions(),
        "train_minutes": round(minutes, 1),
        "torch": torch.__version__,
    }
    heads.save(Path(args.out), extra)
    print(f"saved the emotion model to {args.out} ({minutes:.1f} min)")
    return extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--lr", type=float, default=4e-5, help="learning rate of the fine-tuned layers"
    )
    parser.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the heads")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument(
        "--branch-layer",
        type=int,
        default=BRANCH_LAYER,
        help="MiniLM layers shared with the other consumers; the heads fine-tune the rest",
    )
    parser.add_argument(
        "--goemotions-per-epoch",
        type=int,
        default=0,
        help="GoEmotions examples sampled per epoch (0: all)",
    )
    parser.add_argument(
        "--auxiliary-weight",
        type=float,
        default=0.5,
        help="loss weight of the 28 GoEmotions labels (training-only head; 0: off)",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(ARTIFACT_DIR))
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation table")
    args = parser.parse_args(argv)
    train(args)
    if not args.no_eval:
        from nlu.evaluate import main as evaluate

        return evaluate(["--model", args.out, "--write-metrics"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
