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
    verified_customer,
)
from bot.support import cancellation_outcome, plan_name
from bot.support.subscriptions import active
from core.constants import (
    ACTION_CANCEL_SUBSCRIPTION,
    FORM_SUBSCRIPTION,
    PLAN_PANTRY_BOX,
    PLAN_PLUS,
    SLOT_CONFIRM_CANCEL,
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
        if customer is None:
            return {}
        subscriptions = active(get_store().subscriptions_for_customer(customer.id))
        if len(subscriptions) == 1:
            return {SLOT_PLAN: subscriptions[0].plan}
        return {}

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


class ActionCancelSubscription(SupportAction):
    def name(self) -> str:
        return ACTION_CANCEL_SUBSCRIPTION

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
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
