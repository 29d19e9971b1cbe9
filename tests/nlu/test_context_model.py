"""The context model: features, loading, and what reading a turn with its context changes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import nlu
from nlu import scorer as scorer_module
from nlu.context_model import (
    FEATURES,
    ContextModel,
    TurnContext,
    turn_features,
)
from nlu.errors import ModelNotFoundError
from nlu.scorer import EmotionScorer

FAILED_REPLY = "Sorry, I didn't quite get that. Could you rephrase?"


@pytest.fixture(scope="module")
def scorer() -> EmotionScorer:
    return EmotionScorer(backend="torch").warm_up()


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_features_ignore_the_context_that_is_flagged_absent() -> None:
    rng = np.random.default_rng(0)
    m, h, p, r = unit(rng, 2), unit(rng, 2), unit(rng, 2), unit(rng, 2)
    probs = rng.dirichlet(np.ones(5), size=2).astype(np.float32)
    earlier = rng.dirichlet(np.ones(5), size=2).astype(np.float32)
    lexical = rng.normal(size=(2, 5)).astype(np.float32)
    absent = np.zeros(2, bool)
    a = turn_features(m, h, probs, lexical, p, probs, lexical, r, absent, absent, earlier)
    b = turn_features(
        m,
        h,
        probs,
        lexical,
        unit(rng, 2),
        probs[::-1],
        -lexical,
        unit(rng, 2),
        absent,
        absent,
        earlier[::-1],
    )
    assert a.shape == (2, FEATURES)
    np.testing.assert_array_equal(a, b)
    present = np.ones(2, bool)
    full = turn_features(m, h, probs, lexical, p, probs, lexical, r, present, present, earlier)
    assert not np.array_equal(full, a)
    other = turn_features(m, h, probs, lexical, p, probs, lexical, r, present, present, probs)
    assert not np.array_equal(full[:, -5:], other[:, -5:])  # the previous turn's scores
    np.testing.assert_array_equal(full[:, :-5], other[:, :-5])


def test_a_missing_artifact_names_the_command_that_makes_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="make train-context"):
        ContextModel(tmp_path).probabilities(np.zeros((1, FEATURES), np.float32))


def test_probabilities_are_valid(scorer: EmotionScorer) -> None:
    rng = np.random.default_rng(1)
    probs = scorer.context_model.probabilities(rng.normal(size=(20, FEATURES)).astype(np.float32))
    assert probs.shape == (20, 5)
    assert np.allclose(probs[:, :3].sum(axis=1), 1.0, atol=1e-5)
    assert ((probs >= 0) & (probs <= 1)).all()
    assert scorer.context_model.probabilities(np.zeros((0, FEATURES), np.float32)).shape == (0, 5)


def test_without_context_the_message_model_scores(scorer: EmotionScorer) -> None:
    texts = ["where is my refund?", "thanks, that worked!"]
    assert scorer.score(texts) == [
        nlu.EmotionScores.from_row(row) for row in scorer.probabilities(texts)
    ]


def test_one_context_per_text(scorer: EmotionScorer) -> None:
    with pytest.raises(ValueError, match="2 texts but 1 contexts"):
        scorer.score(["a", "b"], [None])


def test_a_plea_after_a_failed_reply_reads_as_frustrated(scorer: EmotionScorer) -> None:
    first, after_failure = scorer.score(
        ["Can you help me?", "Can you help me?"],
        [None, TurnContext("My parcel never arrived.", FAILED_REPLY)],
    )
    assert after_failure.frustration > first.frustration + 0.25
    assert first.frustration < 0.3 and after_failure.frustration > 0.4


@pytest.mark.parametrize(
    "text",
    [
        "I would like to cancel",
        "I would like to cancel my Plus membership, please.",
        "I changed my mind, how do I return it?",
        pytest.param(
            "Please refund the rest of the order, I changed my mind about the other items.",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known gap (issue 15): this calm refund still reads as frustrated (0.58)",
            ),
        ),
    ],
)
def test_calm_cancellations_and_refunds_are_not_frustrated(
    scorer: EmotionScorer, text: str
) -> None:
    (s,) = scorer.score([text], [TurnContext("", "Hi! How can I help you today?")])
    assert s.frustration < 0.4


def test_a_problem_that_persists_is_frustrated_however_polite(scorer: EmotionScorer) -> None:
    (s,) = scorer.score(
        ["Hello, I have still not received my order, it has been two weeks now."],
        [TurnContext("", "Hi! How can I help you today?")],
    )
    assert s.frustration > 0.6


def test_context_scores_are_valid_for_odd_input(scorer: EmotionScorer) -> None:
    for s in scorer.score(
        ["", "😡", "x" * 5000], [TurnContext("", ""), TurnContext("🙂", ""), None]
    ):
        assert math.isclose(sum(s.sentiment.values()), 1.0, abs_tol=1e-3)
        assert 0 <= s.frustration <= 1 and 0 <= s.urgency <= 1


def test_context_texts_are_remembered_within_a_bound(
    scorer: EmotionScorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scorer_module, "MEMORY_SIZE", 3)
    fresh = EmotionScorer(encoder=scorer.encoder, backend="torch")
    fresh.vectors([f"message number {i}" for i in range(5)])
    assert len(fresh._memory) == 3
    calls = []
    real = fresh.encoder.compute
    monkeypatch.setattr(fresh.encoder, "compute", lambda texts: calls.append(texts) or real(texts))
    fresh.vectors(["message number 4"])
    assert calls == []


def test_nlu_score_takes_a_context() -> None:
    (s,) = nlu.score(
        ["Still nothing."], [nlu.TurnContext("Where is my parcel?", "It's on its way.")]
    )
    assert 0 <= s.frustration <= 1


def test_the_committed_model_was_trained_on_the_committed_conversations() -> None:
    from nlu.train_context import data_version

    assert ContextModel().config()["conversations_version"] == data_version(), (
        "data/emotion/conversations changed since nlu/artifacts/context was trained: "
        "run `make train-context`"
    )


URGENT = "My dress for the wedding TOMORROW still isn't here and I paid for next-day delivery."
ASK_ORDER = "I'm sorry to hear that. What's your order number?"


def test_the_previous_turns_scores_in_context_carry_urgency(scorer: EmotionScorer) -> None:
    calm = (0.1, 0.8, 0.1, 0.05, 0.02)
    urgent = (0.8, 0.15, 0.05, 0.6, 0.95)
    (after_calm, after_urgent) = scorer.score(
        ["BB-5588930", "BB-5588930"],
        [TurnContext(URGENT, ASK_ORDER, calm), TurnContext(URGENT, ASK_ORDER, urgent)],
    )
    assert after_urgent.urgency > after_calm.urgency + 0.1


def test_without_stored_scores_the_previous_turn_is_read_without_its_context(
    scorer: EmotionScorer,
) -> None:
    (previous,) = scorer.score([URGENT], [TurnContext()])
    (worked_out,) = scorer.score(["BB-5588930"], [TurnContext(URGENT, ASK_ORDER)])
    (given,) = scorer.score(["BB-5588930"], [TurnContext(URGENT, ASK_ORDER, previous.row())])
    np.testing.assert_allclose(worked_out.row(), given.row(), atol=1e-3)  # stored: 4 decimals


def test_previous_scores_must_be_a_whole_row(scorer: EmotionScorer) -> None:
    with pytest.raises(ValueError, match="previous_scores has 2 values"):
        scorer.score(["BB-5588930"], [TurnContext(URGENT, ASK_ORDER, (0.5, 0.5))])


def test_conversations_are_scored_turn_after_turn(scorer: EmotionScorer) -> None:
    texts = ["Where is my parcel?", "BB-1234567", "It was due yesterday!!", "hello"]
    contexts = [
        TurnContext("", "Hi! How can I help?"),
        TurnContext(texts[0], "What's your order number?"),
        TurnContext(texts[1], "It's on its way."),
        None,
    ]
    previous = [-1, 0, 1, -1]
    rows = scorer.in_conversations(texts, scorer.vectors(texts), contexts, previous)
    one_by_one: list[np.ndarray] = []
    for i, text in enumerate(texts):
        c = contexts[i]
        if previous[i] >= 0:
            assert c is not None
            c = TurnContext(
                c.previous_customer, c.last_reply, tuple(float(v) for v in one_by_one[previous[i]])
            )
        one_by_one.append(scorer.in_context([text], scorer.vectors([text]), [c])[0])
    np.testing.assert_allclose(rows, np.stack(one_by_one), atol=1e-6)
    with pytest.raises(ValueError, match="does not come before"):
        scorer.in_conversations(texts[:2], scorer.vectors(texts[:2]), contexts[:2], [1, -1])
