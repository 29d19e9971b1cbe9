"""`python -m bot.bootstrap`: build whatever is missing or stale, and nothing else.

Called by `make setup` (and so by `make run` and `make test`) after the environment is
installed. Each step checks first, so a second run takes about a second:

1. the sample store (data/runtime/store.db) is created and seeded if empty;
2. the Rasa model (models/support.tar.gz) is trained if its inputs changed — the
   fingerprint of config, domain, training data and custom component code is kept next
   to the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.errors import SetupError
from bot.launcher import model_path
from bot.settings import PROJECT_ROOT, Settings
from bot.store import SupportStore, load_seed

# What a trained model depends on. Changing any of these retrains on the next setup.
TRAINING_INPUTS = (
    "bot/config.yml",
    "bot/domain.yml",
    "data/nlu",
    "data/rules",
    "data/stories",
    "nlu",
    "knowledge",
    "routing",
)
TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")


def training_fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in {".yml", ".yaml", ".py", ".json"} or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def fingerprint_path(settings: Settings) -> Path:
    return settings.model_dir / f"{model_path(settings).name}.fingerprint.json"


def model_is_current(settings: Settings) -> bool:
    model, stamp = model_path(settings), fingerprint_path(settings)
    if not model.is_file() or not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text())["fingerprint"]
    except (ValueError, KeyError):
        return False
    return recorded == training_fingerprint()


def train(settings: Settings) -> None:
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    print("==> Training the Rasa model (about 3-5 minutes on 2 cores; progress below)", flush=True)
    started = time.monotonic()
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "train",
        "--config",
        "bot/config.yml",
        "--domain",
        "bot/domain.yml",
        "--data",
        *TRAINING_DATA,
        "--out",
        str(settings.model_dir),
        "--fixed-model-name",
        model_path(settings).name.removesuffix(".tar.gz"),
        "--force",
    ]
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false"
    )
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env)
    if result.returncode != 0 or not model_path(settings).is_file():
        raise SetupError(
            f"`rasa train` failed (exit code {result.returncode}); its output is above. Fix the "
            "training data it names, then run `make setup` again."
        )
    elapsed = time.monotonic() - started
    fingerprint_path(settings).write_text(
        json.dumps({"fingerprint": training_fingerprint(), "train_seconds": round(elapsed, 1)})
    )
    print(f"==> Model trained in {elapsed:.0f} s: {model_path(settings)}", flush=True)


def ensure_store(settings: Settings) -> None:
    store = SupportStore(settings.store_url)
    if not store.is_seeded():
        store.seed(load_seed())
        print(f"==> Seeded the sample store ({settings.store_url})", flush=True)
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.bootstrap",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--force-train", action="store_true", help="retrain even if current")
    args = parser.parse_args(argv)
    settings = Settings.load()
    try:
        ensure_store(settings)
        if args.force_train or not model_is_current(settings):
            train(settings)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
