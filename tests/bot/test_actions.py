"""Custom actions run directly against a seeded store, without Rasa."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import base
from bot.actions.orders import ActionReportDeliveryProblem, ValidateOrderLookupForm
from bot.actions.session import ActionGreet, ActionSessionStart
from bot.actions.support import NOT_UNDERSTOOD, ActionDefaultFallback, consecutive_fallbacks
from bot.store import SupportStore
from bot.store.models import CASE_LATE_DELIVERY
from core.constants import CONSENT_REMEMBER, CONSENT_TEXTS
from tests.conftest import run_async


@pytest.fixture(autouse=True)
def use_store(store: SupportStore):
    base.set_store(store)
    yield
    base.set_store(None)


def tracker(
    slots: dict[str, Any] | None = None,
    events: list | None = None,
    text: str = "",
    sender: str = "sender-1",
) -> Tracker:
    return Tracker(
        sender,
        slots or {},
        {"text": text, "intent": {}, "entities": []},
        events or [],
        False,
        None,
        {},
        "action_listen",
    )


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = run_async(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def slot_events(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_session_start_takes_a_signed_in_customer_from_the_verified_identity(store) -> None:
    messages, events = run(
        ActionSessionStart(),
        tracker(
            {
                "session_started_metadata": {"customer_id": "C1001", "identity_verified": True},
                "order_number": "10234",
                "issue_type": "late",
            }
        ),
    )
    assert events[0]["event"] == "session_started"
    slots = slot_events(events)
    assert slots["customer_key"] == "signed-in:C1001"
    assert slots["customer_id"] == "C1001" and slots["customer_name"] == "Dana Whitfield"
    assert "order_number" not in slots and "issue_type" not in slots  # not carried over
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    assert messages == []  # no open case: nothing to ask


def test_session_start_without_metadata_falls_back_to_sender_id() -> None:
    _, events = run(ActionSessionStart(), tracker(sender="sender-xyz"))
    assert slot_events(events)["customer_key"] == "sender-xyz"


def remember(store: SupportStore, sender: str, granted: bool = True) -> None:
    store.record_consent(sender, CONSENT_REMEMBER, granted, CONSENT_TEXTS[CONSENT_REMEMBER], "web")


def test_session_start_keeps_an_anonymous_customer_who_agreed_to_be_remembered(store) -> None:
    store.link_identity("sender-xyz", "C1004")
    remember(store, "sender-xyz")
    previous = {"customer_key": "sender-xyz", "customer_id": "C1004", "email": "tom@x.example"}
    _, events = run(ActionSessionStart(), tracker(previous, sender="sender-xyz"))
    slots = slot_events(events)
    assert slots["customer_key"] == "sender-xyz" and slots["customer_id"] == "C1004"
    assert "email" not in slots  # the e-mail typed for a task is not kept


@pytest.mark.parametrize("granted", [False, None])
def test_without_consent_a_new_session_starts_fresh(store, granted) -> None:
    store.link_identity("sender-xyz", "C1001")  # linked before consent was asked
    store.open_case("sender-xyz", CASE_LATE_DELIVERY, "late", order_number="10234")
    if granted is not None:
        remember(store, "sender-xyz", granted)
    previous = {"customer_key": "sender-xyz", "customer_id": "C1001", "customer_name": "Dana"}
    _, events = run(ActionSessionStart(), tracker(previous, sender="sender-xyz"))
    slots = slot_events(events)
    assert slots["customer_key"] == "sender-xyz"
    assert "customer_id" not in slots and "customer_name" not in slots
    assert slots["open_case_id"] is None  # no earlier conversation is brought up


def test_consent_given_after_a_code_links_the_chat_at_the_next_session(store) -> None:
    previous = {"customer_key": "web-5", "customer_id": "C1001", "verified_by": "code"}
    remember(store, "web-5")
    _, events = run(ActionSessionStart(), tracker(previous, sender="web-5"))
    assert store.customer_for_key("web-5").id == "C1001"
    assert slot_events(events)["verified_by"] == "linked"


def test_session_start_forgets_a_signed_in_customer_once_the_identity_is_gone(store) -> None:
    previous = {"customer_key": "signed-in:C1001", "customer_id": "C1001", "customer_name": "D"}
    _, events = run(ActionSessionStart(), tracker(previous, sender="shared-browser"))
    slots = slot_events(events)
    assert slots["customer_key"] == "shared-browser"
    assert "customer_id" not in slots and "customer_name" not in slots


FIRST_HELLO = [{"event": "session_started"}, {"event": "user", "text": "hi"}]


def test_returning_customer_is_asked_about_the_open_case(store) -> None:
    """Session start notes the open case and says nothing; a first message that does not
    say what the customer wants ("hi") gets the question."""
    store.link_identity("web-42", "C1001")
    remember(store, "sender-1")
    case = store.open_case(
        "web-42", CASE_LATE_DELIVERY, "late", order_number="10234", customer_id="C1001"
    )
    messages, events = run(ActionSessionStart(), tracker({"customer_key": "web-42"}))
    assert messages == []
    slots = slot_events(events)
    assert slots["open_case_id"] == case.id and slots["customer_name"] == "Dana Whitfield"
    messages, events = run(
        ActionGreet(), tracker({**slots, "customer_key": "web-42"}, events=FIRST_HELLO)
    )
    assert messages[0]["text"] == "Welcome back, Dana — is this about the late order 10234?"
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    asked = slot_events(events)
    assert asked["welcome_back_pending"] is True and asked["order_number"] == "10234"


def test_no_open_case_question_for_a_resolved_case_or_after_the_first_message(store) -> None:
    store.link_identity("web-42", "C1001")
    case = store.open_case("web-42", CASE_LATE_DELIVERY, "late", order_number="10234")
    later = [*FIRST_HELLO, {"event": "user", "text": "hi again"}]
    messages, _ = run(ActionGreet(), tracker({"open_case_id": case.id}, events=later))
    assert "Welcome back" not in messages[0]["text"]
    store.resolve_case(case.id)
    messages, _ = run(ActionGreet(), tracker({"open_case_id": case.id}, events=FIRST_HELLO))
    assert "Welcome back" not in messages[0]["text"]


@pytest.mark.parametrize(
    ("value", "expected", "says"),
    [
        ("1234", None, "(1234 has 4 digits)"),
        ("my order is 99999", None, "couldn't find order 99999"),
        ("it's #10234!", "10234", None),
        ("", None, "5 digits"),
    ],
)
def test_order_number_validation(value: str, expected, says) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateOrderLookupForm().validate_order_number(value, dispatcher, tracker(), {})
    assert result == {"order_number": expected}
    if says:
        assert says in dispatcher.messages[0]["text"]


def test_order_of_another_customer_is_refused() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateOrderLookupForm().validate_order_number(
        "10342", dispatcher, tracker({"customer_id": "C1001"}), {}
    )
    assert result == {"order_number": None}
    assert "isn't on your account" in dispatcher.messages[0]["text"]


def test_email_must_match_the_order_and_proves_only_a_little(store) -> None:
    form = ValidateOrderLookupForm()
    t = tracker({"order_number": "10234", "customer_key": "web-7"})
    dispatcher = CollectingDispatcher()
    assert form.validate_email("marcus.lee@example.com", dispatcher, t, {}) == {"email": None}
    assert "doesn't match" in dispatcher.messages[0]["text"]
    ok = form.validate_email(
        "my email is Dana.Whitfield@example.com", CollectingDispatcher(), t, {}
    )
    assert ok["customer_id"] == "C1001" and ok["email"] == "Dana.Whitfield@example.com"
    assert ok["verified_by"] == "email"  # enough to read the order, not to change it
    assert store.customer_for_key("web-7") is None  # the conversation is not linked


def test_verified_customer_skips_the_email_question() -> None:
    form = ValidateOrderLookupForm()
    slots = run_async(
        form.required_slots(
            ["order_number", "email"], CollectingDispatcher(), tracker({"customer_id": "C1001"}), {}
        )
    )
    assert slots == ["order_number"]


def test_late_delivery_report_opens_a_case(store) -> None:
    messages, events = run(
        ActionReportDeliveryProblem(),
        tracker(
            {
                "order_number": "10234",
                "issue_type": "late",
                "customer_key": "web-9",
                "customer_id": "C1001",
            }
        ),
    )
    assert "opened a trace with UPS" in messages[0]["text"]
    case = store.latest_open_case("web-9")
    assert case is not None and case.kind == CASE_LATE_DELIVERY
    assert f"Case #{case.id}" in messages[0]["text"]
    assert slot_events(events)["issue_type"] is None  # the request is done


def test_store_failure_becomes_a_polite_reply() -> None:
    base.set_store(SupportStore("sqlite:////proc/forbidden/store.db"))
    messages, events = run(ActionReportDeliveryProblem(), tracker({"order_number": "10234"}))
    assert "can't reach our order system" in messages[0]["text"]
    assert events == []


def test_second_fallback_in_a_row_offers_a_person() -> None:
    first_events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "x"}]
    assert consecutive_fallbacks(tracker(events=first_events)) == 0
    messages, events = run(ActionDefaultFallback(), tracker(events=first_events))
    assert messages[0]["text"] == NOT_UNDERSTOOD
    assert events[0]["event"] == "rewind"
    after = [
        *first_events,
        {"event": "action", "name": "action_default_fallback"},
        {"event": "rewind"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "y"},
    ]
    messages, _ = run(ActionDefaultFallback(), tracker(events=after))
    assert "get a person" in messages[0]["text"]


def test_zip_code_in_a_new_address_does_not_replace_the_order_number() -> None:
    events = [
        {"event": "slot", "name": "order_number", "value": "10311"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "99 Elm Street, Boston, MA 02118"},
        {"event": "slot", "name": "order_number", "value": "02118"},
    ]
    t = Tracker(
        "s",
        {"requested_slot": "new_address", "order_number": "02118"},
        {},
        events,
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    result = ValidateOrderLookupForm().validate_order_number("02118", dispatcher, t, {})
    assert result == {"order_number": "10311"} and dispatcher.messages == []


def test_a_double_charge_refunded_in_the_chat_leaves_no_open_case(store) -> None:
    """The case is kept as a record but closed: next time nobody asks about it."""
    from bot.actions.billing import ActionCheckBilling

    store.link_identity("web-7", "C1001")
    messages, events = run(
        ActionCheckBilling(),
        tracker(
            {
                "customer_id": "C1001",
                "customer_key": "web-7",
                "issue_type": "charged_twice",
                "verified_by": "code",
            }
        ),
    )
    assert "refund" in messages[0]["text"].lower()
    assert "open_case_id" not in slot_events(events)
    assert store.latest_open_case("web-7", "C1001") is None
    assert [c.status for c in store.cases_for_customer("web-7")] == ["resolved"]


def test_a_form_answer_not_yet_checked_stays_out_of_the_handoff_summary() -> None:
    from bot.actions.handoff import answered

    raw = tracker({"order_number": "I'm afraid that's no use", "email": "not an email"})
    assert answered(raw)["order_number"] is None and answered(raw)["email"] is None
    checked = tracker({"order_number": "10234", "email": "dana.whitfield@example.com"})
    assert answered(checked)["order_number"] == "10234"
    assert answered(checked)["email"] == "dana.whitfield@example.com"
