"""The Rasa component writes the three scores into parse data, reusing the shared encoding."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from core.constants import EMOTION, SHARED_ENCODING
from nlu.emotion_component import EmotionScorerComponent
from nlu.scorer import EmotionScorer


@pytest.fixture(scope="module")
def component() -> EmotionScorerComponent:
    return EmotionScorerComponent(EmotionScorer().warm_up())


def test_scores_are_written_as_output(component: EmotionScorerComponent) -> None:
    text = "someone just used my card in another country"
    message = Message(data={"text": text})
    message.set(SHARED_ENCODING, component.scorer.encoder.encode([text]))
    component.process([message])
    scores = message.get(EMOTION)
    assert set(scores) == {"sentiment", "frustration", "urgency"}
    assert scores["urgency"] > 0.5
    assert EMOTION in message.as_dict(only_output_properties=True)


def test_without_a_shared_encoding_it_encodes_itself(component: EmotionScorerComponent) -> None:
    message = Message(data={"text": "thanks, all sorted!"})
    component.process([message])
    assert message.get(EMOTION)["sentiment"]["positive"] > 0.5


def test_empty_text_gets_valid_scores(component: EmotionScorerComponent) -> None:
    message = Message(data={"text": ""})
    component.process([message])
    assert abs(sum(message.get(EMOTION)["sentiment"].values()) - 1) < 1e-3


def test_a_message_with_mentions_is_scored_on_its_normalised_text(
    component: EmotionScorerComponent,
) -> None:
    text = "@BrightbasketHelp someone just used my card in another country #fraud"
    message = Message(data={"text": text})
    message.set(SHARED_ENCODING, component.scorer.encoder.encode([text]))
    component.process([message])
    (expected,) = component.scorer.score(["someone just used my card in another country fraud"])
    assert message.get(EMOTION) == expected.as_dict()


def test_the_committed_model_reads_the_shared_encoders_branch(
    component: EmotionScorerComponent,
) -> None:
    """Otherwise every message would be encoded twice inside Rasa."""
    from nlu.encoder import shared_encoder

    text = "where is my refund?"
    encoding = shared_encoder().encode([text])
    assert component.scorer.heads.branch_layer == encoding.branch_layer
    assert component.scorer.can_reuse(text, encoding)
