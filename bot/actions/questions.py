"""The questions the forms ask, one `action_ask_<slot>` per slot.

Rasa runs `action_ask_<slot>` when a form needs that slot. The questions are custom
actions rather than `utter_ask_<slot>` responses because their wording depends on the
conversation (the refund or return being asked about, the tone), and because Rasa's
validator counts a response that only a form uses as unused.

Every question offers a way out: while the tone is empathetic (or for the order number,
always) a "Talk to a person" button comes with it; asking for a person, stopping or
asking something else works at any question through the form-interruption rules.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import customer_key, get_codes, get_store, verified_customer
from bot.errors import MailError, StoreError
from bot.store import Order
from bot.support import mask_email
from core.constants import (
    CONSENT_ORDER_HISTORY,
    INTENT_REQUEST_HUMAN,
    PROVEN_IDENTITY,
    SLOT_CUSTOMER_ID,
    SLOT_EMAIL,
    SLOT_ISSUE_TYPE,
    SLOT_NEW_ADDRESS,
    SLOT_ORDER_NUMBER,
    SLOT_PLAN,
    SLOT_REFUND_REASON,
    SLOT_REQUEST_TYPE,
    SLOT_TONE,
    SLOT_VERIFICATION_CODE,
    SLOT_VERIFIED_BY,
    TONE_EMPATHETIC,
)

logger = logging.getLogger(__name__)
PERSON_BUTTON = {"title": "Talk to a person", "payload": f"/{INTENT_REQUEST_HUMAN}"}


@dataclass(frozen=True)
class Question:
    """What is asked for one slot: `plain`, or `upset` while the tone is empathetic (both
    may name `{request_type}`), with `buttons`; `person` offers a person in either tone."""

    plain: str
    upset: str
    buttons: tuple[dict[str, str], ...] = field(default=())
    person: bool = False

    def message(self, tracker: Tracker) -> dict[str, Any]:
        empathetic = tracker.get_slot(SLOT_TONE) == TONE_EMPATHETIC
        text = (self.upset if empathetic else self.plain).format(
            request_type=tracker.get_slot(SLOT_REQUEST_TYPE) or "return"
        )
        buttons = list(self.buttons)
        if empathetic or self.person:
            buttons.append(PERSON_BUTTON)
        return {"text": text, "buttons": buttons}


def _delivery(issue: str) -> str:
    return f'/delivery_problem{{"issue_type": "{issue}"}}'


def _plan(plan: str) -> str:
    return f'/cancel_subscription{{"plan": "{plan}"}}'


QUESTIONS: dict[str, Question] = {
    SLOT_ORDER_NUMBER: Question(
        plain="What's the order number? It's the 5-digit number in your confirmation "
        "email, like 10234.",
        upset="Let's get this sorted. What's the 5-digit order number from your "
        "confirmation email (like 10234)? If you'd rather talk to a person, just say so.",
        person=True,
    ),
    SLOT_EMAIL: Question(
        plain="For your security, what's the email address on your Brightbasket account?",
        upset="Thanks for bearing with me. For your security, what's the email address on "
        "your Brightbasket account? You can also ask for a person at any time.",
    ),
    SLOT_ISSUE_TYPE: Question(
        plain="What went wrong with the delivery?",
        upset="Let's get it sorted. What went wrong with the delivery?",
        buttons=(
            {"title": "It's late", "payload": _delivery("late")},
            {"title": "It's lost / marked delivered", "payload": _delivery("lost")},
            {"title": "It arrived damaged or wrong", "payload": _delivery("damaged")},
        ),
    ),
    SLOT_REFUND_REASON: Question(
        plain="What's the reason for the {request_type}? A few words are enough.",
        upset="Nearly there. What's the reason for the {request_type}? A few words are enough.",
    ),
    SLOT_NEW_ADDRESS: Question(
        plain="What's the new delivery address? Please include street, city and ZIP/postal code.",
        upset="Let's get the address right. What's the new delivery address? Please "
        "include street, city and ZIP/postal code.",
    ),
    SLOT_PLAN: Question(
        plain="Which subscription would you like to cancel?",
        upset="Which subscription would you like to cancel?",
        buttons=(
            {"title": "Pantry Box", "payload": _plan("pantry_box")},
            {"title": "Brightbasket Plus", "payload": _plan("plus")},
        ),
    ),
}


class AskQuestion:
    """`action_ask_<slot>`: ask the form's question for `slot` (a mixin, so the action
    server registers only the concrete actions below)."""

    slot: ClassVar[str]

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(**QUESTIONS[self.slot].message(tracker))
        return []


class ActionAskOrderNumber(AskQuestion, Action):
    """The order number question; a customer who proved who they are and agreed to "use
    my order history" gets their most recent orders as buttons too."""

    slot = SLOT_ORDER_NUMBER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        message = QUESTIONS[self.slot].message(tracker)
        try:
            orders = await asyncio.to_thread(recent_orders, tracker)
        except StoreError:
            logger.exception("the order history could not be read; asking for the number")
            orders = []
        if orders:
            message["text"] = "Which order is it? Here are your most recent ones, or type the " + (
                "5-digit order number."
            )
            message["buttons"] = [
                {"title": f"{o.number} · {shorten(o.item_summary)}", "payload": o.number}
                for o in orders
            ] + message["buttons"]
        dispatcher.utter_message(**message)
        return []


RECENT_ORDERS = 3


def recent_orders(tracker: Tracker) -> list[Order]:
    """The customer's latest orders, when they proved who they are and agreed that their
    order history is used; else none."""
    customer_id = tracker.get_slot(SLOT_CUSTOMER_ID)
    if not customer_id or tracker.get_slot(SLOT_VERIFIED_BY) not in PROVEN_IDENTITY:
        return []
    store = get_store()
    choice = store.consents(tracker.sender_id).get(CONSENT_ORDER_HISTORY)
    if choice is None or not choice.granted:
        return []
    orders = sorted(
        store.orders_for_customer(str(customer_id)), key=lambda o: o.placed_on, reverse=True
    )
    return orders[:RECENT_ORDERS]


def shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ActionAskEmail(AskQuestion, Action):
    slot = SLOT_EMAIL


class ActionAskIssueType(AskQuestion, Action):
    slot = SLOT_ISSUE_TYPE


class ActionAskRefundReason(AskQuestion, Action):
    slot = SLOT_REFUND_REASON


class ActionAskNewAddress(AskQuestion, Action):
    slot = SLOT_NEW_ADDRESS


class ActionAskPlan(AskQuestion, Action):
    slot = SLOT_PLAN


class ActionAskVerificationCode(Action):
    """`action_ask_verification_code`: send a one-time code to the e-mail on file (unless
    one is still waiting to be typed) and ask for it."""

    def name(self) -> str:
        return f"action_ask_{SLOT_VERIFICATION_CODE}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        customer = verified_customer(tracker)
        if customer is None:  # the e-mail question comes first; this is a safety net
            dispatcher.utter_message(**QUESTIONS[SLOT_EMAIL].message(tracker))
            return []
        codes, key = get_codes(), customer_key(tracker)
        where = mask_email(customer.email)
        try:
            if await asyncio.to_thread(codes.pending, key) is not None:
                text = f"Please type the 6-digit code I sent to {where}."
            else:
                sent = await asyncio.to_thread(codes.send, key, customer)
                text = (
                    f"To keep your account safe, I've sent a 6-digit code to {where}. Type it "
                    "here — it works for 10 minutes."
                    if sent.sent
                    else "I've already sent you three codes this hour, so I can't send "
                    "another yet. Please use the latest one, try again later, or talk to "
                    "a person."
                )
        except (MailError, StoreError):
            logger.exception("the one-time code could not be sent")
            text = (
                "Sorry — I couldn't send you a code just now. Please try again in a few "
                "minutes, or talk to a person."
            )
        dispatcher.utter_message(text=text, buttons=[PERSON_BUTTON])
        return []
