"""The customer's say over their data, in the chat: "forget me" (consent withdrawn), a
copy of everything held about them, and its erasure (`bot.privacy_requests`).

"Forget me" needs no proof: it only ever removes. A copy or an erasure is for a customer
who proved who they are (the privacy form asks for the e-mail and a one-time code unless
the website signed them in); an erasure is confirmed once more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import (
    SupportAction,
    VerifiedFormValidation,
    customer_key,
    get_store,
    request_done,
    unproven,
    verified_customer,
)
from bot.errors import MailError
from bot.privacy_requests import QUIET_SECONDS, PrivacyRequests
from bot.support import mask_email
from core.constants import (
    ACTION_ASK_CONFIRM_ERASE,
    ACTION_FORGET_ME,
    ACTION_PRIVACY_REQUEST,
    ACTION_REMEMBER_ME,
    CONSENT_PURPOSES,
    CONSENT_REMEMBER,
    CONSENT_TEXTS,
    FORM_PRIVACY,
    INTENT_AFFIRM,
    INTENT_DENY,
    REMEMBER_TIP,
    REQUEST_ERASE,
    REQUEST_EXPORT,
    SIGNED_IN_KEY_PREFIX,
    SLOT_CONFIRM_ERASE,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_KEY,
    SLOT_CUSTOMER_NAME,
    SLOT_CUSTOMER_TIER,
    SLOT_PRIVACY_REQUEST,
    SLOT_VERIFICATION_CODE,
    SLOT_VERIFIED_BY,
    VERIFIED_BY_CODE,
)
from core.settings import Settings

logger = logging.getLogger(__name__)

FORGOTTEN = (
    "Done. I won't remember you after this conversation: this chat is no longer linked "
    "to your account, and the next one starts fresh. If you'd also like everything we "
    'hold about you erased, say "delete my data".'
)
NOTHING_TO_FORGET = (
    "I don't remember you between conversations, so there's nothing to forget. If you'd "
    'like everything we hold about you erased, say "delete my data".'
)


def privacy_done() -> list[Any]:
    return [*request_done(), SlotSet(SLOT_PRIVACY_REQUEST, None), SlotSet(SLOT_CONFIRM_ERASE, None)]


class ActionForgetMe(SupportAction):
    """Withdraw both consents, unlink this chat from the customer's account and, unless
    the website signed them in, forget who they are in this conversation too."""

    def name(self) -> str:
        return ACTION_FORGET_ME

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        sender = tracker.sender_id
        channel = tracker.get_latest_input_channel() or "unknown"
        customer_id = tracker.get_slot(SLOT_CUSTOMER_ID)
        choices = store.consents(sender)
        for purpose in CONSENT_PURPOSES:
            if purpose in choices and not choices[purpose].granted:
                continue
            store.record_consent(
                sender, purpose, False, CONSENT_TEXTS[purpose], channel, customer_id
            )
        key = customer_key(tracker)
        unlinked = store.unlink_identity(key)
        if key != sender:
            unlinked += store.unlink_identity(sender)
        remembered = any(c.granted for c in choices.values()) or unlinked > 0
        dispatcher.utter_message(text=FORGOTTEN if remembered else NOTHING_TO_FORGET)
        if str(key).startswith(SIGNED_IN_KEY_PREFIX):
            return []  # the website says who they are, every session
        return [
            SlotSet(SLOT_CUSTOMER_KEY, sender),
            SlotSet(SLOT_CUSTOMER_ID, None),
            SlotSet(SLOT_CUSTOMER_NAME, None),
            SlotSet(SLOT_CUSTOMER_TIER, None),
            SlotSet(SLOT_VERIFIED_BY, None),
            SlotSet(SLOT_VERIFICATION_CODE, None),
        ]


class ActionRememberMe(SupportAction):
    """ "Remember me", said on a channel without the consent panel: recorded with the
    words the bot showed (`REMEMBER_TIP`); a customer proven by a code in this session is
    linked at once, one proven later is linked then."""

    empathetic = False

    def name(self) -> str:
        return ACTION_REMEMBER_ME

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        customer_id = tracker.get_slot(SLOT_CUSTOMER_ID)
        channel = tracker.get_latest_input_channel() or "unknown"
        store.record_consent(
            tracker.sender_id, CONSENT_REMEMBER, True, REMEMBER_TIP, channel, customer_id
        )
        if customer_id and tracker.get_slot(SLOT_VERIFIED_BY) == VERIFIED_BY_CODE:
            store.link_identity(customer_key(tracker), str(customer_id))
        dispatcher.utter_message(
            text='Done: I\'ll remember you next time. Say "forget me" whenever you like.'
        )
        return []


class ValidatePrivacyForm(VerifiedFormValidation):
    """The e-mail and a one-time code (unless proven already), then, for an erasure,
    one confirmation."""

    def name(self) -> str:
        return f"validate_{FORM_PRIVACY}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if tracker.get_slot(SLOT_PRIVACY_REQUEST) != REQUEST_ERASE and SLOT_CONFIRM_ERASE in slots:
            slots.remove(SLOT_CONFIRM_ERASE)
        return slots


class ActionAskConfirmErase(SupportAction):
    empathetic = False

    def name(self) -> str:
        return ACTION_ASK_CONFIRM_ERASE

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Just to confirm: shall I erase everything Brightbasket's support holds "
            "about you? That's your conversations, cases, account details and the choices "
            "you made about what I remember. It can't be undone.",
            buttons=[
                {"title": "Yes, erase it all", "payload": f"/{INTENT_AFFIRM}"},
                {"title": "No, keep it", "payload": f"/{INTENT_DENY}"},
            ],
        )
        return []


class ActionPrivacyRequest(SupportAction):
    """The privacy form is complete: e-mail the copy, or record the erasure."""

    empathetic = False

    def name(self) -> str:
        return ACTION_PRIVACY_REQUEST

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        refused = unproven(dispatcher, tracker)
        if refused is not None:
            return refused + privacy_done()
        customer = verified_customer(tracker)
        kind = tracker.get_slot(SLOT_PRIVACY_REQUEST)
        if customer is None or kind not in (REQUEST_EXPORT, REQUEST_ERASE):
            dispatcher.utter_message(text="Sorry, I couldn't confirm your account.")
            return privacy_done()
        requests = PrivacyRequests(Settings.load(), get_store())
        if kind == REQUEST_EXPORT:
            try:
                await asyncio.to_thread(requests.export, customer, tracker.sender_id)
            except MailError:
                logger.exception("privacy request: the export could not be e-mailed")
                dispatcher.utter_message(
                    text="Sorry, I couldn't send the e-mail just now. Please try again in a "
                    "few minutes, or ask me for a person."
                )
                return privacy_done()
            dispatcher.utter_message(
                text="I've e-mailed a copy of everything we hold about you to "
                f"{mask_email(customer.email)}, as one file. It can take a few minutes to arrive."
            )
            return privacy_done()
        if not tracker.get_slot(SLOT_CONFIRM_ERASE):
            dispatcher.utter_message(text="Okay, I haven't erased anything.")
            return privacy_done()
        await asyncio.to_thread(requests.request_erasure, customer.id, tracker.sender_id)
        minutes = int(QUIET_SECONDS // 60)
        dispatcher.utter_message(
            text="Done: everything Brightbasket's support holds about you will be erased "
            f"{minutes} minutes after this conversation ends, this conversation included. "
            "Thank you for having been with us."
        )
        return privacy_done()
