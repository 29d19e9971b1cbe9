"""The answer-confidence model: what it reads from the hits, and how it is stored."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.errors import CorruptIndexError
from knowledge.retriever import CONFIDENCE_FILE, ConfidenceModel, Hit, Retriever


def hit(article_id: str, score: float, dense: float, lexical: float) -> Hit:
    return Hit(
        article_id, article_id, f"https://help.example/{article_id}", "", "", score, dense, lexical
    )


def test_shared_words_alone_do_not_change_the_confidence() -> None:
    """Word overlap is in the score already; as a feature of its own it made paraphrases
    look unsure and answers that merely share words with the question sure."""
    runner_up = hit("damaged-item", 0.80, 0.40, 3.0)
    paraphrase = [hit("payment-methods", 1.0, 0.50, 0.0), runner_up]
    same_words = [replace(paraphrase[0], lexical=6.0), runner_up]
    model = ConfidenceModel()
    assert model.probability(paraphrase) == pytest.approx(model.probability(same_words))


def test_a_lead_over_the_runner_up_raises_the_confidence() -> None:
    top = hit("return-policy", 1.0, 0.55, 1.0)
    model = ConfidenceModel()
    tie = model.probability([top, hit("how-to-return", 0.98, 0.55, 1.0)])
    lead = model.probability([top, hit("how-to-return", 0.70, 0.35, 1.0)])
    passage_tie = model.probability([top, hit("how-to-return", 0.70, 0.55, 1.0)])
    assert tie < passage_tie < lead


def test_the_features_are_those_of_the_top_two_hits() -> None:
    hits = [hit("a", 1.2, 0.6, 2.0), hit("b", 0.9, 0.4, 0.0), hit("c", 0.1, 0.1, 0.0)]
    assert ConfidenceModel.features(hits) == pytest.approx([1.2, 0.3, 0.6, 0.2])
    assert ConfidenceModel().probability([]) == 0.0


def test_the_model_round_trips_with_its_feature_names(tmp_path: Path) -> None:
    model = ConfidenceModel([1.0, 2.0, 3.0, 4.0], -5.0, 0.42)
    model.save(tmp_path, {"fitted_on": {"related question": 3}})
    assert json.loads((tmp_path / CONFIDENCE_FILE).read_text())["features"] == list(
        ConfidenceModel.FEATURES
    )
    assert ConfidenceModel.load(tmp_path) == model


def test_a_model_fitted_on_other_features_names_the_rebuild(small_index: Path) -> None:
    """An index built by the previous version (top score, lead, BM25 of the passage)."""
    (small_index / CONFIDENCE_FILE).write_text(
        json.dumps({"coef": [3.9, 2.9, 3.2], "intercept": -5.0, "threshold": 0.53})
    )
    with pytest.raises(CorruptIndexError, match="make index"):
        Retriever(small_index).search("refund")


def test_an_unreadable_model_names_the_rebuild(small_index: Path) -> None:
    (small_index / CONFIDENCE_FILE).write_text("{")
    with pytest.raises(CorruptIndexError, match="make index"):
        Retriever(small_index).search("refund")


def test_an_index_without_a_model_uses_the_built_in_one(retriever: Retriever) -> None:
    assert retriever.confidence_model == ConfidenceModel()
    assert 0 < retriever.threshold < 1
