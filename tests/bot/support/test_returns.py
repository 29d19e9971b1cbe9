from __future__ import annotations

import pytest

from bot.store import SupportStore
from bot.support import decide_return, return_confirmation


def test_standard_customer_pays_return_shipping(store: SupportStore) -> None:
    order = store.get_order("10342")
    decision = decide_return(order, store.get_customer("C1002"), "changed my mind", store.today())
    assert decision.eligible
    assert decision.refund_amount == pytest.approx(39.50 - 5.95)
    assert not decision.free_shipping


def test_defective_item_returns_free(store: SupportStore) -> None:
    order = store.get_order("10342")
    decision = decide_return(
        order, store.get_customer("C1002"), "one bowl arrived cracked", store.today()
    )
    assert decision.free_shipping and decision.refund_amount == pytest.approx(39.50)


def test_plus_member_returns_free(store: SupportStore) -> None:
    order = store.get_order("10235")
    decision = decide_return(order, store.get_customer("C1001"), "too small", store.today())
    assert decision.free_shipping
    assert decision.refund_amount == pytest.approx(24.99 + 2 * 9.50)


def test_outside_window_mentions_warranty_for_electronics(store: SupportStore) -> None:
    order = store.get_order("10377")
    decision = decide_return(order, store.get_customer("C1003"), "stopped working", store.today())
    assert not decision.eligible
    assert "window closed" in decision.message and "warranty" in decision.message


def test_perishable_only_order_is_not_returnable(store: SupportStore) -> None:
    decision = decide_return(store.get_order("10467"), None, "don't like it", store.today())
    assert not decision.eligible
    assert "Olive oil sampler" in decision.message


@pytest.mark.parametrize(
    ("number", "phrase"),
    [
        ("10311", "cancelled for a full refund"),
        ("10402", "hasn't been delivered"),
        ("10489", "was cancelled"),
        ("10502", "already been returned"),
    ],
)
def test_orders_that_cannot_be_returned_say_why(
    store: SupportStore, number: str, phrase: str
) -> None:
    decision = decide_return(store.get_order(number), None, "reason", store.today())
    assert not decision.eligible and phrase in decision.message


def test_confirmation_quotes_request_deadline_and_amount(store: SupportStore) -> None:
    order = store.get_order("10342")
    decision = decide_return(order, None, "changed my mind", store.today())
    request = store.create_return_request(
        order, "return", "changed my mind", decision.refund_amount
    )
    text = return_confirmation(order, request, decision, "marcus.lee@example.com", store.today())
    assert f"R-{request.id:05d}" in text
    assert "m***@example.com" in text
    assert "$33.55" in text and "5–10 business days" in text
