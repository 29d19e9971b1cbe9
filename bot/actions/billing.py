"""Billing: double charges and charges the customer doesn't recognise."""

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
    unproven,
    verified_customer,
)
from bot.store.models import CASE_DOUBLE_CHARGE, CASE_UNKNOWN_CHARGE
from bot.support import parse_amount, review_charges
from core.constants import (
    ACTION_CHECK_BILLING,
    FORM_BILLING,
    ISSUE_CHARGED_TWICE,
    SLOT_AMOUNT,
    SLOT_ISSUE_TYPE,
    SLOT_OPEN_CASE_ID,
)


class ValidateBillingForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_BILLING}"


class ActionCheckBilling(SupportAction):
    def name(self) -> str:
        return ACTION_CHECK_BILLING

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        refused = unproven(dispatcher, tracker)
        if refused is not None:
            return refused
        store = get_store()
        customer = verified_customer(tracker)
        if customer is None:
            dispatcher.utter_message(text="Sorry, I couldn't confirm your account.")
            return request_done()
        issue = tracker.get_slot(SLOT_ISSUE_TYPE)
        review = review_charges(
            store.payments_for_customer(customer.id),
            store.subscriptions_for_customer(customer.id),
            issue,
            store.today(),
            parse_amount(tracker.get_slot(SLOT_AMOUNT)),
        )
        for payment_id in review.refund_payment_ids:
            store.refund_payment(payment_id)
        events = request_done()
        if review.opens_case:
            kind = CASE_DOUBLE_CHARGE if issue == ISSUE_CHARGED_TWICE else CASE_UNKNOWN_CHARGE
            payments = store.payments_for_customer(customer.id)
            order = next(
                (p.order_number for p in payments if p.id in review.refund_payment_ids), None
            )
            case = store.open_case(
                customer_key(tracker),
                kind,
                review.message,
                order_number=order,
                customer_id=customer.id,
            )
            if review.refund_payment_ids:
                # Refunded here and now: the case is a record, not an open issue to ask
                # the customer about next time.
                store.resolve_case(case.id)
            else:
                events.append(SlotSet(SLOT_OPEN_CASE_ID, case.id))
        dispatcher.utter_message(text=review.message)
        return events
