"""The committed emotion model: valid scores for any input, and the cues it must know."""

from __future__ import annotations

import math

import pytest

import nlu
from nlu.scorer import EmotionScorer
from nlu.scores import SENTIMENT_LABELS, EmotionScores


@pytest.fixture(scope="module")
def scorer() -> EmotionScorer:
    return EmotionScorer(backend="torch").warm_up()


@pytest.fixture(scope="module")
def onnx_scorer() -> EmotionScorer:
    from nlu.onnx_scorer import is_current

    assert is_current(), "the int8 ONNX scorer is missing or stale: run `make setup`"
    return EmotionScorer(backend="onnx").warm_up()


def assert_valid(s: EmotionScores) -> None:
    assert set(s.sentiment) == set(SENTIMENT_LABELS)
    assert math.isclose(sum(s.sentiment.values()), 1.0, abs_tol=1e-3)
    for p in (*s.sentiment.values(), s.frustration, s.urgency):
        assert 0.0 <= p <= 1.0 and math.isfinite(p)


ODD_INPUTS = [
    "",
    "   ",
    "😡😡😡",
    "🙂",
    "¿Dónde está mi pedido? Llevo dos semanas esperando",
    "Wo ist meine Bestellung?",
    "我的订单在哪里",
    "wHeRe Is My OrDeR",
    "WHERE IS MY ORDER",
    "refund " * 3000,  # about 20,000 characters
    "\x00\x01 control \u200b characters",
]


def test_every_input_gets_valid_scores(scorer: EmotionScorer) -> None:
    scores = scorer.score(ODD_INPUTS)
    assert len(scores) == len(ODD_INPUTS)
    for s in scores:
        assert_valid(s)


def test_long_input_is_truncated_not_rejected(scorer: EmotionScorer) -> None:
    long = "I am furious, this is unacceptable. " * 600  # 21,600 characters
    whole, head = scorer.score([long, long[:2000]])  # 2,000 characters are > 128 word pieces
    assert_valid(whole)
    assert whole == head  # the message is cut at 128 word pieces; the rest is ignored


def test_public_function_uses_the_int8_scorer(onnx_scorer: EmotionScorer) -> None:
    text = "Where is my refund?"
    assert nlu.score([text])[0] == onnx_scorer.score([text])[0]
    assert nlu.score([]) == []


def test_int8_scorer_agrees_with_pytorch(scorer: EmotionScorer, onnx_scorer: EmotionScorer) -> None:
    """Quantisation moves single scores a little but keeps the ranking (AUROC) intact."""
    from sklearn.metrics import roc_auc_score

    from nlu.datasets import own_examples

    examples = own_examples("test")
    exact = scorer.probabilities([e.text for e in examples])
    fast = onnx_scorer.probabilities([e.text for e in examples])
    assert abs(exact - fast).mean() < 0.02
    for column, task in ((3, "frustration"), (4, "urgency")):
        y = [getattr(e, task) for e in examples]
        assert abs(roc_auc_score(y, exact[:, column]) - roc_auc_score(y, fast[:, column])) < 0.02
    for s in onnx_scorer.score(ODD_INPUTS):
        assert_valid(s)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_done_when_examples_hold_on_both_backends(
    backend: str, scorer: EmotionScorer, onnx_scorer: EmotionScorer
) -> None:
    chosen = scorer if backend == "torch" else onnx_scorer
    repeated, plain, fraud, update = chosen.score(
        [
            "This is the THIRD time I'm asking, where is my refund??",
            "Where is my refund?",
            "someone just used my card in another country",
            "how do I update my card?",
        ]
    )
    assert repeated.frustration > plain.frustration
    assert fraud.urgency > update.urgency


def test_repetition_raises_frustration(scorer: EmotionScorer) -> None:
    repeated, plain = scorer.score(
        ["This is the THIRD time I'm asking, where is my refund??", "Where is my refund?"]
    )
    assert repeated.frustration > plain.frustration
    assert repeated.frustration > 0.5


def test_fraud_is_more_urgent_than_a_card_update(scorer: EmotionScorer) -> None:
    fraud, update = scorer.score(
        ["someone just used my card in another country", "how do I update my card?"]
    )
    assert fraud.urgency > update.urgency
    assert fraud.urgency > 0.5 > update.urgency


def test_sentiment_polarity(scorer: EmotionScorer) -> None:
    happy, angry = scorer.score(
        ["Thank you so much, that was really helpful!", "This is the worst service ever."]
    )
    assert happy.label == "positive"
    assert angry.label == "negative"


def test_batch_and_single_scores_agree(scorer: EmotionScorer) -> None:
    texts = ["hi", "my package never arrived and nobody answers my emails", "thanks!"]
    batch = scorer.score(texts)
    for text, expected in zip(texts, batch, strict=True):
        (single,) = scorer.score([text])
        assert single.frustration == pytest.approx(expected.frustration, abs=2e-3)
        assert single.urgency == pytest.approx(expected.urgency, abs=2e-3)


def test_shared_encoding_gives_the_same_scores(scorer: EmotionScorer) -> None:
    text = "I was charged twice and I'm really annoyed"
    encoding = scorer.encoder.encode([text])
    (shared,) = scorer.score_encoding(encoding)
    (alone,) = scorer.score([text])
    assert shared.frustration == pytest.approx(alone.frustration, abs=1e-3)
    assert shared.sentiment["negative"] == pytest.approx(alone.sentiment["negative"], abs=1e-3)


def test_missing_model_names_the_fix(tmp_path) -> None:
    from nlu.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="make train-emotion"):
        EmotionScorer(model_dir=tmp_path).score(["hello"])


def test_corrupt_model_names_the_fix(tmp_path) -> None:
    from nlu.errors import ArtifactError

    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ArtifactError, match="make train-emotion"):
        EmotionScorer(model_dir=tmp_path).score(["hello"])


def test_mentions_links_and_hashtags_do_not_change_the_scores(scorer: EmotionScorer) -> None:
    plain, social = scorer.score(
        [
            "where is my refund? still waiting",
            "@user @BrightbasketHelp where is my refund? #still #waiting https://t.co/x1",
        ]
    )
    assert social == plain


def test_an_encoding_from_another_branch_layer_is_refused(scorer: EmotionScorer) -> None:
    from nlu.encoder import SharedEncoder

    other = scorer.heads.branch_layer - 1
    encoding = SharedEncoder(branch_layer=other).encode(["where is my refund?"])
    assert not scorer.can_reuse("where is my refund?", encoding)
    with pytest.raises(ValueError, match=f"after layer {other}.*Score the text with `score`"):
        scorer.score_encoding(encoding)


def test_the_committed_artifacts_stay_small() -> None:
    from nlu.emotion_model import ARTIFACT_DIR

    total = sum(p.stat().st_size for p in ARTIFACT_DIR.parent.rglob("*") if p.is_file())
    assert total <= 25_000_000, f"nlu/artifacts holds {total / 1e6:.1f} MB; the limit is 25 MB"


def test_a_late_parcel_is_urgent_only_with_a_deadline(scorer: EmotionScorer) -> None:
    """Lateness alone goes through the normal queue; a deadline makes it urgent."""
    late, deadline = scorer.score(
        [
            "my order from last week is late",
            "my order from last week is late and I need it for a funeral tomorrow morning",
        ]
    )
    assert late.urgency < 0.5 < deadline.urgency
