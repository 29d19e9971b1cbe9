"""`python -m bot.bootstrap`: build whatever is missing or stale, and nothing else.

Called by `make setup` (and so by `make run` and `make test`) after the environment is
installed. Each step checks first, so a second run takes about a second:

1. the store database (data/runtime/store.db) is brought to the newest schema migration
   (`core.migrations`, rows kept), and the sample store seeded if empty;
2. the shared encoder graph (models/encoder/: MiniLM and the emotion heads as one
   float32 ONNX graph, `nlu.onnx_encoder`) is exported if its weights changed;
3. the help-center index (models/knowledge/) is built if the articles, the labelled
   questions or the knowledge code changed (only changed articles are re-embedded);
4. the int8 ONNX emotion scorer (models/emotion/) is exported from the committed
   emotion model if that changed;
5. the Rasa model (models/support.tar.gz) is trained if its inputs changed — the
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

from bot.errors import SetupError, StoreError
from bot.launcher import model_path
from bot.store import SupportStore, load_seed
from core.paths import PROJECT_ROOT
from core.settings import Settings

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
# What the help-center index depends on.
INDEX_INPUTS = ("data/knowledge", "data/eval", "knowledge", "nlu/encoder.py", "nlu/minilm.py")
INDEX_STAMP = "build.fingerprint"


def training_fingerprint(
    root: Path = PROJECT_ROOT, inputs: tuple[str, ...] = TRAINING_INPUTS
) -> str:
    digest = hashlib.sha256()
    for name in inputs:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in {".yml", ".yaml", ".py", ".json", ".md", ".csv"}:
                continue
            if "__pycache__" in file.parts:
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
        os.environ,
        HF_HUB_OFFLINE="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        # No cache in .rasa/ (its JSON files crash `rasa test` from the root, which scans
        # the project for stories); --force retrains everything anyway.
        RASA_MAX_CACHE_SIZE="0",
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


def ensure_knowledge_index(directory: Path) -> None:
    """Build the help-center index unless it is current (`make index` forces a build)."""
    from knowledge.build import main as build_index

    stamp = directory / INDEX_STAMP
    fingerprint = training_fingerprint(inputs=INDEX_INPUTS)
    built = (directory / "manifest.json").is_file() and stamp.is_file()
    if built and stamp.read_text().strip() == fingerprint:
        return
    print(f"==> Building the help-center index in {directory}", flush=True)
    if build_index(["--out", str(directory)]) != 0:
        raise SetupError(
            "Building the help-center index failed (the error above names the article and "
            "field). Fix it, then run `make setup` again."
        )
    stamp.write_text(fingerprint + "\n")


def ensure_onnx_scorer() -> None:
    """Export the int8 ONNX emotion scorer unless it matches the committed artifact."""
    from nlu.onnx_scorer import is_current
    from nlu.onnx_scorer import main as export_scorer

    if is_current():
        return
    print("==> Exporting the emotion scorer to int8 ONNX (models/emotion/)", flush=True)
    if export_scorer([]) != 0:
        raise SetupError(
            "Exporting the emotion scorer failed (the error above says why). Restore "
            "nlu/artifacts/emotion/ from git, then run `make setup` again."
        )


def ensure_encoder_graph() -> None:
    """Export the shared encoder graph (MiniLM + emotion heads) unless it is current."""
    from nlu.onnx_encoder import is_current
    from nlu.onnx_encoder import main as export_graph

    if is_current():
        return
    print("==> Exporting the shared encoder graph to ONNX (models/encoder/)", flush=True)
    if export_graph([]) != 0:
        raise SetupError(
            "Exporting the shared encoder graph failed (the error above says why). Restore "
            "nlu/artifacts/emotion/ from git, then run `make setup` again."
        )


def ensure_store(settings: Settings) -> None:
    store = SupportStore(settings.store_url)
    print(f"==> {store.create_schema()}", flush=True)  # migrations: core/migrations
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
        ensure_encoder_graph()
        ensure_knowledge_index(settings.knowledge_dir)
        ensure_onnx_scorer()
        if args.force_train or not model_is_current(settings):
            train(settings)
    except (SetupError, StoreError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
