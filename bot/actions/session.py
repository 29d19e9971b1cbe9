"""Session start (identity, carried-over slots, welcome back), greeting, open cases."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import (
    SupportAction,
    get_store,
    remembers,
    verified_customer,
)
from bot.errors import StoreError
from bot.store import Case
from bot.store.models import (
    CASE_DAMAGED_ITEM,
    CASE_LATE_DELIVERY,
    CASE_LOST_DELIVERY,
    DELIVERED,
)
from bot.support import order_status_message, welcome_back_message
from core.constants import (
    ACTION_DISMISS_CASE,
    ACTION_GREET,
    ACTION_RESUME_CASE,
    ACTION_SESSION_START,
    CARRY_OVER_SLOTS,
    INTENT_AFFIRM,
    INTENT_DENY,
    METADATA_CUSTOMER_ID,
    METADATA_IDENTITY_PROOF,
    METADATA_IDENTITY_VERIFIED,
    SESSION_STARTED_METADATA,
    SIGNED_IN_KEY_PREFIX,
    SLOT_CONTACTS_7D,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_KEY,
    SLOT_CUSTOMER_NAME,
    SLOT_CUSTOMER_TIER,
    SLOT_EMAIL,
    SLOT_HANDOFF_STATUS,
    SLOT_OPEN_CASE_ID,
    SLOT_ORDER_NUMBER,
    SLOT_VERIFIED_BY,
    SLOT_WELCOME_BACK,
    VERIFIED_BY_CODE,
    VERIFIED_BY_IDENTITY,
    VERIFIED_BY_LINK,
)
from routing.handoff import SILENT_STATUSES

logger = logging.getLogger(__name__)

IDENTITY_SLOTS = frozenset(
    {SLOT_CUSTOMER_ID, SLOT_CUSTOMER_NAME, SLOT_CUSTOMER_TIER, SLOT_EMAIL, SLOT_VERIFIED_BY}
)


class ActionSessionStart(Action):
    """Start a session: keep the customer's identity and note a returning customer's
    latest open case. The question about it ("Welcome back — is this about the late
    order 10234?") is asked by `action_greet`, only when the first message does not
    already say what the customer wants.

    Remembering an anonymous customer across sessions takes their consent ("remember my
    conversations", `CONSENT_REMEMBER`): without it, a new session starts fresh — no
    identity carried over, no link to their account, no open case of an earlier chat.
    A customer the channel proves afresh each session (the website's signed token, a
    phone number on file) is known by that proof, with or without it."""

    def name(self) -> str:
        return ACTION_SESSION_START

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        metadata = tracker.get_slot(SESSION_STARTED_METADATA) or {}
        signed_in = signed_in_customer_id(metadata)
        previous_key = tracker.get_slot(SLOT_CUSTOMER_KEY)
        if signed_in is not None:
            key = SIGNED_IN_KEY_PREFIX + signed_in
        elif previous_key and not str(previous_key).startswith(SIGNED_IN_KEY_PREFIX):
            key = str(previous_key)  # an anonymous customer, maybe verified by e-mail code
        else:
            key = tracker.sender_id  # signed out since: anonymous again
        try:
            store = get_store()
            remember = remembers(store, tracker.sender_id)
        except StoreError:
            logger.exception("session start: the store failed; starting without history")
            store, remember = None, False
        events: list[EventType] = [SessionStarted()]
        # Carry over the customer's identity while it is the same customer and they agreed
        # to be remembered; a request of the last session is remembered as a case in the
        # store instead of half-filled slots.
        for slot in CARRY_OVER_SLOTS:
            value = tracker.get_slot(slot)
            same_customer = key == previous_key or slot not in IDENTITY_SLOTS
            remembered = remember or slot not in IDENTITY_SLOTS
            if value is not None and slot != SLOT_CUSTOMER_KEY and same_customer and remembered:
                events.append(SlotSet(slot, value))
        events.append(SlotSet(SLOT_CUSTOMER_KEY, key))
        case, customer = None, None
        try:
            if store is None:
                raise StoreError("the store is unavailable")
            if signed_in is not None:
                customer = store.get_customer(signed_in)
                if customer is None:
                    logger.warning(
                        "session start: signed-in customer %s is not in the store", signed_in
                    )
            elif remember:
                proven = tracker.get_slot(SLOT_CUSTOMER_ID)
                if proven and tracker.get_slot(SLOT_VERIFIED_BY) == VERIFIED_BY_CODE:
                    # Proved by a code in the last session, agreed to be remembered since.
                    store.link_identity(key, str(proven))
                customer = store.customer_for_key(key)
            if customer is not None:
                # A conversation is linked to a customer once a one-time code matched (and
                # they agreed); the proof itself lasts one session: a new session (after a
                # break, or someone else at the same browser) needs a new code to change
                # anything.
                proof = VERIFIED_BY_LINK  # linked by a code in an earlier session
                if signed_in is not None and metadata.get(METADATA_IDENTITY_PROOF) is None:
                    proof = VERIFIED_BY_IDENTITY  # the website's signed token
                events += [
                    SlotSet(SLOT_CUSTOMER_ID, customer.id),
                    SlotSet(SLOT_CUSTOMER_NAME, customer.name),
                    SlotSet(SLOT_CUSTOMER_TIER, customer.tier),
                    SlotSet(SLOT_VERIFIED_BY, proof),
                ]
            events.append(
                SlotSet(
                    SLOT_CONTACTS_7D, store.contacts_since(key, customer.id if customer else None)
                )
            )
            if remember or customer is not None:
                case = store.latest_open_case(key, customer.id if customer else None)
            if tracker.get_slot(SLOT_HANDOFF_STATUS) in SILENT_STATUSES:
                case = None  # a person has the conversation: the bot stays quiet
        except StoreError:
            logger.exception("session start: the store failed; starting without history")
            case, customer = None, None
        events.append(SlotSet(SLOT_OPEN_CASE_ID, case.id if case is not None else None))
        events.append(ActionExecuted("action_listen"))
        return events


def signed_in_customer_id(metadata: object) -> str | None:
    """The customer the channel verified from the website's identity token, if any.

    The channels drop `customer_id` and `identity_verified` from what clients send and set
    them only from a valid token (bot/channels/trust.py); both must be there."""
    if not isinstance(metadata, dict) or metadata.get(METADATA_IDENTITY_VERIFIED) is not True:
        return None
    customer_id = metadata.get(METADATA_CUSTOMER_ID)
    return customer_id if isinstance(customer_id, str) and customer_id else None


class ActionGreet(SupportAction):
    """A greeting. A returning customer with an open case is asked whether they are here
    about it (asked here, not at session start: a first message that says what the
    customer wants goes straight to that)."""

    def name(self) -> str:
        return ACTION_GREET

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(SLOT_WELCOME_BACK):
            return []  # the welcome-back question is still open; don't greet twice
        case = self.open_case(tracker)
        if case is not None:
            dispatcher.utter_message(
                text=welcome_back_message(case, verified_customer(tracker)),
                buttons=[
                    {"title": "Yes, that's it", "payload": f"/{INTENT_AFFIRM}"},
                    {"title": "No, something else", "payload": f"/{INTENT_DENY}"},
                ],
            )
            events: list[dict[str, Any]] = [SlotSet(SLOT_WELCOME_BACK, True)]
            if case.order_number:
                events.append(SlotSet(SLOT_ORDER_NUMBER, case.order_number))
            return events
        name = tracker.get_slot(SLOT_CUSTOMER_NAME)
        hello = f"Hi {name.split()[0]}!" if name else "Hi! I'm Brightbasket's assistant."
        dispatcher.utter_message(
            text=f"{hello} I can track orders, sort out late, lost or damaged deliveries, "
            "returns and refunds, billing questions, subscriptions and account access. "
            "What can I help you with?"
        )
        return []

    @staticmethod
    def open_case(tracker: Tracker) -> Case | None:
        """The case noted at session start, if it is still open and this greeting
        answers the session's first message."""
        case_id = tracker.get_slot(SLOT_OPEN_CASE_ID)
        if case_id is None or not _first_message_of_session(tracker):
            return None
        try:
            case = get_store().get_case(int(case_id))
        except StoreError:
            logger.exception("greeting: the store failed; greeting without the open case")
            return None
        return case if case is not None and case.is_open else None


def _first_message_of_session(tracker: Tracker) -> bool:
    """Whether the latest customer message is the first of the current session."""
    messages = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            messages += 1
    return messages <= 1


class ActionResumeCase(SupportAction):
    """The returning customer confirmed: pick their open case up where it was left."""

    def name(self) -> str:
        return ACTION_RESUME_CASE

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        case_id = tracker.get_slot(SLOT_OPEN_CASE_ID)
        case = store.get_case(int(case_id)) if case_id is not None else None
        events: list[dict[str, Any]] = [SlotSet(SLOT_WELCOME_BACK, False)]
        if case is None:
            dispatcher.utter_message(text="Sorry, I lost track of that. What can I help with?")
            return events
        today = store.today()
        order = store.get_order(case.order_number) if case.order_number else None
        lines = [f"Here's where it stands. {case.summary}"]
        if order is not None:
            lines.append(order_status_message(order, today, reported=case.is_open))
            delivery_case = case.kind in (CASE_LATE_DELIVERY, CASE_LOST_DELIVERY)
            if delivery_case and order.status == DELIVERED:
                store.resolve_case(case.id)
                lines.append("Since it has arrived, I've closed this case.")
            elif case.kind in (CASE_LATE_DELIVERY, CASE_LOST_DELIVERY, CASE_DAMAGED_ITEM):
                lines.append(
                    "I can refund you or arrange a replacement, or get a person to help — just say."
                )
        else:
            lines.append("Our team is on it. Is there anything new I should add to the case?")
        dispatcher.utter_message(text=" ".join(lines))
        if order is not None:
            events.append(SlotSet(SLOT_ORDER_NUMBER, order.number))
        return events


class ActionDismissCase(SupportAction):
    def name(self) -> str:
        return ACTION_DISMISS_CASE

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        customer = verified_customer(tracker)
        who = f", {customer.first_name}" if customer else ""
        dispatcher.utter_message(text=f"No problem{who}. What can I help you with today?")
        return [SlotSet(SLOT_WELCOME_BACK, False), SlotSet(SLOT_ORDER_NUMBER, None)]
