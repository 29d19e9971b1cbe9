"""Which human queue a conversation goes to: skills derived from the intents it touched."""

from __future__ import annotations

from collections.abc import Sequence

from core.constants import (
    FORM_ACCOUNT,
    FORM_ADDRESS,
    FORM_BILLING,
    FORM_DELIVERY_PROBLEM,
    FORM_ORDER_LOOKUP,
    FORM_SUBSCRIPTION,
)

ORDERS_AND_SHIPPING = "orders_shipping"
BILLING = "billing"
ACCOUNT_AND_SECURITY = "account_security"
GENERAL = "general"
QUEUES = (ORDERS_AND_SHIPPING, BILLING, ACCOUNT_AND_SECURITY, GENERAL)

QUEUE_TITLES = {
    ORDERS_AND_SHIPPING: "Orders & shipping",
    BILLING: "Billing",
    ACCOUNT_AND_SECURITY: "Account & security",
    GENERAL: "General",
}

SKILL_OF_INTENT = {
    "order_status": ORDERS_AND_SHIPPING,
    "delivery_problem": ORDERS_AND_SHIPPING,
    "change_address": ORDERS_AND_SHIPPING,
    "return_item": ORDERS_AND_SHIPPING,
    "request_refund": BILLING,
    "billing_issue": BILLING,
    "cancel_subscription": BILLING,
    "account_access": ACCOUNT_AND_SECURITY,
}


# The return form serves returns (orders & shipping) and refunds (billing): its intents decide.
SKILL_OF_FORM = {
    FORM_ORDER_LOOKUP: ORDERS_AND_SHIPPING,
    FORM_DELIVERY_PROBLEM: ORDERS_AND_SHIPPING,
    FORM_ADDRESS: ORDERS_AND_SHIPPING,
    FORM_BILLING: BILLING,
    FORM_SUBSCRIPTION: BILLING,
    FORM_ACCOUNT: ACCOUNT_AND_SECURITY,
}


def queue_for(intents: Sequence[str | None], active_form: str | None = None) -> str:
    """The queue of the request in progress: the active form's, unless the latest intent
    names a skill of its own (a new request); else the most recent intent that names a
    skill; `general` if none does."""
    latest = intents[-1] if intents else None
    if active_form in SKILL_OF_FORM and latest not in SKILL_OF_INTENT:
        return SKILL_OF_FORM[active_form]
    for intent in reversed(intents):
        if intent in SKILL_OF_INTENT:
            return SKILL_OF_INTENT[intent]
    return GENERAL
