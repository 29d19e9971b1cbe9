"""Help-center answers and emotion scores in real conversations (Rasa + action server)."""

from __future__ import annotations

import pytest

from core.constants import (
    KB_ANSWERED,
    KB_MISS,
    KB_NOT_HELPFUL,
    SLOT_FAILED_ANSWERS,
    SLOT_KB_ARTICLE,
    SLOT_KB_OUTCOME,
    SLOT_KB_SCORE,
)
from tests.conftest import RestChat, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_refund_timing_question_is_answered_with_the_article_and_its_link(
    stack, chat: RestChat
) -> None:
    answer = chat.say("how long do refunds take to show on my card")
    assert "https://help.brightbasket.example/articles/refund-timing" in answer
    assert "Source:" in answer
    assert len(answer) < 700  # the best passage, not the whole article
    slots = tracker_of(stack, chat.sender)["slots"]
    assert slots[SLOT_KB_ARTICLE] == "refund-timing"
    assert slots[SLOT_KB_OUTCOME] == KB_ANSWERED
    assert slots[SLOT_KB_SCORE] > 0


def test_question_the_help_center_cannot_answer_gets_the_honest_fallback(
    stack, chat: RestChat
) -> None:
    reply = chat.send("do you have an affiliate program for bloggers")
    text = "\n".join(m.get("text", "") for m in reply)
    assert "not sure" in text and "person" in text
    assert "Source:" not in text
    buttons = [b["payload"] for m in reply for b in m.get("buttons", [])]
    assert "/request_human" in buttons
    slots = tracker_of(stack, chat.sender)["slots"]
    assert slots[SLOT_KB_OUTCOME] == KB_MISS and slots[SLOT_FAILED_ANSWERS] >= 1


def test_that_did_not_help_counts_as_failed_and_offers_the_next_article(
    stack, chat: RestChat
) -> None:
    first = chat.say("are gift cards refundable")
    assert "Source:" in first
    before = tracker_of(stack, chat.sender)["slots"]
    shown = before[SLOT_KB_ARTICLE]
    follow_up = chat.say("that doesn't answer my question")
    assert "Sorry" in follow_up
    after = tracker_of(stack, chat.sender)["slots"]
    assert after[SLOT_KB_OUTCOME] == KB_NOT_HELPFUL
    assert after[SLOT_FAILED_ANSWERS] == (before[SLOT_FAILED_ANSWERS] or 0) + 1
    # The help center has a second article on this (gift cards, then items that cannot
    # be returned): it is offered, never the same one again, and so is a person.
    assert "Source:" in follow_up and after[SLOT_KB_ARTICLE] not in (None, shown)
    assert "talk to a person" in follow_up


def test_every_user_turn_carries_its_emotion_scores(stack, chat: RestChat) -> None:
    chat.say("Where is my refund?")
    chat.say("This is the THIRD time I'm asking, where is my refund??")
    events = tracker_of(stack, chat.sender)["events"]
    turns = [e for e in events if e["event"] == "user"]
    assert len(turns) == 2
    scores = [t["parse_data"]["emotion"] for t in turns]
    for s in scores:
        assert set(s["sentiment"]) == {"negative", "neutral", "positive"}
        assert abs(sum(s["sentiment"].values()) - 1) < 1e-3
        assert 0 <= s["frustration"] <= 1 and 0 <= s["urgency"] <= 1
    assert scores[1]["frustration"] > scores[0]["frustration"]
    assert "knowledge" in turns[0]["parse_data"]
