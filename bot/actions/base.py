"""What every custom action shares: the store, the customer, error handling, form checks."""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.errors import StoreError
from bot.mail import mailer_for
from bot.store import Customer, SupportStore
from bot.store.models import CODE_EXPIRED, CODE_LOCKED, CODE_NONE, CODE_OK, CODE_WRONG
from bot.verification import OneTimeCodes
from core.constants import (
    CHANNEL_WEB_CHAT,
    CONSENT_ASK,
    CONSENT_REMEMBER,
    CUSTOM_CONSENT,
    CUSTOM_TEXT,
    INTENT_REQUEST_HUMAN,
    REMEMBER_TIP,
    REQUESTED_SLOT,
    SLOT_AMOUNT,
    SLOT_CONFIRM_CANCEL,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_KEY,
    SLOT_CUSTOMER_NAME,
    SLOT_CUSTOMER_TIER,
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
    SLOT_WELCOME_BACK,
    STRONG_VERIFICATION,
    TONE_EMPATHETIC,
    VERIFIED_BY_CODE,
    VERIFIED_BY_EMAIL,
)
from core.conversation import Conversation
from core.settings import Settings

logger = logging.getLogger(__name__)

# Six digits, also typed as "123 456"; not part of a longer number.
CODE_PATTERN = re.compile(r"(?<!\d)\d{3} ?\d{3}(?!\d)")
RESEND_PATTERN = re.compile(
    r"\b(resend|again|another|new code|didn'?t (get|receive|come)|not (got|received)|no code)",
    re.IGNORECASE,
)
CODE_VERIFIED = "verified"
CODE_REPLIES = {
    CODE_WRONG: "That code doesn't match — please check the e-mail and try again "
    "({left} tries left).",
    CODE_LOCKED: "That code didn't match too many times, so it no longer works. I'll send "
    "you a new one.",
    CODE_EXPIRED: "That code has expired — they work for 10 minutes. I'll send you a new one.",
    CODE_NONE: "Let me send you a code first.",
}
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
DIGITS_PATTERN = re.compile(r"\d+")

# Slots that belong to one request; cleared when the request is handled. The e-mail the
# customer typed is among them: once matched, the customer id is what the bot works with.
TRANSIENT_SLOTS = (
    SLOT_EMAIL,
    SLOT_ISSUE_TYPE,
    SLOT_REFUND_REASON,
    SLOT_NEW_ADDRESS,
    SLOT_PLAN,
    SLOT_CONFIRM_CANCEL,
    SLOT_AMOUNT,
    SLOT_REQUEST_TYPE,
)

STORE_UNAVAILABLE = (
    "Sorry — I can't reach our order system right now. Please try again in a few minutes, "
    "or ask me for a person."
)

_store: SupportStore | None = None
_codes: OneTimeCodes | None = None


def get_store() -> SupportStore:
    """The process-wide store, opened on first use."""
    global _store
    if _store is None:
        _store = SupportStore(Settings.load().store_url)
    return _store


def set_store(store: SupportStore | None) -> None:
    """Replace the process-wide store (tests)."""
    global _store, _codes
    _store = store
    _codes = None


def get_codes() -> OneTimeCodes:
    """The process-wide one-time codes, over the store and the configured mailer."""
    global _codes
    if _codes is None:
        _codes = OneTimeCodes(get_store(), mailer_for(Settings.load()))
    return _codes


def set_codes(codes: OneTimeCodes | None) -> None:
    """Replace the process-wide one-time codes (tests)."""
    global _codes
    _codes = codes


def strongly_verified(tracker: Tracker) -> bool:
    """Whether the customer proved who they are well enough to change their account: a
    signed identity from the website, or a one-time code (never an e-mail alone)."""
    return tracker.get_slot(SLOT_VERIFIED_BY) in STRONG_VERIFICATION


def remembers(store: SupportStore, conversation_key: str) -> bool:
    """Whether the conversation's customer agreed to be remembered across sessions."""
    choice = store.consents(conversation_key).get(CONSENT_REMEMBER)
    return choice is not None and choice.granted


def consent_question(tracker: Tracker) -> dict[str, Any] | None:
    """For a customer who just proved who they are and has not chosen yet: the message
    that opens the web chat's consent choices, or on a messaging channel (no panel) the
    words that say how to agree; None once they chose."""
    if get_store().consents(tracker.sender_id):
        return None
    if tracker.get_latest_input_channel() != CHANNEL_WEB_CHAT:
        return {"text": REMEMBER_TIP}
    # Sent as the web chat's markers are (socket.io's `bot_uttered` carries `data`): the
    # page shows the text and opens its "Privacy" choices.
    return {
        "json_message": {
            "data": {
                CUSTOM_CONSENT: CONSENT_ASK,
                CUSTOM_TEXT: "Thanks, that's you. Would you like me to remember you next "
                "time? You choose, and you can change it at any time.",
            }
        }
    }


def customer_key(tracker: Tracker) -> str:
    return tracker.get_slot(SLOT_CUSTOMER_KEY) or tracker.sender_id


def verified_customer(tracker: Tracker) -> Customer | None:
    customer_id = tracker.get_slot(SLOT_CUSTOMER_ID)
    return get_store().get_customer(customer_id) if customer_id else None


NOT_PROVEN = (
    "Before I change anything on your account I need to confirm it's you, and I couldn't "
    "yet. Let's start again, or I can get a person to help."
)


def unproven(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """For actions that change an account, cancel or refund: the events that end the
    request when the customer has not proven who they are (a signed identity or a
    one-time code), else None. The forms ask for the code; this is the last line."""
    if strongly_verified(tracker):
        return None
    logger.warning("an account change without strong verification refused")
    dispatcher.utter_message(text=NOT_PROVEN)
    return request_done()


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def request_done() -> list[EventType]:
    """Events that close a handled request: transient slots cleared, no pending question."""
    return [SlotSet(s, None) for s in TRANSIENT_SLOTS] + [SlotSet(SLOT_WELCOME_BACK, False)]


ACKNOWLEDGEMENTS = (
    "I'm sorry this has been frustrating — let's get it sorted.",
    "I understand, and I'm sorry for the trouble.",
    "Sorry for the hassle — I'm on it.",
)
PERSON_OFFER = "If you'd rather talk to a person, I can bring one in right away."
APOLOGY = re.compile(r"\b(sorry|apologi[sz]e)", re.IGNORECASE)


class SupportAction(Action, ABC):
    """A custom action whose store failures become a polite reply instead of an error.

    While the routing policy has set the empathetic tone, the first reply of a turn opens
    with an acknowledgement, and on the turn the tone changes a person is offered.
    """

    empathetic = True  # False for actions whose text already fits any tone

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            events = await self.act(dispatcher, tracker, domain)
        except StoreError:
            logger.exception("%s: the store failed", self.name())
            dispatcher.utter_message(text=STORE_UNAVAILABLE)
            return []
        if self.empathetic and tracker.get_slot(SLOT_TONE) == TONE_EMPATHETIC:
            soften(dispatcher, tracker)
        return events

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Do the action's work; return the events to apply."""


def apologises(message: dict[str, Any]) -> bool:
    """Whether a reply already apologises, or is a domain response (those have their own
    empathetic variants, which say sorry where it is due)."""
    return bool(message.get("response")) or bool(APOLOGY.search(message.get("text") or ""))


def soften(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Acknowledge before the first reply of the turn, unless the reply already
    apologises (one apology per reply); offer a person when the tone just turned
    empathetic (the policy's `tone` event comes after the latest user message)."""
    conversation = Conversation.from_events(tracker.events)
    last = conversation.last
    if not dispatcher.messages or last is None or last.replies:
        return
    if not any(apologises(m) for m in dispatcher.messages):
        turns = len(conversation.turns)
        dispatcher.utter_message(text=ACKNOWLEDGEMENTS[turns % len(ACKNOWLEDGEMENTS)])
        dispatcher.messages.insert(0, dispatcher.messages.pop())
    if SLOT_TONE in last.slots_set:
        dispatcher.utter_message(
            text=PERSON_OFFER,
            buttons=[{"title": "Talk to a person", "payload": f"/{INTENT_REQUEST_HUMAN}"}],
        )


class VerifiedFormValidation(FormValidationAction):
    """Form checks shared by every form that needs an order and/or a verified customer.

    A customer is verified once they give the email address on the order (or account);
    their channel id is then linked to the store customer, so later conversations,
    in any session, skip the email question.
    """

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """A known customer is not asked for the e-mail again; a form that changes the
        account also asks for a one-time code, unless the customer proved who they are
        already (signed in by the website, or a code earlier)."""
        slots = list(domain_slots)
        known = bool(tracker.get_slot(SLOT_CUSTOMER_ID))
        if SLOT_VERIFICATION_CODE in slots and strongly_verified(tracker):
            slots.remove(SLOT_VERIFICATION_CODE)
        elif SLOT_VERIFICATION_CODE in slots:
            # The code goes to the address on file once someone here typed it in this
            # session (a chat linked in an earlier one, at a shared browser, types it again).
            known = known and tracker.get_slot(SLOT_VERIFIED_BY) == VERIFIED_BY_EMAIL
        if known and SLOT_EMAIL in slots:
            slots.remove(SLOT_EMAIL)
        return slots

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) == SLOT_NEW_ADDRESS:
            # A ZIP code in the new address is not a new order number: keep the order.
            return {SLOT_ORDER_NUMBER: previous_value(tracker, SLOT_ORDER_NUMBER)}
        runs = DIGITS_PATTERN.findall(str(value or ""))
        number = next((r for r in runs if len(r) == 5), None)
        if number is None:
            seen = f" ({runs[0]} has {len(runs[0])} digits)" if runs else ""
            dispatcher.utter_message(
                text=f"Order numbers have 5 digits, like 10234{seen}. Could you check your "
                "confirmation email and send it again?"
            )
            return {SLOT_ORDER_NUMBER: None}
        try:
            order = get_store().get_order(number)
        except StoreError:
            dispatcher.utter_message(text=STORE_UNAVAILABLE)
            return {SLOT_ORDER_NUMBER: None}
        if order is None:
            dispatcher.utter_message(
                text=f"I couldn't find order {number}. Could you double-check the number in "
                "your confirmation email?"
            )
            return {SLOT_ORDER_NUMBER: None}
        owner = tracker.get_slot(SLOT_CUSTOMER_ID)
        if owner and order.customer_id != owner:
            dispatcher.utter_message(
                text=f"Order {number} isn't on your account. Could you check the number?"
            )
            return {SLOT_ORDER_NUMBER: None}
        return {SLOT_ORDER_NUMBER: number}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = EMAIL_PATTERN.search(str(value or ""))
        if match is None:
            dispatcher.utter_message(
                text="That doesn't look like an email address — could you type it again, "
                "like name@example.com?"
            )
            return {SLOT_EMAIL: None}
        email = match.group(0)
        store = get_store()
        try:
            number = tracker.get_slot(SLOT_ORDER_NUMBER)
            order = store.get_order(number) if number else None
            if order is not None:
                customer = store.get_customer(order.customer_id)
                if customer is None or customer.email.lower() != email.lower():
                    dispatcher.utter_message(
                        text=f"That email doesn't match the one on order {order.number}. "
                        "Could you check it? It's the address your confirmation was sent to."
                    )
                    return {SLOT_EMAIL: None}
            else:
                customer = store.find_customer_by_email(email)
                if customer is None:
                    dispatcher.utter_message(
                        text=f"I couldn't find a Brightbasket account with {email}. Could you "
                        "check it, or use the email you signed up with?"
                    )
                    return {SLOT_EMAIL: None}
        except StoreError:
            dispatcher.utter_message(text=STORE_UNAVAILABLE)
            return {SLOT_EMAIL: None}
        # Matching an e-mail reads an order's status; changing anything takes a code
        # (the form's verification_code question sends it to the address on file).
        return {
            SLOT_EMAIL: email,
            SLOT_CUSTOMER_ID: customer.id,
            SLOT_CUSTOMER_NAME: customer.name,
            SLOT_CUSTOMER_TIER: customer.tier,
            SLOT_VERIFIED_BY: tracker.get_slot(SLOT_VERIFIED_BY) or VERIFIED_BY_EMAIL,
        }

    def validate_verification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        found = CODE_PATTERN.search(text)
        codes = get_codes()
        key = customer_key(tracker)
        try:
            if found is None:
                if RESEND_PATTERN.search(text):
                    codes.void(key)  # the question sends a new one
                    dispatcher.utter_message(text="No problem — here's a new code.")
                else:
                    dispatcher.utter_message(
                        text="The code has 6 digits, like 123456 — it's in the e-mail I just "
                        'sent. Type it here, or say "send it again".'
                    )
                return {SLOT_VERIFICATION_CODE: None}
            check = codes.check(key, found.group(0).replace(" ", ""))
            if check.outcome == CODE_OK and check.customer_id is not None:
                store = get_store()
                if remembers(store, tracker.sender_id):
                    store.link_identity(key, check.customer_id)
                else:
                    ask = consent_question(tracker)
                    if ask is not None:
                        dispatcher.utter_message(**ask)
                return {
                    SLOT_VERIFICATION_CODE: CODE_VERIFIED,
                    SLOT_VERIFIED_BY: VERIFIED_BY_CODE,
                    SLOT_CUSTOMER_ID: check.customer_id,  # with its proof, in one event batch
                }
        except StoreError:
            dispatcher.utter_message(text=STORE_UNAVAILABLE)
            return {SLOT_VERIFICATION_CODE: None}
        dispatcher.utter_message(text=CODE_REPLIES[check.outcome].format(left=check.attempts_left))
        return {SLOT_VERIFICATION_CODE: None}
