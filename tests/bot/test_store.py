from __future__ import annotations

from datetime import date

import pytest

from bot.errors import StoreError
from bot.store import SupportStore, is_order_number
from bot.store.models import CASE_LATE_DELIVERY


def test_seeded_order_has_items_dates_and_owner(store: SupportStore) -> None:
    order = store.get_order("10234")
    assert order is not None
    assert order.customer_id == "C1001"
    assert order.status == "shipped"
    assert order.estimated_delivery == date(2026, 11, 10)  # seeded as "8 days ago"
    assert order.days_late(store.today()) == 8
    assert order.total == pytest.approx(54.0)


def test_unknown_order_is_none(store: SupportStore) -> None:
    assert store.get_order("99999") is None


def test_order_number_format() -> None:
    assert is_order_number("10234")
    assert not is_order_number("1023")
    assert not is_order_number("102345")
    assert not is_order_number("1023a")


def test_customer_lookup_by_email_ignores_case(store: SupportStore) -> None:
    customer = store.find_customer_by_email("  Dana.Whitfield@EXAMPLE.com ")
    assert customer is not None and customer.id == "C1001"
    assert customer.first_name == "Dana"


def test_identity_link_is_stable_and_updatable(store: SupportStore) -> None:
    assert store.customer_for_key("browser-1") is None
    store.link_identity("browser-1", "C1001")
    store.link_identity("browser-1", "C1001")
    assert store.customer_for_key("browser-1").id == "C1001"
    store.link_identity("browser-1", "C1002")
    assert store.customer_for_key("browser-1").id == "C1002"


def test_address_changes_only_while_processing(store: SupportStore) -> None:
    assert store.change_address("10311", "1 New St, Boston, MA 02110")
    assert store.get_order("10311").address == "1 New St, Boston, MA 02110"
    assert not store.change_address("10234", "1 New St, Boston, MA 02110")
    assert store.get_order("10234").address.startswith("14 Alder Lane")


def test_cases_open_refresh_and_resolve(store: SupportStore) -> None:
    first = store.open_case("k1", CASE_LATE_DELIVERY, "late", order_number="10234")
    again = store.open_case("k1", CASE_LATE_DELIVERY, "still late", order_number="10234")
    assert again.id == first.id and again.summary == "still late"
    assert store.latest_open_case("k1").id == first.id
    assert store.latest_open_case("someone-else") is None
    store.resolve_case(first.id)
    assert store.latest_open_case("k1") is None


def test_open_case_found_by_store_customer_from_another_channel(store: SupportStore) -> None:
    store.open_case("web-browser", CASE_LATE_DELIVERY, "late", "10234", customer_id="C1001")
    found = store.latest_open_case("messenger-user", customer_id="C1001")
    assert found is not None and found.order_number == "10234"


def test_refund_payment_only_once(store: SupportStore) -> None:
    assert store.refund_payment("P9002")
    assert not store.refund_payment("P9002")


def test_cancel_subscription(store: SupportStore) -> None:
    assert store.cancel_subscription("S502")
    assert not store.cancel_subscription("S502")
    statuses = {s.id: s.status for s in store.subscriptions_for_customer("C1001")}
    assert statuses == {"S501": "active", "S502": "cancelled"}


def test_unreachable_database_raises_clear_error(tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    broken = SupportStore(f"sqlite:///{blocker}/store.db")
    with pytest.raises(StoreError, match=r"python -m bot\.store --reset"):
        broken.get_order("10234")


def test_empty_url_is_rejected() -> None:
    with pytest.raises(StoreError, match="STORE_URL"):
        SupportStore("")


def test_a_phone_number_finds_its_one_customer_however_it_is_written(store) -> None:
    assert store.customer_by_phone("+15550101").id == "C1001"  # on file as "+1 555 0101"
    assert store.customer_by_phone("whatsapp:+1 (555) 0101").id == "C1001"
    assert store.customer_by_phone("+15550102") is None
    assert store.customer_by_phone("0101") is None  # too short to mean anyone


def test_a_phone_number_shared_by_two_customers_links_nobody(store) -> None:
    import sqlalchemy as sa

    from bot.store import schema

    with store.engine.begin() as connection:
        connection.execute(
            sa.update(schema.customers)
            .where(schema.customers.c.id == "C1002")
            .values(phone="+1-555-0101")
        )
    assert store.customer_by_phone("+15550101") is None
