"""One reading of a tracker's events: turns, failures, transcript, forms, articles."""

from __future__ import annotations

from typing import Any

from core.constants import (
    KB_ANSWERED,
    KB_MISS,
    KB_NOT_HELPFUL,
    SLOT_HANDOFF_STATUS,
    SLOT_KB_ARTICLE,
    SLOT_KB_OUTCOME,
    SLOT_TONE,
)
from core.conversation import NO_ARTICLE, Conversation, Turn
from core.emotion import EmotionScores


def user(text: str, intent: str | None = None, **parse: Any) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": 100.0,
        "parse_data": {"intent": {"name": intent}, **parse},
    }


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def test_turns_read_scores_and_fallbacks() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        user(
            "where is my order",
            "order_status",
            emotion={
                "sentiment": {"negative": 0.6, "neutral": 0.3, "positive": 0.1},
                "frustration": 0.4,
                "urgency": 0.1,
            },
        ),
        {"event": "action", "name": "order_lookup_form"},
        user("/affirm", "affirm"),
        user("blah", "out_of_scope"),
        {"event": "action", "name": "action_default_fallback"},
    ]
    conversation = Conversation.from_events(events)
    assert [t.text for t in conversation.turns] == ["where is my order", "/affirm", "blah"]
    said = conversation.said
    assert [t.text for t in said] == ["where is my order", "blah"]
    assert said[0].frustration == 0.4 and said[0].negative == 0.6 and said[0].urgency == 0.1
    assert said[0].emotion.label == "negative"
    assert said[1].failed and not said[0].failed
    assert conversation.intents == ["order_status", "affirm", "out_of_scope"]


def test_a_turn_without_scores_reads_as_neutral_and_calm() -> None:
    (turn,) = Conversation.from_events([user("hello", "greet")]).turns
    assert turn.emotion == EmotionScores.neutral()
    broken = {"sentiment": "angry", "frustration": None}
    assert EmotionScores.from_stored(broken) == EmotionScores.neutral()
    assert EmotionScores.from_stored(None) == EmotionScores.neutral()


def test_fallback_intents_and_help_center_misses_are_failed_turns() -> None:
    events = [
        user("do you have an affiliate program", "ask_faq"),
        {"event": "action", "name": "action_answer_from_help_center"},
        slot(SLOT_KB_OUTCOME, KB_MISS),
        user("how long do refunds take", "ask_faq"),
        slot(SLOT_KB_ARTICLE, "refund-timing"),
        slot(SLOT_KB_OUTCOME, KB_ANSWERED),
        user("that doesn't answer my question", "not_helpful"),
        user("asdfgh", "nlu_fallback"),
    ]
    turns = Conversation.from_events(events).turns
    assert [t.failed for t in turns] == [True, False, True, True]


def test_articles_record_each_outcome_and_a_rejected_answer_replaces_it() -> None:
    events = [
        user("how long do refunds take", "ask_faq"),
        slot(SLOT_KB_ARTICLE, "refund-timing"),
        slot(SLOT_KB_OUTCOME, KB_ANSWERED),
        user("that doesn't help", "not_helpful"),
        slot(SLOT_KB_OUTCOME, KB_NOT_HELPFUL),
        slot(SLOT_KB_ARTICLE, "refund-status"),
        user("affiliate program?", "ask_faq"),
        slot(SLOT_KB_OUTCOME, KB_MISS),
    ]
    conversation = Conversation.from_events(events)
    assert conversation.articles == (
        ("refund-timing", KB_NOT_HELPFUL),
        (NO_ARTICLE, KB_MISS),
    )


def test_forms_are_recorded_with_whether_they_finished() -> None:
    events = [
        {"event": "active_loop", "name": "order_lookup_form"},
        {"event": "active_loop", "name": None},
        {"event": "active_loop", "name": "return_form"},
    ]
    assert Conversation.from_events(events).forms == (
        ("order_lookup_form", True),
        ("return_form", False),
    )


def test_transcript_has_typed_text_bot_and_agent_messages_in_order() -> None:
    events = [
        {"event": "bot", "text": "Hi! What can I help you with?", "timestamp": 1.0},
        user("where is my order", "order_status"),
        user("/request_human", "request_human"),  # a button: its title was already shown
        {"event": "bot", "text": None, "data": {"custom": {"text": "custom only"}}},
        {
            "event": "bot",
            "timestamp": 3.0,
            "data": {"custom": {"data": {"text": "Hi, I'm Ava.", "agent_name": "Ava"}}},
        },
        {"event": "bot", "text": "", "data": {}},  # nothing to show
    ]
    assert Conversation.from_events(events).transcript() == [
        {"sender": "bot", "text": "Hi! What can I help you with?", "timestamp": 1.0},
        {"sender": "customer", "text": "where is my order", "timestamp": 100.0},
        {"sender": "bot", "text": "custom only", "timestamp": None},
        {"sender": "agent", "text": "Hi, I'm Ava.", "timestamp": 3.0, "agent_name": "Ava"},
    ]


def test_entities_keep_distinct_values_in_order_and_the_issue_type() -> None:
    entity = [{"entity": "order_number", "value": "10234"}]
    events = [
        user("order 10234 is late", "delivery_problem", entities=entity),
        user(
            "10234 again",
            "delivery_problem",
            entities=[*entity, {"entity": "issue_type", "value": "late"}],
        ),
    ]
    conversation = Conversation.from_events(events)
    assert conversation.entities() == {"order_number": ["10234"], "issue_type": ["late"]}
    assert conversation.turns[0].issue is None and conversation.turns[1].issue == "late"


def test_replies_and_slots_are_counted_after_each_turn() -> None:
    events = [
        user("hi", "greet"),
        {"event": "bot", "text": "Hello"},
        user("this is awful", "complaint"),
        slot(SLOT_TONE, "empathetic"),
    ]
    first, last = Conversation.from_events(events).turns
    assert (first.replies, first.slots_set) == (1, ())
    assert (last.replies, last.slots_set) == (0, (SLOT_TONE,))


def test_the_current_part_starts_at_a_new_session_or_when_a_handoff_ends() -> None:
    events = [
        user("old session", "greet"),
        {"event": "session_started"},
        user("where is my refund", "request_refund"),
        slot(SLOT_HANDOFF_STATUS, "waiting"),
        user("hello??", "greet"),
        slot(SLOT_HANDOFF_STATUS, "claimed"),
        user("thanks Ava", "thanks"),
        slot(SLOT_HANDOFF_STATUS, "handed_back"),
        user("and my other order?", "order_status"),
    ]
    conversation = Conversation.from_events(events)
    assert [t.text for t in conversation.current] == ["and my other order?"]
    assert len(conversation.said) == 5
    held = Conversation.from_events(events[:7])
    assert [t.text for t in held.current] == ["where is my refund", "hello??", "thanks Ava"]


def test_scored_turns_for_tests_and_replays() -> None:
    turn = Turn.scored("hi", frustration=0.7, urgency=0.2, negative=0.5, intent="greet")
    assert (turn.frustration, turn.urgency, turn.negative, turn.intent) == (0.7, 0.2, 0.5, "greet")
    assert not turn.button and Turn("/affirm").button


def test_a_rejected_answer_or_the_same_question_again_is_a_failed_turn() -> None:
    events = [
        user("how long do refunds take", "ask_faq"),
        slot(SLOT_KB_ARTICLE, "refund-timing"),
        slot(SLOT_KB_OUTCOME, KB_ANSWERED),
        user("and when will the money be back on my card", "ask_faq"),  # asked again
        slot(SLOT_KB_OUTCOME, KB_NOT_HELPFUL),
        user("/not_helpful", "not_helpful"),  # the button
        slot(SLOT_KB_OUTCOME, KB_NOT_HELPFUL),
    ]
    conversation = Conversation.from_events(events)
    assert [t.failed for t in conversation.turns] == [False, True, True]
    assert conversation.articles == (("refund-timing", KB_NOT_HELPFUL),)


def test_a_typed_button_title_is_a_choice_not_words_with_emotion() -> None:
    confirm = {
        "event": "bot",
        "text": "Just to confirm: shall I cancel your Pantry Box subscription?",
        "data": {"buttons": [{"title": "Yes, cancel it", "payload": "/affirm"}]},
    }
    events = [
        user("please cancel my pantry box", "cancel_subscription"),
        confirm,
        user("yes cancel it!", "affirm", emotion={"frustration": 0.97}),
        user("Yes, cancel it", "affirm"),  # no button shown since the last turn: words
    ]
    conversation = Conversation.from_events(events)
    assert [t.button for t in conversation.turns] == [False, True, False]
    assert [t.text for t in conversation.current] == [
        "please cancel my pantry box",
        "Yes, cancel it",
    ]
    # It was typed, so the transcript shows it.
    assert "yes cancel it!" in [m["text"] for m in conversation.transcript()]
