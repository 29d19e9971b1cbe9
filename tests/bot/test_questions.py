"""The forms' questions: words, not slugs, and a way out while the customer is upset."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.questions import (
    PERSON_BUTTON,
    QUESTIONS,
    ActionAskIssueType,
    ActionAskOrderNumber,
    ActionAskPlan,
    ActionAskRefundReason,
)
from core.constants import SLOT_REQUEST_TYPE, SLOT_TONE, TONE_EMPATHETIC
from tests.conftest import run_async


def ask(action, **slots) -> dict:
    tracker = Tracker("c1", slots, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert run_async(action.run(dispatcher, tracker, {})) == []
    (message,) = dispatcher.messages
    return message


def test_the_order_number_question_always_offers_a_person() -> None:
    message = ask(ActionAskOrderNumber())
    assert "5-digit" in message["text"] and message["buttons"] == [PERSON_BUTTON]
    assert ActionAskOrderNumber().name() == "action_ask_order_number"


def test_an_upset_customer_gets_the_gentler_question_and_a_way_out() -> None:
    calm = ask(ActionAskIssueType())
    upset = ask(ActionAskIssueType(), **{SLOT_TONE: TONE_EMPATHETIC})
    assert PERSON_BUTTON not in calm["buttons"] and PERSON_BUTTON in upset["buttons"]
    assert upset["text"] != calm["text"] and len(upset["buttons"]) == 4


@pytest.mark.parametrize("request_type", ["refund", "return"])
def test_the_reason_question_names_the_request(request_type: str) -> None:
    message = ask(ActionAskRefundReason(), **{SLOT_REQUEST_TYPE: request_type})
    assert f"reason for the {request_type}?" in message["text"]


def test_questions_never_apologise_when_nothing_went_wrong() -> None:
    for question in QUESTIONS.values():
        for text in (question.plain, question.upset):
            assert "sorry" not in text.lower(), text


def test_plan_buttons_show_words_and_carry_the_slug() -> None:
    buttons = ask(ActionAskPlan())["buttons"]
    assert [b["title"] for b in buttons] == ["Pantry Box", "Brightbasket Plus"]
    assert buttons[0]["payload"] == '/cancel_subscription{"plan": "pantry_box"}'
