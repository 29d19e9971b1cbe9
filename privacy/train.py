"""Train the name and address model (`privacy.ner`): `make train-privacy`.

    python -m privacy.train [--data data/privacy/ner_train.jsonl] [--out privacy/model]

A blank English spaCy pipeline with spaCy's default CNN NER, trained on the project's
own labelled messages (data/privacy/ner_train.jsonl and data/privacy/ner_support.jsonl,
the project's other support messages, mostly without names, so that "I am furious" or
"a real person" is not taken for a name; never on data/eval/, the evaluation sets).
A tenth of the training messages is held out to pick the best epoch; each
epoch prints its loss and the held-out precision, recall and F1 per label. About two to
four minutes on two cores; the result (a few MB) is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from core.paths import PROJECT_ROOT
from privacy.ner import LABELS, MODEL_DIR

DATA = (
    PROJECT_ROOT / "data" / "privacy" / "ner_train.jsonl",
    PROJECT_ROOT / "data" / "privacy" / "ner_support.jsonl",
)
EPOCHS = 12
DEV_FRACTION = 0.1
SEED = 17


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{number}: not JSON ({e}); fix or delete the line.") from e
        rows.append({**row, "_line": f"{path.name}:{number}"})
    return rows


def examples(nlp: Any, rows: list[dict[str, Any]]) -> list[Any]:
    from spacy.training import Example

    made = []
    for row in rows:
        doc = nlp.make_doc(row["text"])
        entities = [(s["start"], s["end"], s["label"]) for s in row.get("spans", [])]
        for start, end, label in entities:
            if doc.char_span(start, end, label) is None:
                raise SystemExit(
                    f"{row['_line']}: the span {row['text'][start:end]!r} does not "
                    "start and end at token boundaries; fix its offsets."
                )
        made.append(Example.from_dict(doc, {"entities": entities}))
    return made


def train(
    data: tuple[Path, ...], out: Path, epochs: int = EPOCHS, seed: int = SEED
) -> dict[str, Any]:
    import spacy
    from spacy.util import compounding, fix_random_seed, minibatch

    fix_random_seed(seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in LABELS:
        ner.add_label(label)  # type: ignore[attr-defined]
    rows = [row for path in data for row in read_rows(path)]
    random.Random(seed).shuffle(rows)
    cut = int(len(rows) * (1 - DEV_FRACTION))
    train_set, dev_set = examples(nlp, rows[:cut]), examples(nlp, rows[cut:])
    print(
        f"==> {len(train_set)} training and {len(dev_set)} held-out messages from "
        + ", ".join(path.name for path in data)
    )
    optimizer = nlp.initialize(lambda: train_set)
    best: tuple[float, bytes, dict[str, Any]] | None = None
    for epoch in range(1, epochs + 1):
        started = time.monotonic()
        random.Random(seed + epoch).shuffle(train_set)
        losses: dict[str, float] = {}
        for batch in minibatch(train_set, size=compounding(8.0, 32.0, 1.001)):
            nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
        scores = nlp.evaluate(dev_set)
        per_type = scores.get("ents_per_type") or {}
        line = "  ".join(
            f"{label} P {per_type.get(label, {}).get('p', 0):.3f} R "
            f"{per_type.get(label, {}).get('r', 0):.3f}"
            for label in LABELS
        )
        print(
            f"epoch {epoch:2d}/{epochs}  loss {losses.get('ner', 0):8.1f}  F1 "
            f"{scores['ents_f']:.3f}  {line}  ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
        if best is None or scores["ents_f"] > best[0]:
            best = (scores["ents_f"], nlp.to_bytes(), scores)
    assert best is not None
    nlp.from_bytes(best[1])
    nlp.meta.update(
        {
            "name": "brightbasket_pii_ner",
            "version": "1.0.0",
            "description": "Person names and street addresses in customer-support messages "
            "(privacy.ner); trained by privacy.train on data written for this project.",
            "license": "Apache-2.0",
            "sources": [
                {
                    "name": str(path.relative_to(PROJECT_ROOT))
                    if path.is_relative_to(PROJECT_ROOT)
                    else path.name,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                }
                for path in data
            ],
            "performance": {
                "held_out_ents_f": round(best[0], 4),
                "held_out_per_type": best[2].get("ents_per_type"),
            },
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return best[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.train", description=__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a training file (repeatable; default: "
        + " and ".join(path.name for path in DATA)
        + ")",
    )
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    options = parser.parse_args(argv)
    data = tuple(options.data or DATA)
    for path in data:
        if not path.is_file():
            print(f"error: no training data at {path}.", file=sys.stderr)
            return 2
    scores = train(data, options.out, options.epochs)
    print(f"==> Saved the best epoch (held-out F1 {scores['ents_f']:.3f}) to {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
