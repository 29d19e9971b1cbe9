"""Support policy applied to store records: what the bot says and which case it opens.

Pure functions over `bot.store` records, so they are unit-tested without Rasa running;
the custom actions in `bot.actions` stay thin and call these.
"""

from bot.support.billing import BillingReview, parse_amount, review_charges
from bot.support.cases import case_topic, welcome_back_message
from bot.support.orders import (
    DeliveryAssessment,
    assess_delivery_problem,
    order_facts,
    order_status_message,
)
from bot.support.returns import ReturnDecision, decide_return, mask_email, return_confirmation
from bot.support.subscriptions import CancellationOutcome, cancellation_outcome, plan_name

__all__ = [
    "BillingReview",
    "CancellationOutcome",
    "DeliveryAssessment",
    "ReturnDecision",
    "assess_delivery_problem",
    "cancellation_outcome",
    "case_topic",
    "decide_return",
    "mask_email",
    "order_facts",
    "order_status_message",
    "parse_amount",
    "plan_name",
    "return_confirmation",
    "review_charges",
    "welcome_back_message",
]
