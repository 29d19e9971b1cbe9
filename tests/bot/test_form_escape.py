"""A way out of every question: asking for a person, a question, "stop", or a decision to
hand over, in the middle of a form, through the real Rasa, action and web servers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.constants import SLOT_HANDOFF_STATUS, SLOT_ROUTING_DECISION
from tests.conftest import RestChat, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HANDOFF = "bringing in a person"
FORM_REPROMPTS = ("Order numbers have 5 digits", "doesn't look like an email")
APOLOGY = re.compile(r"\b(sorry|apologi[sz]e)", re.IGNORECASE)


def slots(stack, sender: str) -> dict[str, Any]:
    tracker = tracker_of(stack, sender)
    return {**tracker["slots"], "active_loop": (tracker.get("active_loop") or {}).get("name")}


def assert_handed_over(reply: str) -> None:
    assert HANDOFF in reply, reply
    assert not any(p in reply for p in FORM_REPROMPTS), reply


@pytest.mark.parametrize(
    "words",
    ["I want to talk to a person", "/request_human", "can a real human take over please"],
)
def test_asking_for_a_person_at_the_order_number_question_hands_over(
    stack, chat: RestChat, words: str
) -> None:
    assert "order number" in chat.say("where is my order?")
    assert_handed_over(chat.say(words))
    state = slots(stack, chat.sender)
    assert state["active_loop"] is None and state[SLOT_HANDOFF_STATUS] == "waiting"


def test_asking_for_a_person_at_the_email_question_hands_over(stack, chat: RestChat) -> None:
    chat.say("where is my order?")
    assert "email" in chat.say("10234")
    assert_handed_over(chat.say("let me speak to someone from your team"))
    assert slots(stack, chat.sender)["active_loop"] is None


def test_a_question_inside_a_form_is_answered_and_the_form_goes_on(chat: RestChat) -> None:
    chat.say("where is my order?")
    reply = chat.say("how long do refunds take to show on my card")
    assert "Source:" in reply, reply  # the help-center answer with its source
    assert "order number" in reply  # then the form's question again
    assert not any(p in reply for p in FORM_REPROMPTS), reply


def test_stop_inside_a_form_ends_it(stack, chat: RestChat) -> None:
    chat.say("I want to return something")
    reply = chat.say("oh never mind, I will sort it out myself")
    assert "stopped" in reply, reply
    assert slots(stack, chat.sender)["active_loop"] is None


def test_a_decision_to_hand_over_is_carried_out_inside_a_form(stack, chat: RestChat) -> None:
    """Distress reaches the threshold while the form waits for an order number: the form
    ends, the customer is told a person is coming, at high priority."""
    chat.say("where is my order?")
    chat.say("this is ridiculous, it was supposed to be here a week ago and nobody helps")
    reply = chat.say("I ALREADY told you!! This is the THIRD time I'm asking, WHERE IS MY ORDER??")
    assert_handed_over(reply)
    state = slots(stack, chat.sender)
    decision = state[SLOT_ROUTING_DECISION]
    assert decision["action"] == "escalate", decision
    assert decision["priority"] in ("high", "urgent"), decision
    assert state["active_loop"] is None


def test_a_calm_request_gets_no_apology(chat: RestChat) -> None:
    reply = chat.say("I want to return something")
    assert "order number" in reply
    assert not APOLOGY.search(reply), reply


def test_the_subscription_question_names_the_plan_in_words(chat: RestChat) -> None:
    chat.say("cancel my pantry box")
    assert "6-digit code" in chat.say("marcus.lee@example.com")
    reply = chat.say_code()  # his Pantry Box is active (seed S503)
    assert "shall I cancel your Pantry Box subscription?" in reply, reply
    assert "pantry_box" not in reply


def test_typing_a_buttons_label_means_what_the_button_means(stack, chat: RestChat) -> None:
    # "No, keep it" typed, not clicked (the typed "Yes, cancel it" changes the store, so the
    # scripted conversations, on a stack of their own, cover it).
    chat.say("cancel my pantry box")
    chat.say("marcus.lee@example.com")
    chat.say_code()
    reply = chat.say("No, keep it")
    assert "Pantry Box stays active" in reply, reply
    state = slots(stack, chat.sender)
    assert state["handoff_status"] is None and state["active_loop"] is None, reply


def test_a_bare_order_number_outside_a_form_looks_the_order_up(stack, chat: RestChat) -> None:
    reply = chat.say("10311")
    assert "didn't quite get that" not in reply, reply
    assert "email" in reply, reply  # the lookup goes on: who is asking?
    state = slots(stack, chat.sender)
    assert state["active_loop"] == "order_lookup_form" and state["order_number"] == "10311"
    assert not state["failed_answers"]


def test_a_bare_email_outside_a_form_asks_what_they_need(stack, chat: RestChat) -> None:
    reply = chat.say("marcus.lee@example.com")
    assert "What can I help you with" in reply, reply
    assert not slots(stack, chat.sender)["failed_answers"]
