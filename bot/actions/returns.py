"""Returns and refunds of delivered orders."""

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
)
from bot.store.models import CASE_REFUND, CASE_RETURN
from bot.support import decide_return, return_confirmation
from core.constants import (
    ACTION_SUBMIT_RETURN,
    FORM_RETURN,
    SLOT_OPEN_CASE_ID,
    SLOT_ORDER_NUMBER,
    SLOT_REFUND_REASON,
    SLOT_REQUEST_TYPE,
)


class ValidateReturnForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_RETURN}"

    def validate_refund_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = str(value or "").strip()
        if len(reason) < 2:
            dispatcher.utter_message(text="Could you tell me briefly why you're sending it back?")
            return {SLOT_REFUND_REASON: None}
        return {SLOT_REFUND_REASON: reason[:500]}


class ActionSubmitReturn(SupportAction):
    def name(self) -> str:
        return ACTION_SUBMIT_RETURN

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        refused = unproven(dispatcher, tracker)
        if refused is not None:
            return refused
        store = get_store()
        order = store.get_order(tracker.get_slot(SLOT_ORDER_NUMBER) or "")
        if order is None:
            dispatcher.utter_message(text="Sorry, I couldn't find that order any more.")
            return [SlotSet(SLOT_ORDER_NUMBER, None)]
        customer = store.get_customer(order.customer_id)
        kind = tracker.get_slot(SLOT_REQUEST_TYPE) or "return"
        reason = tracker.get_slot(SLOT_REFUND_REASON) or ""
        today = store.today()
        existing = [
            r for r in store.return_requests_for_order(order.number) if r.status == "requested"
        ]
        if existing:
            dispatcher.utter_message(
                text=f"There's already an open {existing[0].kind} request for order "
                f"{order.number} (R-{existing[0].id:05d}, ${existing[0].amount:.2f}). Once the "
                "parcel reaches our warehouse, the refund goes out within 2 business days."
            )
            return request_done()
        decision = decide_return(order, customer, reason, today)
        if not decision.eligible:
            dispatcher.utter_message(text=decision.message)
            return request_done()
        request = store.create_return_request(order, kind, reason, decision.refund_amount)
        email = customer.email if customer else ""
        case = store.open_case(
            customer_key(tracker),
            CASE_REFUND if kind == "refund" else CASE_RETURN,
            f"{kind.capitalize()} R-{request.id:05d} of ${decision.refund_amount:.2f} opened for "
            f"order {order.number}; reason: {reason}.",
            order_number=order.number,
            customer_id=order.customer_id,
        )
        dispatcher.utter_message(text=return_confirmation(order, request, decision, email, today))
        return [*request_done(), SlotSet(SLOT_OPEN_CASE_ID, case.id)]
