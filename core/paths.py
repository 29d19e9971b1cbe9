"""Where the project's files are: the checkout, its data and the models setup builds."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"  # training data, help-center articles, sample store seed
MODELS_DIR = PROJECT_ROOT / "models"  # built by setup, never committed
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"  # optional public corpora
