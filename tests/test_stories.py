"""Rasa's own conversation tests (tests/test_stories.yml) pass with the trained model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.paths import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_test_story_predicts_its_actions(tmp_path: Path) -> None:
    rasa = Path(sys.executable).with_name("rasa")
    done = subprocess.run(
        [
            str(rasa),
            "test",
            "core",
            "--stories",
            "tests/test_stories.yml",
            "--model",
            "models/support.tar.gz",
            "--out",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed[:3000]
    stories = yaml.safe_load((PROJECT_ROOT / "tests" / "test_stories.yml").read_text())
    assert f"Evaluating {len(stories['stories'])} stories" in output, output[-2000:]
