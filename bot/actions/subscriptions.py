"""Cancelling the Pantry Box or a Brightbasket Plus membership."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import (
    SupportAction,
    VerifiedFormValidation,
    get_store,
    request_done,
    unproven,
    verified_customer,
)
from bot.support import cancellation_outcome, plan_name
from bot.support.subscriptions import active
from core.constants import (
    ACTION_ASK_CONFIRM_CANCEL,
    ACTION_CANCEL_SUBSCRIPTION,
    FORM_SUBSCRIPTION,
    INTENT_AFFIRM,
    INTENT_DENY,
    PLAN_PANTRY_BOX,
    PLAN_PLUS,
    SLOT_CONFIRM_CANCEL,
    SLOT_CUSTOMER_ID,
    SLOT_PLAN,
)


class ValidateSubscriptionForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_SUBSCRIPTION}"

    async def extract_plan(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A customer with exactly one subscription is not asked which one."""
        if tracker.get_slot(SLOT_PLAN) is not None:
            return {}
        customer = verified_customer(tracker)
        return only_plan(customer.id) if customer is not None else {}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Verify the customer; one who has just been verified in this message and has
        exactly one subscription is not asked which one either."""
        result = super().validate_email(value, dispatcher, tracker, domain)
        customer_id = result.get(SLOT_CUSTOMER_ID)
        if customer_id and tracker.get_slot(SLOT_PLAN) is None:
            result.update(only_plan(str(customer_id)))
        return result

    def validate_plan(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").lower()
        plan = value if value in (PLAN_PANTRY_BOX, PLAN_PLUS) else None
        if plan is None:
            plan = PLAN_PANTRY_BOX if ("pantry" in text or "box" in text) else None
            plan = plan or (PLAN_PLUS if "plus" in text or "member" in text else None)
        if plan is None:
            return {SLOT_PLAN: None}
        customer = verified_customer(tracker)
        if customer is not None:
            subscriptions = active(get_store().subscriptions_for_customer(customer.id))
            if not any(s.plan == plan for s in subscriptions):
                have = ", ".join(plan_name(s.plan) for s in subscriptions) or "none"
                dispatcher.utter_message(
                    text=f"You don't have an active {plan_name(plan)} subscription. "
                    f"Your active subscriptions: {have}."
                )
                if not subscriptions:
                    # Nothing to cancel: fill the form so it ends, the action explains.
                    return {SLOT_PLAN: plan, SLOT_CONFIRM_CANCEL: False}
                return {SLOT_PLAN: None}
        return {SLOT_PLAN: plan}


class ActionAskConfirmCancel(SupportAction):
    """The subscription form's last question, with the plan in words ("Pantry Box")."""

    def name(self) -> str:
        return ACTION_ASK_CONFIRM_CANCEL

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=f"Just to confirm: shall I cancel your {plan_name(tracker.get_slot(SLOT_PLAN))} "
            "subscription?",
            buttons=[
                {"title": "Yes, cancel it", "payload": f"/{INTENT_AFFIRM}"},
                {"title": "No, keep it", "payload": f"/{INTENT_DENY}"},
            ],
        )
        return []


class ActionCancelSubscription(SupportAction):
    def name(self) -> str:
        return ACTION_CANCEL_SUBSCRIPTION

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        refused = unproven(dispatcher, tracker)
        if refused is not None:
            return refused
        store = get_store()
        customer = verified_customer(tracker)
        plan = tracker.get_slot(SLOT_PLAN)
        if customer is None:
            dispatcher.utter_message(text="Sorry, I couldn't confirm your account.")
            return request_done()
        subscription = next(
            (s for s in active(store.subscriptions_for_customer(customer.id)) if s.plan == plan),
            None,
        )
        if subscription is None:
            dispatcher.utter_message(text="There's no active subscription of that kind to cancel.")
            return request_done()
        if not tracker.get_slot(SLOT_CONFIRM_CANCEL):
            dispatcher.utter_message(
                text=f"Okay, I haven't changed anything — your {plan_name(plan)} stays active."
            )
            return request_done()
        store.cancel_subscription(subscription.id)
        dispatcher.utter_message(text=cancellation_outcome(subscription, store.today()).message)
        return request_done()


def only_plan(customer_id: str) -> dict[str, Any]:
    """The plan slot set to the customer's one active subscription, if they have one."""
    subscriptions = active(get_store().subscriptions_for_customer(customer_id))
    return {SLOT_PLAN: subscriptions[0].plan} if len(subscriptions) == 1 else {}
