"""Training the context model: it never reads the test conversations, and what it saves
loads and scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu import labeling, train_context
from nlu.context_model import CONFIG, FEATURES, WEIGHTS, ContextModel


def test_a_short_training_run_saves_a_model_that_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = labeling.turns_in_split
    asked: list[str] = []

    def guarded(split: str, conversations=None):
        asked.append(split)
        assert split != "test", "training read the test conversations"
        return real(split, conversations)

    monkeypatch.setattr(train_context, "turns_in_split", guarded)
    assert train_context.main(["--out", str(tmp_path), "--members", "1", "--epochs", "2"]) == 0
    assert sorted(set(asked)) == ["calibration", "train"]
    config = json.loads((tmp_path / CONFIG).read_text())
    assert config["members"] == 1 and config["conversations_version"]
    assert set(config["calibration_metrics"]) == {
        "sentiment_macro_recall",
        "frustration_auroc",
        "urgency_auroc",
    }
    model = ContextModel(tmp_path)
    probs = model.probabilities(np.zeros((3, FEATURES), np.float32))
    assert probs.shape == (3, 5)
    assert (tmp_path / WEIGHTS).stat().st_size < 5_000_000
    assert model.lexical.logits(["still nothing"]).shape == (1, 5)
