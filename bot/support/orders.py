"""Order status and delivery problems, worded from the store's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.store.models import (
    CANCELLED,
    CASE_DAMAGED_ITEM,
    CASE_LATE_DELIVERY,
    CASE_LOST_DELIVERY,
    DELIVERED,
    OUT_FOR_DELIVERY,
    PROCESSING,
    RETURNED,
    SHIPPED,
    Order,
)
from bot.support.dates import add_business_days, business_days_between, plural, say_date
from core.constants import ISSUE_DAMAGED, ISSUE_LATE, ISSUE_LOST

TRACE_AFTER_BUSINESS_DAYS = 3  # a late order is traced 3 business days past its estimate
RESOLVE_AFTER_BUSINESS_DAYS = 7  # reship or refund 7 business days past the estimate
DAMAGE_REPORT_DAYS = 14
LOST_WAIT_HOURS = 48


@dataclass(frozen=True)
class DeliveryAssessment:
    """What the bot tells the customer about a delivery problem, and the case to open."""

    message: str
    case_kind: str | None  # None: nothing to open (e.g. the order is not late yet)
    case_summary: str = ""


def describe(order: Order) -> str:
    return f"order {order.number} ({order.item_summary})"


def order_facts(order: Order, today: date) -> str:
    """One line for an agent: what, status, carrier and tracking, and how late."""
    parts = [order.item_summary, order.status.replace("_", " ")]
    if order.carrier:
        parts.append(order.carrier + (f" {order.tracking}" if order.tracking else ""))
    if order.estimated_delivery and order.status in (SHIPPED, OUT_FOR_DELIVERY, PROCESSING):
        parts.append(f"due {order.estimated_delivery.isoformat()}")
    late = order.days_late(today)
    if late:
        parts.append(f"{plural(late, 'day')} late")
    return "; ".join(parts)


def order_status_message(order: Order, today: date, reported: bool = False) -> str:
    """What the customer is told about `order` (`reported`: a case about it is open, so
    a late order is not offered to be reported again)."""
    what = describe(order)
    if order.status == PROCESSING:
        eta = say_date(order.estimated_delivery, today) if order.estimated_delivery else "soon"
        return (
            f"Your {what} is being prepared and hasn't shipped yet; it's estimated to arrive "
            f"by {eta}. While it's processing you can still change the address or cancel it."
        )
    if order.status in (SHIPPED, OUT_FOR_DELIVERY):
        late = order.days_late(today)
        tracking = f" (tracking {order.tracking})" if order.tracking else ""
        if order.status == OUT_FOR_DELIVERY:
            head = f"Your {what} is out for delivery with {order.carrier}{tracking}"
        else:
            shipped = say_date(order.shipped_on, today) if order.shipped_on else "recently"
            head = f"Your {what} shipped {_on(shipped)} with {order.carrier}{tracking}"
        if late and order.estimated_delivery:
            due = (
                f"{head}. It was due {_on(say_date(order.estimated_delivery, today))}, so it's "
                f"{plural(late, 'day')} late"
            )
            if reported:
                return f"{due}. It's already reported, and we're tracing it with the carrier."
            return (
                f"{due} — I'm sorry. If you'd like, tell me it's late "
                "and I'll report it so we trace it with the carrier."
            )
        eta = say_date(order.estimated_delivery, today) if order.estimated_delivery else "soon"
        return f"{head}. It's estimated to arrive {_on(eta)}."
    if order.status == DELIVERED:
        when = say_date(order.delivered_on, today) if order.delivered_on else "recently"
        return f"Your {what} was delivered {_on(when)} by {order.carrier}."
    if order.status == CANCELLED:
        return f"Your {what} was cancelled, and nothing was charged for it."
    if order.status == RETURNED:
        return f"Your {what} was returned, and its refund has been issued."
    return f"Your {what} has the status: {order.status.replace('_', ' ')}."


def assess_delivery_problem(order: Order, issue: str, today: date) -> DeliveryAssessment:
    """Apply the delivery policy (docs/company.md) to one order and one problem."""
    what = describe(order)
    if order.status in (PROCESSING, CANCELLED, RETURNED):
        return DeliveryAssessment(order_status_message(order, today), None)
    if issue == ISSUE_DAMAGED:
        return _damaged(order, today)
    if issue == ISSUE_LOST or (issue == ISSUE_LATE and order.status == DELIVERED):
        return _lost(order, today)
    late = order.days_late(today)
    if not late or order.estimated_delivery is None:
        eta = say_date(order.estimated_delivery, today) if order.estimated_delivery else "soon"
        return DeliveryAssessment(
            f"Good news: your {what} isn't late yet. It's with {order.carrier} and estimated "
            f"to arrive {_on(eta)}.",
            None,
        )
    trace_from = add_business_days(order.estimated_delivery, TRACE_AFTER_BUSINESS_DAYS)
    resolve_from = add_business_days(order.estimated_delivery, RESOLVE_AFTER_BUSINESS_DAYS)
    summary = (
        f"Order {order.number} is {plural(late, 'day')} late (due {order.estimated_delivery})."
    )
    if business_days_between(order.estimated_delivery, today) >= TRACE_AFTER_BUSINESS_DAYS:
        return DeliveryAssessment(
            f"I'm sorry — your {what} was due {_on(say_date(order.estimated_delivery, today))} "
            f"and is {plural(late, 'day')} late. I've opened a trace with {order.carrier}. If it "
            f"hasn't arrived by {say_date(resolve_from, today)}, we'll reship it or refund you, "
            "whichever you prefer.",
            CASE_LATE_DELIVERY,
            summary + f" Carrier trace opened with {order.carrier}.",
        )
    return DeliveryAssessment(
        f"I'm sorry — your {what} is {plural(late, 'day')} past its estimated delivery. "
        f"Carriers usually catch up within {TRACE_AFTER_BUSINESS_DAYS} business days; I've noted "
        f"it, and if it hasn't arrived by {say_date(trace_from, today)} we'll open a trace "
        f"with {order.carrier}.",
        CASE_LATE_DELIVERY,
        summary,
    )


def _damaged(order: Order, today: date) -> DeliveryAssessment:
    what = describe(order)
    if order.status != DELIVERED or order.delivered_on is None:
        return DeliveryAssessment(
            f"Your {what} hasn't been delivered yet ({order.status.replace('_', ' ')}). If it "
            "arrives damaged, tell me and I'll sort out a replacement or refund.",
            None,
        )
    age = (today - order.delivered_on).days
    summary = f"Order {order.number} arrived damaged or wrong (delivered {order.delivered_on})."
    if age > DAMAGE_REPORT_DAYS:
        return DeliveryAssessment(
            f"I'm sorry about the damage. Your {what} was delivered {plural(age, 'day')} ago, and "
            f"damage reports are normally accepted within {DAMAGE_REPORT_DAYS} days, so I've "
            "passed this to our team to review — we'll email you.",
            CASE_DAMAGED_ITEM,
            summary + " Reported after the 14-day window.",
        )
    return DeliveryAssessment(
        f"I'm so sorry your {what} arrived damaged. I've opened a damage claim: please email "
        "a photo of the damage to support@brightbasket.example with your order number, and "
        "we'll send a free replacement or a full refund — whichever you prefer. You don't "
        "need to send the damaged item back.",
        CASE_DAMAGED_ITEM,
        summary + " Damage claim opened; replacement or refund offered.",
    )


def _lost(order: Order, today: date) -> DeliveryAssessment:
    what = describe(order)
    if order.status != DELIVERED or order.delivered_on is None:
        eta = say_date(order.estimated_delivery, today) if order.estimated_delivery else "soon"
        return DeliveryAssessment(
            f"Your {what} hasn't been marked as delivered yet — it's still with "
            f"{order.carrier}, estimated {_on(eta)}.",
            None,
        )
    hours = (today - order.delivered_on).days * 24
    summary = f"Order {order.number} marked delivered {order.delivered_on} but not received."
    if hours < LOST_WAIT_HOURS:
        return DeliveryAssessment(
            f"I'm sorry — {order.carrier} marked your {what} as delivered "
            f"{say_date(order.delivered_on, today)}. Carriers sometimes scan packages early, "
            "so please check with neighbours and around your door, and give it until "
            f"{say_date(add_business_days(order.delivered_on, 2), today)}. I've noted it, and "
            "if it still hasn't turned up, tell me and we'll replace or refund it.",
            CASE_LOST_DELIVERY,
            summary + " Asked to wait 48 hours.",
        )
    return DeliveryAssessment(
        f"I'm sorry — {order.carrier} marked your {what} as delivered "
        f"{_on(say_date(order.delivered_on, today))}, but you haven't received it. I've opened "
        "a missing-package claim with the carrier; we'll send a replacement or refund you "
        "within 5 business days if it isn't found.",
        CASE_LOST_DELIVERY,
        summary + " Missing-package claim opened.",
    )


def _on(when: str) -> str:
    return when if when in ("today", "tomorrow", "yesterday") else f"on {when}"
