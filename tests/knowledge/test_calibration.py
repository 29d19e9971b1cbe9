"""Calibration questions (made from the help center and public train splits) and the fit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from knowledge.calibration import (
    BANKING77,
    CLINC_OOS,
    CLINC_TRAIN,
    HEADING,
    RELATED,
    RETYPED,
    CalibrationQuestion,
    fit_confidence,
    help_center_questions,
    out_of_scope_questions,
    retyped,
)
from knowledge.retriever import ConfidenceModel, Retriever

# Written for these tests: nothing a shop's help center answers.
OFF_TOPIC = [
    "set an alarm for six tomorrow morning",
    "play some relaxing jazz",
    "how many tablespoons are in a cup",
    "book a table for two at an italian place",
    "what is the boiling point of water in fahrenheit",
    "translate good morning into german",
    "remind me to water the plants",
    "how far is the moon from the earth",
]


def test_related_questions_are_asked_without_their_own_entry(retriever: Retriever) -> None:
    related = [q for q in help_center_questions(retriever.index) if q.source == RELATED]
    assert [(q.text, q.article_id) for q in related] == [
        ("when will my refund show on my card", "refund-timing")
    ]
    (position,) = related[0].exclude
    assert retriever.index.passages[position].text == related[0].text
    embedding = retriever.encoder.embed([related[0].text])[0]
    itself = retriever.search_embedding(related[0].text, embedding, k=2)
    without = retriever.search_embedding(
        related[0].text, embedding, k=2, exclude=related[0].exclude
    )
    assert itself[0].article_id == without[0].article_id == "refund-timing"
    assert without[0].score < itself[0].score  # it no longer finds its own wording


def test_titles_headings_and_retyped_questions_are_in_scope(retriever: Retriever) -> None:
    questions = help_center_questions(retriever.index)
    topics = {(q.text, q.article_id) for q in questions if q.source == HEADING}
    assert ("how long do refunds take", "refund-timing") in topics
    assert ("card refund timing", "refund-timing") in topics
    assert ("reset link", "password-reset") in topics
    assert [q.article_id for q in questions if q.source == RETYPED] == ["refund-timing"]
    assert all(not q.exclude for q in questions if q.source != RELATED)


def test_retyped_reads_like_chat_and_is_stable() -> None:
    text = "What's your return window? Please tell me"
    typed = retyped(text)
    assert typed == retyped(text)
    assert typed == typed.lower() and "?" not in typed and "," not in typed
    assert len(typed.split()) == len(text.split())


def test_no_shared_data_means_no_out_of_scope_questions(tmp_path: Path) -> None:
    assert out_of_scope_questions(tmp_path) == []


def test_out_of_scope_questions_come_from_train_splits_of_off_topic_intents(
    tmp_path: Path,
) -> None:
    (tmp_path / "clinc150").mkdir()
    (tmp_path / "clinc150" / "train_val.json").write_text(
        json.dumps(
            {
                "train": [
                    ["set a timer for ten minutes", "timer"],
                    ["where is my order", "order_status"],
                ],
                "val": [["wake me at seven", "alarm"]],
                "oos_train": [["how do i grow tomatoes", "oos"]],
                "oos_val": [["who painted the mona lisa", "oos"]],
            }
        )
    )
    (tmp_path / "banking77").mkdir()
    with (tmp_path / "banking77" / "train.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerows(
            [
                ["text", "category"],
                ["how do i top up by bank transfer", "top_up_by_bank_transfer_charge"],
                ["i was charged twice for one purchase", "transaction_charged_twice"],
            ]
        )
    questions = out_of_scope_questions(tmp_path, clinc150_share=1.0, banking77_share=1.0)
    assert {(q.text, q.source) for q in questions} == {
        ("how do i grow tomatoes", CLINC_OOS),
        ("set a timer for ten minutes", CLINC_TRAIN),
        ("how do i top up by bank transfer", BANKING77),
    }
    assert all(q.article_id is None for q in questions)


def test_nothing_out_of_scope_leaves_the_built_in_model(retriever: Retriever) -> None:
    assert fit_confidence(retriever, help_center_questions(retriever.index)) is None


@pytest.mark.slow
def test_the_fitted_model_answers_the_help_center_and_declines_the_rest(
    retriever: Retriever,
) -> None:
    questions = help_center_questions(retriever.index) + [
        CalibrationQuestion(text, None, "off topic") for text in OFF_TOPIC
    ]
    fitted = fit_confidence(retriever, questions)
    assert fitted is not None
    assert len(fitted.model.coef) == len(ConfidenceModel.FEATURES)
    assert 0 < fitted.model.threshold < 1 and fitted.precision >= 0.9
    assert fitted.counts == {RELATED: 1, RETYPED: 1, HEADING: 7, "off topic": len(OFF_TOPIC)}
    inside = fitted.model.probability(retriever.search("card refund timing", k=3))
    outside = fitted.model.probability(retriever.search("play some relaxing jazz", k=3))
    assert outside < fitted.model.threshold <= inside
    assert fitted.report()["fitted_on"] == fitted.counts
