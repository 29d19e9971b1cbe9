"""Account access: password resets, locked accounts, hacked accounts."""

from __future__ import annotations

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
    verified_customer,
)
from bot.store.models import CASE_ACCOUNT_SECURITY
from bot.support import mask_email
from core.constants import (
    ACTION_ACCOUNT_HELP,
    FORM_ACCOUNT,
    ISSUE_HACKED,
    ISSUE_LOCKED,
    SLOT_ISSUE_TYPE,
    SLOT_OPEN_CASE_ID,
)


class ValidateAccountForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_ACCOUNT}"


class ActionAccountHelp(SupportAction):
    def name(self) -> str:
        return ACTION_ACCOUNT_HELP

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        customer = verified_customer(tracker)
        if customer is None:
            dispatcher.utter_message(text="Sorry, I couldn't confirm your account.")
            return request_done()
        issue = tracker.get_slot(SLOT_ISSUE_TYPE)
        email = mask_email(customer.email)
        events = request_done()
        if issue == ISSUE_HACKED:
            store.set_account_status(customer.id, "frozen", "frozen_after_takeover_report")
            case = store.open_case(
                customer_key(tracker),
                CASE_ACCOUNT_SECURITY,
                "Customer reported the account as hacked; account frozen, all devices signed out.",
                customer_id=customer.id,
            )
            events.append(SlotSet(SLOT_OPEN_CASE_ID, case.id))
            dispatcher.utter_message(
                text=f"I've frozen your account and signed out every device, so nobody can "
                f"place orders or change details. I've sent a secure reset link to {email} — "
                "it's valid for 60 minutes. Our security team will review recent orders and "
                f"changes with you (case #{case.id}). If you see card charges you don't "
                "recognise, please also tell your bank."
            )
        elif issue == ISSUE_LOCKED:
            store.record_account_event(customer.id, "unlock_link_sent")
            dispatcher.utter_message(
                text="Accounts lock for 30 minutes after 5 failed sign-in attempts. I've sent "
                f"an unlock and password-reset link to {email} (valid for 60 minutes), so you "
                "don't have to wait."
            )
        else:
            store.record_account_event(customer.id, "password_reset_sent")
            dispatcher.utter_message(
                text=f"I've sent a password reset link to {email}. It's valid for 60 minutes — "
                "check your spam folder if it hasn't arrived in a few minutes."
            )
        return events
