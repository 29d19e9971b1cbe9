"""Return and refund eligibility (30-day window, non-returnable items, return shipping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.store.models import (
    CANCELLED,
    DELIVERED,
    PROCESSING,
    RETURNED,
    Customer,
    Order,
    ReturnRequest,
)
from bot.support.dates import say_date

RETURN_SHIPPING_FEE = 5.95
FREE_RETURN_WORDS = ("damag", "broke", "defect", "faulty", "wrong", "crack", "smash", "not work")


@dataclass(frozen=True)
class ReturnDecision:
    eligible: bool
    message: str  # why not, when not eligible
    refund_amount: float = 0.0
    free_shipping: bool = False
    excluded_items: tuple[str, ...] = ()


def decide_return(
    order: Order, customer: Customer | None, reason: str, today: date
) -> ReturnDecision:
    """Can this order be returned or refunded, and for how much?"""
    label = f"Order {order.number}"
    if order.status == PROCESSING:
        return ReturnDecision(
            False,
            f"{label} hasn't shipped yet, so there's nothing to return — it can still be "
            "cancelled for a full refund while it's processing.",
        )
    if order.status == CANCELLED:
        return ReturnDecision(False, f"{label} was cancelled, and nothing was charged for it.")
    if order.status == RETURNED:
        return ReturnDecision(False, f"{label} has already been returned and refunded.")
    if order.status != DELIVERED or order.delivered_on is None:
        return ReturnDecision(
            False,
            f"{label} hasn't been delivered yet. Once it arrives you'll have 30 days to return "
            "it — or, if it doesn't arrive, tell me it's late and I'll look into it.",
        )
    deadline = order.return_deadline()
    assert deadline is not None
    if today > deadline:
        warranty = any(i.category == "electronics" for i in order.items)
        extra = (
            " It's covered by our 1-year warranty, though: if it's faulty, tell me and I'll "
            "start a warranty claim."
            if warranty
            else ""
        )
        return ReturnDecision(
            False,
            f"{label} was delivered {say_date(order.delivered_on, today)}, and the 30-day return "
            f"window closed on {say_date(deadline, today)}.{extra}",
        )
    excluded = tuple(i.name for i in order.items if not i.returnable)
    amount = order.returnable_total
    if amount <= 0:
        return ReturnDecision(
            False,
            f"{label} only has items we can't take back ({', '.join(excluded)}): perishable "
            "pantry food, gift cards and personalised items aren't returnable.",
            excluded_items=excluded,
        )
    free = (customer is not None and customer.tier == "plus") or any(
        w in reason.lower() for w in FREE_RETURN_WORDS
    )
    refund = round(amount if free else amount - RETURN_SHIPPING_FEE, 2)
    return ReturnDecision(True, "", refund, free, excluded)


def return_confirmation(
    order: Order, request: ReturnRequest, decision: ReturnDecision, email: str, today: date
) -> str:
    deadline = order.return_deadline()
    kind = "refund" if request.kind == "refund" else "return"
    parts = [
        f"Done — I've opened {kind} request R-{request.id:05d} for order {order.number}.",
        f"A prepaid UPS return label is on its way to {mask_email(email)}; drop the parcel at "
        f"any UPS location by {say_date(deadline, today) if deadline else 'the deadline'}.",
    ]
    if decision.free_shipping:
        parts.append(
            f"Return shipping is free, so your refund will be ${decision.refund_amount:.2f}."
        )
    else:
        parts.append(
            f"Your refund will be ${decision.refund_amount:.2f} (${order.returnable_total:.2f} "
            f"less ${RETURN_SHIPPING_FEE:.2f} return shipping)."
        )
    if decision.excluded_items:
        parts.append(f"Not included (not returnable): {', '.join(decision.excluded_items)}.")
    parts.append(
        "We refund the original payment method within 2 business days after the parcel "
        "reaches our warehouse; card refunds take 5–10 business days to show on your statement."
    )
    return " ".join(parts)


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "your email"
