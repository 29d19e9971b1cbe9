"""`make eval-nlu`: 5-fold cross-validation of the NLU pipeline (`rasa test nlu`).

Prints the intent macro-F1 and a per-intent table from Rasa's report. The folds never
see their test examples during training; results go to results/nlu-cv/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from core.paths import PROJECT_ROOT

OUT = PROJECT_ROOT / "results" / "nlu-cv"


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
        os.environ, HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false"
    )
    started = time.monotonic()
    subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if not sys.stdout.isatty() else None,
    )
    return time.monotonic() - started


def print_report(report_path: Path) -> float:
    report = json.loads(report_path.read_text())
    intents = {
        k: v
        for k, v in report.items()
        if isinstance(v, dict)
        and "f1-score" in v
        and k not in ("macro avg", "weighted avg", "micro avg")
    }
    print(f"{'intent':24} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>5}")
    for name, row in sorted(intents.items(), key=lambda kv: kv[1]["f1-score"]):
        print(
            f"{name:24} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1-score']:6.3f} "
            f"{row['support']:5d}"
        )
    macro = report["macro avg"]["f1-score"]
    print(f"\nintent macro-F1 (5-fold cross-validation, test folds): {macro:.3f}")
    return float(macro)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate_nlu", description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    seconds = run_cross_validation(args.folds)
    print(f"cross-validation took {seconds:.0f} s\n")
    print_report(OUT / "intent_report.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
