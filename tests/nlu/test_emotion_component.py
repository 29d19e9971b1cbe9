"""The Rasa component writes the three scores into parse data, reusing the shared encoding."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from core.constants import EMOTION, EMOTION_IN_CONTEXT, SHARED_ENCODING
from nlu.context_model import TurnContext
from nlu.emotion_component import EmotionScorerComponent, turn_context
from nlu.scorer import EmotionScorer


@pytest.fixture(scope="module")
def component() -> EmotionScorerComponent:
    # As `create` builds it inside Rasa: the float32 scorer, not the int8 batch graph.
    return EmotionScorerComponent(EmotionScorer(backend="torch").warm_up())


def test_scores_are_written_as_output(component: EmotionScorerComponent) -> None:
    text = "someone just used my card in another country"
    message = Message(data={"text": text})
    message.set(SHARED_ENCODING, component.scorer.encoder.encode([text]))
    component.process([message])
    scores = message.get(EMOTION)
    assert set(scores) == {"sentiment", "frustration", "urgency"}
    assert scores["urgency"] > 0.5
    output = message.as_dict(only_output_properties=True)
    assert EMOTION in output and EMOTION_IN_CONTEXT in output


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
    stored = message.get(EMOTION)
    assert stored["urgency"] == pytest.approx(expected.urgency, abs=1e-3)
    assert stored["frustration"] == pytest.approx(expected.frustration, abs=1e-3)
    assert stored["sentiment"] == pytest.approx(expected.sentiment, abs=1e-3)


def test_the_committed_model_reads_the_shared_encoders_branch(
    component: EmotionScorerComponent,
) -> None:
    """Otherwise every message would be encoded twice inside Rasa."""
    from nlu.encoder import shared_encoder

    text = "where is my refund?"
    encoding = shared_encoder().encode([text])
    assert component.scorer.heads.branch_layer == encoding.branch_layer
    assert component.scorer.can_reuse(text, encoding)


def tracker(*events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c-1", list(events))


def test_the_context_is_the_previous_message_and_the_last_reply() -> None:
    """As the labelled conversations give them to training: the reply right before."""
    t = tracker(
        ActionExecuted("action_session_start"),
        SessionStarted(),
        UserUttered("My parcel never arrived."),
        BotUttered("Let me look."),
        ActionExecuted("action_listen"),
        BotUttered("Sorry, I didn't quite get that."),
    )
    assert turn_context(t) == TurnContext(
        "My parcel never arrived.", "Sorry, I didn't quite get that."
    )


def test_undone_events_and_button_payloads_are_not_context() -> None:
    restarted = tracker(UserUttered("my card was stolen"), BotUttered("Blocked."), Restarted())
    assert turn_context(restarted) == TurnContext("", "")
    rewound = tracker(
        ActionExecuted("action_listen"),
        UserUttered("where is my parcel"),
        BotUttered("On its way."),
        ActionExecuted("action_listen"),
        UserUttered("nonsense"),
        UserUtteranceReverted(),
    )
    assert turn_context(rewound) == TurnContext("where is my parcel", "On its way.")
    clicked = tracker(
        UserUttered("my parcel never came"),
        BotUttered("Shall I get a person?"),
        UserUttered("/affirm"),
        BotUttered("Bringing in a person."),
    )
    assert turn_context(clicked) == TurnContext("my parcel never came", "Bringing in a person.")


def test_the_previous_message_brings_its_stored_scores_in_context() -> None:
    stored = {
        "sentiment": {"negative": 0.7, "neutral": 0.2, "positive": 0.1},
        "frustration": 0.4,
        "urgency": 0.9,
    }
    t = tracker(
        UserUttered("the toaster is sparking!!", parse_data={EMOTION_IN_CONTEXT: stored}),
        BotUttered("Please unplug it. What's the order number?"),
    )
    assert turn_context(t).previous_scores == (0.7, 0.2, 0.1, 0.4, 0.9)
    broken = tracker(
        UserUttered("the toaster is sparking!!", parse_data={EMOTION_IN_CONTEXT: {"x": 1}}),
    )
    assert turn_context(broken) == TurnContext("the toaster is sparking!!", "")


def test_a_new_session_has_no_previous_message() -> None:
    t = tracker(UserUttered("old problem"), SessionStarted(), BotUttered("Welcome back!"))
    assert turn_context(t) == TurnContext("", "Welcome back!")


def test_the_stored_score_reads_the_message_with_its_context(
    component: EmotionScorerComponent,
) -> None:
    def frustration(t: DialogueStateTracker | None) -> float:
        message = Message(data={"text": "Can you help me?"})
        component.process([message], t)
        (alone,) = component.scorer.score(["Can you help me?"])
        assert message.get(EMOTION)["frustration"] == pytest.approx(alone.frustration, abs=1e-3)
        return message.get(EMOTION_IN_CONTEXT)["frustration"]

    failed = tracker(
        UserUttered("My parcel never arrived."),
        BotUttered("Sorry, I didn't quite get that. Could you rephrase?"),
    )
    assert frustration(failed) > frustration(None) + 0.2
