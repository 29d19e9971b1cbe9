"""Charges on a customer's card: duplicates, pending authorisations, unknown charges."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from bot.store.models import Payment, Subscription
from bot.support.dates import say_date
from core.constants import ISSUE_CHARGED_TWICE

DESCRIPTOR_MEANING = {
    "BRIGHTBASKET*ORDER": "an order",
    "BRIGHTBASKET*PLUS": "Brightbasket Plus membership",
    "BRIGHTBASKET*PANTRY": "Pantry Box subscription",
}
PLAN_OF_DESCRIPTOR = {"BRIGHTBASKET*PLUS": "plus", "BRIGHTBASKET*PANTRY": "pantry_box"}


@dataclass(frozen=True)
class BillingReview:
    message: str
    refund_payment_ids: tuple[str, ...] = ()  # duplicates to refund
    suspicious: tuple[Payment, ...] = field(default_factory=tuple)  # charges nothing explains

    @property
    def opens_case(self) -> bool:
        return bool(self.refund_payment_ids or self.suspicious)


def parse_amount(text: str | None) -> float | None:
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit() or ch == ".")
    try:
        return float(digits) if digits else None
    except ValueError:
        return None


def review_charges(
    payments: list[Payment],
    subscriptions: list[Subscription],
    issue: str | None,
    today: date,
    amount: float | None = None,
) -> BillingReview:
    if issue == ISSUE_CHARGED_TWICE:
        return _duplicates(payments, today, amount)
    return _unknown(payments, subscriptions, today, amount)


def _duplicates(payments: list[Payment], today: date, amount: float | None) -> BillingReview:
    groups: dict[tuple[str | None, float], list[Payment]] = defaultdict(list)
    for p in payments:
        if p.status in ("posted", "pending") and (amount is None or abs(p.amount - amount) < 0.01):
            groups[(p.order_number or p.descriptor, p.amount)].append(p)
    posted_dupes: list[Payment] = []
    pending: list[Payment] = []
    lines: list[str] = []
    for (ref, value), group in groups.items():
        if len(group) < 2:
            continue
        posted = [p for p in group if p.status == "posted"]
        held = [p for p in group if p.status == "pending"]
        what = f"order {ref}" if ref and ref.isdigit() else DESCRIPTOR_MEANING.get(ref or "", ref)
        if len(posted) >= 2:
            posted_dupes.extend(posted[1:])
            lines.append(
                f"I found {len(posted)} charges of ${value:.2f} for {what} "
                f"{_on(say_date(posted[0].charged_on, today))}. I've refunded the duplicate; it "
                "will show on your statement within 5–10 business days."
            )
        elif posted and held:
            pending.extend(held)
            lines.append(
                f"For {what} there's one charge of ${value:.2f} and one pending authorisation of "
                "the same amount. The pending one isn't a real charge: it drops off by itself "
                "within 3–5 business days, so there's nothing to pay twice."
            )
    if not lines:
        recent = _list(payments[:5], today)
        return BillingReview(
            "I don't see a duplicate charge on your account in the last 60 days. Your recent "
            f"charges are: {recent}. If your statement shows something else, tell me the amount "
            "and date and I'll look again."
        )
    return BillingReview(" ".join(lines), tuple(p.id for p in posted_dupes))


def _unknown(
    payments: list[Payment], subscriptions: list[Subscription], today: date, amount: float | None
) -> BillingReview:
    if amount is not None:
        matching = [p for p in payments if abs(p.amount - amount) < 0.01]
        if not matching:
            return BillingReview(
                f"I can't find a charge of ${amount:.2f} from Brightbasket on your account in the "
                "last 60 days, so it didn't come from us. Please contact your bank to dispute it "
                "— and I can get a person to help if you'd like.",
                suspicious=(),
            )
        payments = matching
    plans = {s.plan for s in subscriptions if s.status != "cancelled"}
    unexplained = tuple(
        p
        for p in payments
        if p.descriptor in PLAN_OF_DESCRIPTOR and PLAN_OF_DESCRIPTOR[p.descriptor] not in plans
    )
    listing = _list(payments[:5], today)
    message = f"Here are the recent Brightbasket charges on your account: {listing}."
    if unexplained:
        first = unexplained[0]
        message += (
            f" The ${first.amount:.2f} {first.descriptor} charge "
            f"{_on(say_date(first.charged_on, today))} is for "
            f"{DESCRIPTOR_MEANING[first.descriptor]}, but you don't have that subscription — "
            "I've flagged it to our billing team to investigate and refund."
        )
    else:
        message += (
            " If the charge you're asking about isn't in this list, it didn't come from "
            "Brightbasket: please contact your bank to dispute it."
        )
    return BillingReview(message, suspicious=unexplained)


def _list(payments: list[Payment], today: date) -> str:
    if not payments:
        return "none"
    return "; ".join(
        f"${p.amount:.2f} {p.descriptor} {_on(say_date(p.charged_on, today))}"
        + (" (pending)" if p.status == "pending" else "")
        + (" (refunded)" if p.status == "refunded" else "")
        for p in payments
    )


def _on(when: str) -> str:
    return when if when in ("today", "tomorrow", "yesterday") else f"on {when}"
