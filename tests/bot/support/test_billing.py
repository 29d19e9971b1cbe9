from __future__ import annotations

from bot.store import SupportStore
from bot.support import parse_amount, review_charges


def test_two_posted_charges_refund_the_duplicate(store: SupportStore) -> None:
    review = review_charges(
        store.payments_for_customer("C1001"),
        store.subscriptions_for_customer("C1001"),
        "charged_twice",
        store.today(),
    )
    assert review.refund_payment_ids == ("P9002",)
    assert "refunded the duplicate" in review.message and "$54.00" in review.message


def test_pending_authorisation_is_explained_not_refunded(store: SupportStore) -> None:
    review = review_charges(
        store.payments_for_customer("C1004"), [], "charged_twice", store.today()
    )
    assert review.refund_payment_ids == ()
    assert "pending authorisation" in review.message


def test_no_duplicate_lists_recent_charges(store: SupportStore) -> None:
    review = review_charges(
        store.payments_for_customer("C1005"), [], "charged_twice", store.today()
    )
    assert "don't see a duplicate" in review.message and "$32.00" in review.message


def test_plus_charge_without_membership_is_flagged(store: SupportStore) -> None:
    review = review_charges(
        store.payments_for_customer("C1002"),
        store.subscriptions_for_customer("C1002"),
        "unknown_charge",
        store.today(),
    )
    assert [p.id for p in review.suspicious] == ["P9022"]
    assert "flagged it to our billing team" in review.message


def test_unknown_amount_did_not_come_from_us(store: SupportStore) -> None:
    review = review_charges(
        store.payments_for_customer("C1001"),
        store.subscriptions_for_customer("C1001"),
        "unknown_charge",
        store.today(),
        amount=77.0,
    )
    assert "didn't come from us" in review.message


def test_parse_amount() -> None:
    assert parse_amount("$54.00") == 54.0
    assert parse_amount("30 dollars") == 30.0
    assert parse_amount(None) is None and parse_amount("lots") is None
