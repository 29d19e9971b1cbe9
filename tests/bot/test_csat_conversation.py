"""CSAT in a real conversation: the rating after goodbye, its comment, and the facts the
lead workspace reads (Rasa, action server and web front, through the event broker)."""

from __future__ import annotations

import time

import pytest

from core.constants import SLOT_CSAT_COMMENT, SLOT_CSAT_SCORE
from insights.facts import FactsStore
from tests.conftest import RestChat, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def facts_of(stack, sender: str, until: float = 20.0):
    """The sender's conversation once the web front's consumer has applied its rating."""
    store = FactsStore(stack.settings.store_url, stack.settings.identity_secret.encode())
    try:
        deadline = time.monotonic() + until
        while time.monotonic() < deadline:
            found = store.for_sender(sender)
            if found and found[-1].csat_comment:
                return found[-1]
            time.sleep(0.2)
        return store.for_sender(sender)[-1] if store.for_sender(sender) else None
    finally:
        store.close()


def test_goodbye_after_a_request_asks_for_a_rating_and_keeps_the_comment(
    stack, chat: RestChat
) -> None:
    chat.say("how long do refunds take to show on my card")
    goodbye = chat.send("that's all, bye")
    buttons = [b["payload"] for m in goodbye for b in m.get("buttons", [])]
    assert len([p for p in buttons if p.startswith("/rate_service")]) == 5
    thanks = chat.say('/rate_service{"csat_score": 4}')
    assert "Anything you'd like to add" in thanks
    assert "passed that on" in chat.say("the refund article was clear, thanks")
    slots = tracker_of(stack, chat.sender)["slots"]
    assert slots[SLOT_CSAT_SCORE] == 4
    assert slots[SLOT_CSAT_COMMENT] == "the refund article was clear, thanks"
    facts = facts_of(stack, chat.sender)
    assert facts is not None
    assert (facts.csat, facts.csat_comment, facts.csat_asked) == (
        4,
        "the refund article was clear, thanks",
        True,
    )
    assert facts.kb_answered == 1 and not facts.escalated and facts.closed_at is not None
    assert facts.turns == 3  # the question, goodbye, the comment; not the click
    # A second goodbye does not ask again.
    again = chat.send("bye")
    assert not [b for m in again for b in m.get("buttons", []) if "rate_service" in b["payload"]]


def test_a_typed_rating_counts_after_the_question_and_not_before(stack, chat: RestChat) -> None:
    early = chat.say("5 stars")  # nobody asked yet: not recorded
    assert "anything else" in early.lower()
    chat.say("how long do refunds take to show on my card")
    chat.send("ok that's everything, bye")
    assert "Anything you'd like to add" in chat.say("i'd give you a 4 out of 5")
    assert tracker_of(stack, chat.sender)["slots"][SLOT_CSAT_SCORE] == 4
