"""The committed emotion model: valid scores for any input, and the cues it must know."""

from __future__ import annotations

import math

import pytest

import nlu
from core.emotion import SENTIMENT_LABELS, EmotionScores
from nlu.scorer import EmotionScorer


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
    calm = "Thanks, the parcel arrived today and everything is fine. " * 20  # > 128 pieces
    angry = "I am furious, this is unacceptable. " * 600  # 21,600 characters
    whole, head, tail = scorer.score([calm + angry, calm, angry])
    assert_valid(whole)
    # The message is cut at 128 word pieces and the rest is ignored: the angry tail, which
    # scores very differently on its own, changes nothing.
    assert whole == head
    assert (head.label, tail.label) == ("positive", "negative"), (head, tail)


def test_public_function_uses_the_int8_scorer(onnx_scorer: EmotionScorer) -> None:
    text = "Where is my refund?"
    assert nlu.score([text])[0] == onnx_scorer.score([text])[0]
    assert nlu.score([]) == []


# What the README promises for the int8 graph, and bounds that hold it on any x86 CPU.
#
# ONNX Runtime picks its int8 matrix kernels by CPUID. Two kinds give different numbers:
# exact int8 dot products (AMX, AVX-512 VNNI, AVX-VNNI, SSE4.1) and the AVX2 kernels of
# CPUs without VNNI, which add u8 x s8 products in saturating 16-bit pairs (AVX-512 without
# VNNI does the same; not measured: QEMU emulates no AVX-512).
# Single probabilities move a long way under quantisation (mean |torch - int8| 0.019 to
# 0.020, the largest 0.28 to 0.31), so the old bound on that mean (< 0.02) failed at 0.0203.
# The test asserts the promise itself: the ranking (AUROC) and the routing decisions.
#
# Measured on the own test split (238 messages; `pytest -s` prints the line), ORT 1.23.2:
#                               AUROC gap       decisions agree: pooled, worst single one
#   Xeon, AMX + AVX-512 VNNI    0.0016 / 0.0007  98.3% (16 of 952), 97.5% (frustration@0.5)
#   qemu -cpu Nehalem (SSE4.1)  0.0016 / 0.0007  98.3% (16 of 952), 97.5% (frustration@0.5)
#   qemu -cpu Haswell-v4 (AVX2) 0.0074 / 0.0008  98.5% (14 of 952), 97.9% (frustration@0.8)
#   (AUROC gap for frustration / urgency.) On the Xeon, graph optimisation off, basic or
#   all and 1 or 2 threads change the gaps by at most 0.0003 and one decision; batches of
#   1 instead of 64 (the activation scale spans the batch) give 0.0033 and 98.7% pooled.
# Bounds: an AUROC gap under 0.01 is the README's figure. It leaves 0.0026 (35% of the
# gap) on AVX2 without VNNI, the worst kind measured; the result on one kind of CPU is
# deterministic, so that margin is not eaten by noise, only by a different model or
# quantisation (re-measure then). Decisions (frustration and urgency on the same side of
# 0.5 and of 0.8) agree on at least 97% of the 4 x 238 message-decisions, pooled: 97% per
# decision would allow 7 flips where 6 were measured (one message from failing); pooled it
# allows 28 against 16. Each decision alone agrees on at least 95% (11 flips allowed, 6
# measured), so a regression in one decision cannot hide in the pool. Not the measure:
# whether a message keeps all four decisions (93.3% to 94.1% do).
AUROC_GAP = 0.01
DECISIONS_AGREE_POOLED = 0.97
DECISIONS_AGREE_EACH = 0.95


def test_int8_scorer_agrees_with_pytorch(scorer: EmotionScorer, onnx_scorer: EmotionScorer) -> None:
    """Quantisation moves single scores but keeps the ranking (AUROC within 0.01 of
    PyTorch) and the routing decisions (README, "Emotion scores")."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from nlu.datasets import own_examples

    examples = own_examples("test")
    exact = scorer.probabilities([e.text for e in examples])
    fast = onnx_scorer.probabilities([e.text for e in examples])
    gaps, agreement = {}, {}
    for column, task in ((3, "frustration"), (4, "urgency")):
        y = [getattr(e, task) for e in examples]
        gaps[task] = abs(roc_auc_score(y, exact[:, column]) - roc_auc_score(y, fast[:, column]))
        for threshold in (0.5, 0.8):
            same = (exact[:, column] >= threshold) == (fast[:, column] >= threshold)
            agreement[f"{task}@{threshold}"] = float(same.mean())
    pooled = float(np.mean(list(agreement.values())))  # every decision counts the same
    print(
        f"int8 vs torch on {len(examples)} messages: mean |d| {abs(exact - fast).mean():.4f}, "
        f"AUROC gaps {gaps}, decisions agree {pooled:.4f} pooled, {agreement}"
    )
    assert max(gaps.values()) < AUROC_GAP, gaps
    assert pooled >= DECISIONS_AGREE_POOLED, agreement
    assert min(agreement.values()) >= DECISIONS_AGREE_EACH, agreement
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


# fp32 PyTorch, padded in a batch or not: measured here the scores differ by at most
# 1.8e-7 for these texts and 1.0e-6 over the whole own test split (238 messages, batch of
# 64 against one by one), below the 1e-4 step the scores are rounded to. Other CPUs sum in
# another order (AVX2 or AVX-512 kernels), which moves fp32 results by the same ~1e-6, so
# 2e-3 (and 1e-3 below) leaves a margin of 10x over one rounding step and 1000x over the
# arithmetic; a real disagreement (the padding read as tokens) moves scores by 1e-2 or more.
def test_batch_and_single_scores_agree(scorer: EmotionScorer) -> None:
    texts = ["hi", "my package never arrived and nobody answers my emails", "thanks!"]
    batch = scorer.score(texts)
    for text, expected in zip(texts, batch, strict=True):
        (single,) = scorer.score([text])
        assert single.frustration == pytest.approx(expected.frustration, abs=2e-3)
        assert single.urgency == pytest.approx(expected.urgency, abs=2e-3)


def test_shared_encoding_gives_the_same_scores(scorer: EmotionScorer) -> None:
    # Measured here: identical (difference 0.0) for this text; 5e-5 at most over the own
    # test split scored from one batched encoding. See the bounds above.
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


PLAIN = "where is my refund? still waiting"
SOCIAL = "@user @BrightbasketHelp where is my refund? #still #waiting https://t.co/x1"


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_mentions_links_and_hashtags_do_not_change_the_scores(
    backend: str, scorer: EmotionScorer, onnx_scorer: EmotionScorer
) -> None:
    from nlu.text import normalise

    chosen = scorer if backend == "torch" else onnx_scorer
    assert normalise(SOCIAL) == PLAIN
    plain, social = chosen.score([PLAIN, SOCIAL])
    assert social == plain


def test_without_normalising_the_artefacts_would_change_the_scores(
    scorer: EmotionScorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What makes the scores above equal is the normalising, not a model that happens to
    ignore mentions, links and hashtags: scored as they are, they move frustration."""
    import nlu.scorer

    (plain,) = scorer.score([PLAIN])
    monkeypatch.setattr(nlu.scorer, "normalise", lambda text: text)
    (unchanged,) = scorer.score([PLAIN])
    assert unchanged == plain  # bypassing it leaves text without artefacts alone
    (raw,) = scorer.score([SOCIAL])
    # Measured: frustration 0.868 raw against 0.974 normalised (0.106 apart; fp32 noise is
    # 1e-6), so 0.01 is a tenth of the effect.
    assert abs(raw.frustration - plain.frustration) > 0.01, (raw, plain)


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
