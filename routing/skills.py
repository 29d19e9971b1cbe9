"""Which human queue a conversation goes to: skills derived from the intents it touched."""

from __future__ import annotations

from collections.abc import Sequence

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


def queue_for(intents: Sequence[str | None]) -> str:
    """The queue of the most recent intent that names a skill; `general` if none does."""
    for intent in reversed(intents):
        if intent in SKILL_OF_INTENT:
            return SKILL_OF_INTENT[intent]
    return GENERAL
