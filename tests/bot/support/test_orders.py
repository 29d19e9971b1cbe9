from __future__ import annotations

from bot.store import SupportStore
from bot.store.models import CASE_DAMAGED_ITEM, CASE_LATE_DELIVERY, CASE_LOST_DELIVERY
from bot.support import assess_delivery_problem, order_facts, order_status_message


def test_status_of_a_late_shipped_order_says_how_late(store: SupportStore) -> None:
    text = order_status_message(store.get_order("10234"), store.today())
    assert "order 10234 (12-inch cast-iron skillet)" in text
    assert "UPS" in text and "1Z999AA10123456784" in text
    assert "8 days late" in text


def test_a_late_order_already_reported_is_not_offered_to_be_reported_again(
    store: SupportStore,
) -> None:
    order = store.get_order("10234")
    assert "report it" in order_status_message(order, store.today())
    text = order_status_message(order, store.today(), reported=True)
    assert "8 days late" in text and "already reported" in text
    assert "report it" not in text and "sorry" not in text.lower()


def test_the_store_finds_the_open_case_of_an_order(store: SupportStore) -> None:
    assert store.open_case_for_order("10234") is None
    case = store.open_case("web-1", CASE_LATE_DELIVERY, "late", order_number="10234")
    assert store.open_case_for_order("10234") == case
    store.resolve_case(case.id)
    assert store.open_case_for_order("10234") is None


def test_status_of_processing_order_mentions_address_change(store: SupportStore) -> None:
    text = order_status_message(store.get_order("10311"), store.today())
    assert "hasn't shipped yet" in text and "change the address" in text


def test_status_of_delivered_and_cancelled_orders(store: SupportStore) -> None:
    assert "was delivered on" in order_status_message(store.get_order("10342"), store.today())
    assert "cancelled" in order_status_message(store.get_order("10489"), store.today())


def test_late_order_past_three_business_days_gets_a_trace(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10234"), "late", store.today())
    assert a.case_kind == CASE_LATE_DELIVERY
    assert "opened a trace with UPS" in a.message
    assert "10234" in a.case_summary


def test_order_that_is_not_late_opens_no_case(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10402"), "late", store.today())
    assert a.case_kind is None
    assert "isn't late yet" in a.message


def test_damaged_recent_delivery_opens_a_claim(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10456"), "damaged", store.today())
    assert a.case_kind == CASE_DAMAGED_ITEM
    assert "replacement" in a.message and "don't need to send" in a.message


def test_damage_reported_after_14_days_goes_to_review(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10377"), "damaged", store.today())
    assert a.case_kind == CASE_DAMAGED_ITEM
    assert "within 14 days" in a.message


def test_lost_package_recently_marked_delivered_asks_to_wait(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10550"), "lost", store.today())
    assert a.case_kind == CASE_LOST_DELIVERY
    assert "neighbours" in a.message


def test_lost_package_after_48_hours_opens_claim(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10415"), "lost", store.today())
    assert a.case_kind == CASE_LOST_DELIVERY
    assert "missing-package claim" in a.message


def test_late_report_for_delivered_order_is_treated_as_missing(store: SupportStore) -> None:
    a = assess_delivery_problem(store.get_order("10415"), "late", store.today())
    assert a.case_kind == CASE_LOST_DELIVERY


def test_order_facts_give_an_agent_the_status_in_one_line(store: SupportStore) -> None:
    facts = order_facts(store.get_order("10234"), store.today())
    assert facts.startswith("12-inch cast-iron skillet; shipped; UPS 1Z999AA10123456784")
    assert facts.endswith("8 days late")
    delivered = order_facts(store.get_order("10342"), store.today())
    assert "late" not in delivered and "delivered" in delivered
