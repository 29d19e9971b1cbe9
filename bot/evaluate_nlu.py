"""`make eval-nlu`: cross-validation of the NLU pipeline (`rasa test nlu`).

Prints the intent macro-F1 with a per-intent table, and the entity F1 of each entity
extractor with a per-entity table (precision, recall, F1 and support, where support
counts tokens: Rasa scores entities token by token). The folds never see their test
examples during training; the reports and Rasa's log go to results/nlu-cv/.

Rasa's training cache is switched off for these runs (RASA_MAX_CACHE_SIZE=0): every fold
trains afresh anyway, and a cache in the project folder (.rasa/cache) is walked by a
plain `rasa test` from the project root (see tests/test_stories.yml).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from core.paths import PROJECT_ROOT

OUT = PROJECT_ROOT / "results" / "nlu-cv"
LOG = OUT / "rasa.log"
AVERAGES = ("macro avg", "weighted avg", "micro avg", "accuracy")
# "test F1-score: 0.912 (0.007)" in Rasa's cross-validation log: mean (standard deviation)
F1_LINE = re.compile(r"test F1-score: ([0-9.]+) \(([0-9.]+)\)")
EXTRACTOR_LINE = re.compile(r"Entity extractor: (\w+)")


def run_cross_validation(folds: int) -> float:
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "test",
        "nlu",
        "--config",
        "bot/config.yml",
        "--nlu",
        "data/nlu",
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        str(OUT),
    ]
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        RASA_MAX_CACHE_SIZE="0",
    )
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with LOG.open("w") as log:
        result = subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        sys.exit(f"`rasa test nlu` failed (exit code {result.returncode}); see {LOG}")
    return time.monotonic() - started


def cross_validation_f1(log_text: str) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of the test-fold F1 over the folds, from Rasa's log:
    `{"intent": (mean, std), "<entity extractor>": (mean, std), ...}`."""
    scores: dict[str, tuple[float, float]] = {}
    section, extractor = None, None
    for line in log_text.splitlines():
        if "Intent evaluation results" in line:
            section, extractor = "intent", None
        elif "Entity evaluation results" in line:
            section, extractor = "entity", None
        elif section == "entity" and (match := EXTRACTOR_LINE.search(line)):
            extractor = match.group(1)
        elif section and (match := F1_LINE.search(line)):
            name = "intent" if section == "intent" else extractor
            if name:
                scores[name] = (float(match.group(1)), float(match.group(2)))
    return scores


def rows(report_path: Path) -> dict[str, dict]:
    report = json.loads(report_path.read_text())
    return {
        k: v
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in AVERAGES
    }


def print_table(title: str, table: dict[str, dict]) -> None:
    print(f"{title:28} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>5}")
    for name, row in sorted(table.items(), key=lambda kv: kv[1]["f1-score"]):
        print(
            f"{name:28} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1-score']:6.3f} "
            f"{row['support']:5d}"
        )


def print_report(out: Path, folds: int, scores: dict[str, tuple[float, float]]) -> float:
    print_table("intent", rows(out / "intent_report.json"))
    macro = json.loads((out / "intent_report.json").read_text())["macro avg"]["f1-score"]
    print(f"\nintent macro-F1 ({folds}-fold cross-validation, test folds): {macro:.3f}")
    if "intent" in scores:
        mean, std = scores["intent"]
        print(f"intent weighted F1 per fold: {mean:.3f} ± {std:.3f}")
    for report in sorted(out.glob("*Extractor_report.json")):
        extractor = report.name.removesuffix("_report.json")
        print()
        print_table(f"entity ({extractor})", rows(report))
        if extractor in scores:
            mean, std = scores[extractor]
            print(f"\n{extractor} entity F1 per fold (token level): {mean:.3f} ± {std:.3f}")
    return float(macro)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate_nlu", description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    seconds = run_cross_validation(args.folds)
    print(f"cross-validation took {seconds:.0f} s\n")
    print_report(OUT, args.folds, cross_validation_f1(LOG.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
