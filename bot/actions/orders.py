"""Order lookup and delivery problems (late, lost, damaged)."""

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
)
from bot.support import assess_delivery_problem, order_status_message
from core.constants import (
    ACTION_ORDER_STATUS,
    ACTION_REPORT_DELIVERY_PROBLEM,
    DELIVERY_ISSUES,
    FORM_DELIVERY_PROBLEM,
    FORM_ORDER_LOOKUP,
    ISSUE_LATE,
    SLOT_CUSTOMER_ID,
    SLOT_ISSUE_TYPE,
    SLOT_OPEN_CASE_ID,
    SLOT_ORDER_NUMBER,
)


class ValidateOrderLookupForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_ORDER_LOOKUP}"


class ValidateDeliveryProblemForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_DELIVERY_PROBLEM}"

    def validate_issue_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {SLOT_ISSUE_TYPE: value if value in DELIVERY_ISSUES else None}


class ActionOrderStatus(SupportAction):
    def name(self) -> str:
        return ACTION_ORDER_STATUS

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        order = store.get_order(tracker.get_slot(SLOT_ORDER_NUMBER) or "")
        if order is None:
            dispatcher.utter_message(text="Sorry, I couldn't find that order any more.")
            return [SlotSet(SLOT_ORDER_NUMBER, None)]
        reported = store.open_case_for_order(order.number) is not None
        dispatcher.utter_message(text=order_status_message(order, store.today(), reported))
        return request_done()


class ActionReportDeliveryProblem(SupportAction):
    """Apply the delivery policy to the order and open a case the customer can come back to."""

    def name(self) -> str:
        return ACTION_REPORT_DELIVERY_PROBLEM

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        store = get_store()
        order = store.get_order(tracker.get_slot(SLOT_ORDER_NUMBER) or "")
        if order is None:
            dispatcher.utter_message(text="Sorry, I couldn't find that order any more.")
            return [SlotSet(SLOT_ORDER_NUMBER, None)]
        issue = tracker.get_slot(SLOT_ISSUE_TYPE) or ISSUE_LATE
        assessment = assess_delivery_problem(order, issue, store.today())
        events = request_done()
        if assessment.case_kind:
            case = store.open_case(
                customer_key(tracker),
                assessment.case_kind,
                assessment.case_summary,
                order_number=order.number,
                customer_id=tracker.get_slot(SLOT_CUSTOMER_ID),
            )
            events.append(SlotSet(SLOT_OPEN_CASE_ID, case.id))
            dispatcher.utter_message(text=f"{assessment.message} (Case #{case.id})")
        else:
            dispatcher.utter_message(text=assessment.message)
        return events
