"""How an open case is described to a returning customer."""

from __future__ import annotations

from bot.store.models import (
    CASE_ACCOUNT_SECURITY,
    CASE_ADDRESS_CHANGE,
    CASE_COMPLAINT,
    CASE_DAMAGED_ITEM,
    CASE_DOUBLE_CHARGE,
    CASE_HUMAN_REQUEST,
    CASE_LATE_DELIVERY,
    CASE_LOST_DELIVERY,
    CASE_REFUND,
    CASE_RETURN,
    CASE_UNKNOWN_CHARGE,
    Case,
    Customer,
)

_TOPICS = {
    CASE_LATE_DELIVERY: "the late order {order}",
    CASE_LOST_DELIVERY: "the missing package from order {order}",
    CASE_DAMAGED_ITEM: "the damaged item in order {order}",
    CASE_REFUND: "your refund for order {order}",
    CASE_RETURN: "your return of order {order}",
    CASE_DOUBLE_CHARGE: "the double charge on order {order}",
    CASE_UNKNOWN_CHARGE: "the charge you didn't recognise",
    CASE_ACCOUNT_SECURITY: "the security of your account",
    CASE_ADDRESS_CHANGE: "the delivery address of order {order}",
    CASE_COMPLAINT: "the problem you told us about",
    CASE_HUMAN_REQUEST: "your request to talk to a person",
}


def case_topic(case: Case) -> str:
    template = _TOPICS.get(case.kind, "your open request")
    if "{order}" in template and not case.order_number:
        return "your open request"
    return template.format(order=case.order_number)


def welcome_back_message(case: Case, customer: Customer | None) -> str:
    name = f", {customer.first_name}" if customer else ""
    return f"Welcome back{name} — is this about {case_topic(case)}?"
