"""Where the committed emotion model lives and what its files are called (no torch here)."""

from __future__ import annotations

from pathlib import Path

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts" / "emotion"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
