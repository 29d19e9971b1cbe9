"""Complaints, and what happens when the bot doesn't understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import SupportAction, customer_key, get_store
from bot.actions.knowledge import answer_from_help_center, failed
from bot.actions.questions import PERSON_BUTTON
from bot.store.models import CASE_COMPLAINT
from core.constants import (
    ACTION_DEFAULT_FALLBACK,
    ACTION_RECORD_COMPLAINT,
    INTENT_REQUEST_HUMAN,
    SLOT_CUSTOMER_ID,
    SLOT_OPEN_CASE_ID,
    SLOT_ORDER_NUMBER,
    SLOT_TONE,
    TONE_EMPATHETIC,
)

NOT_UNDERSTOOD = (
    "Sorry, I didn't quite get that. I can help with orders, deliveries, returns and refunds, "
    "billing, subscriptions and your account — could you say it another way?"
)
NOT_UNDERSTOOD_UPSET = (
    "I'm sorry, I didn't understand that, and I know that's frustrating. Could you say it "
    "another way — or shall I get you a person?"
)


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


class ActionRecordComplaint(SupportAction):
    def name(self) -> str:
        return ACTION_RECORD_COMPLAINT

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        case = get_store().open_case(
            customer_key(tracker),
            CASE_COMPLAINT,
            f'Customer complaint: "{latest_text(tracker)[:300]}"',
            order_number=tracker.get_slot(SLOT_ORDER_NUMBER),
            customer_id=tracker.get_slot(SLOT_CUSTOMER_ID),
        )
        dispatcher.utter_message(
            text="I'm really sorry we let you down. I've recorded this for our customer "
            f"experience team (case #{case.id}). Would you like me to bring in a person?",
            buttons=[
                {"title": "Yes, a person please", "payload": f"/{INTENT_REQUEST_HUMAN}"},
            ],
        )
        return [SlotSet(SLOT_OPEN_CASE_ID, case.id)]


class ActionDefaultFallback(SupportAction):
    """Answer from the help center if it is confident; else ask to rephrase, and after
    two misunderstandings in a row, offer a person."""

    def name(self) -> str:
        return ACTION_DEFAULT_FALLBACK

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        answered = answer_from_help_center(dispatcher, tracker)
        if answered is not None:
            return answered  # the help center understood what the intent classifier didn't
        if consecutive_fallbacks(tracker) >= 1:
            dispatcher.utter_message(
                text="I'm sorry, I'm still not understanding. Would you like me to get a person "
                "to help?",
                buttons=[
                    {"title": "Yes, a person please", "payload": f"/{INTENT_REQUEST_HUMAN}"},
                ],
            )
        elif tracker.get_slot(SLOT_TONE) == TONE_EMPATHETIC:
            dispatcher.utter_message(text=NOT_UNDERSTOOD_UPSET, buttons=[PERSON_BUTTON])
        else:
            dispatcher.utter_message(text=NOT_UNDERSTOOD)
        return [UserUtteranceReverted(), failed(tracker)]


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many fallbacks ran in a row right before the current turn."""
    count = 0
    for event in reversed(tracker.events or []):
        if event.get("event") != "action":
            continue
        name = event.get("name")
        if name == "action_listen":
            continue
        if name == ACTION_DEFAULT_FALLBACK:
            count += 1
            continue
        break
    return count
