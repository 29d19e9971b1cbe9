from __future__ import annotations

from datetime import timedelta

from bot.store import SupportStore
from bot.store.models import CASE_LATE_DELIVERY
from bot.support import cancellation_outcome, case_topic, welcome_back_message


def test_pantry_box_cancellation_names_next_billing(store: SupportStore) -> None:
    sub = next(s for s in store.subscriptions_for_customer("C1001") if s.plan == "pantry_box")
    text = cancellation_outcome(sub, store.today()).message
    assert "Pantry Box subscription is cancelled" in text and "won't be billed" in text


def test_annual_plus_refund_only_within_14_days_of_renewal(store: SupportStore) -> None:
    sub = store.subscriptions_for_customer("C1005")[0]
    late = cancellation_outcome(sub, store.today())
    assert late.refund == 0 and "isn't refundable" in late.message
    renewed_recently = sub.__class__(
        **{**sub.__dict__, "next_billing": store.today() + timedelta(days=360)}
    )
    early = cancellation_outcome(renewed_recently, store.today())
    assert early.refund > 80 and "pro-rata refund" in early.message


def test_welcome_back_names_the_open_issue(store: SupportStore) -> None:
    case = store.open_case("k", CASE_LATE_DELIVERY, "late", order_number="10234")
    assert case_topic(case) == "the late order 10234"
    text = welcome_back_message(case, store.get_customer("C1001"))
    assert text == "Welcome back, Dana — is this about the late order 10234?"
    assert welcome_back_message(case, None).startswith("Welcome back — ")
