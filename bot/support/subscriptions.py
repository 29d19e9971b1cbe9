"""Cancelling subscriptions: what the customer keeps, and what is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.store.models import Subscription
from bot.support.dates import say_date
from core.constants import PLAN_PANTRY_BOX, PLAN_PLUS

PLAN_NAMES = {PLAN_PANTRY_BOX: "Pantry Box", PLAN_PLUS: "Brightbasket Plus"}
ANNUAL_REFUND_DAYS = 14


@dataclass(frozen=True)
class CancellationOutcome:
    message: str
    refund: float = 0.0


def plan_name(plan: str | None) -> str:
    return PLAN_NAMES.get(plan or "", plan or "subscription")


def active(subscriptions: list[Subscription]) -> list[Subscription]:
    return [s for s in subscriptions if s.status in ("active", "paused")]


def cancellation_outcome(subscription: Subscription, today: date) -> CancellationOutcome:
    name = plan_name(subscription.plan)
    nxt = subscription.next_billing
    if subscription.plan == PLAN_PANTRY_BOX:
        tail = (
            " You won't be billed again — your next box would have been billed "
            f"{_on(say_date(nxt, today))}."
            if nxt
            else ""
        )
        return CancellationOutcome(f"Done — your {name} subscription is cancelled.{tail}")
    if subscription.period == "yearly" and nxt is not None:
        renewed = nxt - timedelta(days=365)
        if (today - renewed).days <= ANNUAL_REFUND_DAYS:
            used_days = max(0, (today - renewed).days)
            refund = round(subscription.price * (365 - used_days) / 365, 2)
            return CancellationOutcome(
                f"Done — your {name} membership is cancelled. You renewed "
                f"{_on(say_date(renewed, today))}, within the last {ANNUAL_REFUND_DAYS} days, so "
                f"you'll get a pro-rata refund of ${refund:.2f} to your original payment method.",
                refund,
            )
        return CancellationOutcome(
            f"Done — your {name} membership won't renew. Your benefits stay active until "
            f"{say_date(nxt, today)}; the annual fee isn't refundable more than "
            f"{ANNUAL_REFUND_DAYS} days after renewal."
        )
    until = f" You keep your benefits until {say_date(nxt, today)}." if nxt else ""
    return CancellationOutcome(f"Done — your {name} membership is cancelled.{until}")


def _on(when: str) -> str:
    return when if when in ("today", "tomorrow", "yesterday") else f"on {when}"
