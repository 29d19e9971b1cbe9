"""Conversation facts from tracker events as the event broker publishes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.constants import OUTCOME_ABANDONED, OUTCOME_BOT, OUTCOME_PERSON
from insights.facts import FactsStore, pseudonym, reason_kind

KEY = b"test-secret"
T0 = 1_764_000_000.0


def user(sender: str, t: float, text: str, intent: str, frustration: float = 0.1, **kw: Any):
    scores = {
        "sentiment": {"negative": frustration, "neutral": 1 - frustration, "positive": 0.0},
        "frustration": frustration,
        "urgency": kw.pop("urgency", 0.0),
    }
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": t,
        "text": text,
        "input_channel": kw.pop("channel", "socketio"),
        "parse_data": {"intent": {"name": intent}, "emotion_in_context": scores},
    }


def slot(sender: str, t: float, name: str, value: Any) -> dict[str, Any]:
    return {"sender_id": sender, "event": "slot", "timestamp": t, "name": name, "value": value}


def bot(sender: str, t: float, text: str | None, data: dict[str, Any] | None = None):
    return {"sender_id": sender, "event": "bot", "timestamp": t, "text": text, "data": data or {}}


def session(sender: str, t: float) -> list[dict[str, Any]]:
    return [
        {"sender_id": sender, "event": "action", "timestamp": t, "name": "action_session_start"},
        {"sender_id": sender, "event": "session_started", "timestamp": t},
        slot(sender, t, "customer_key", f"browser-{sender}"),
    ]


def escalate(sender: str, t: float, queue: str = "orders_shipping") -> list[dict[str, Any]]:
    decision = {
        "action": "escalate",
        "distress": 0.86,
        "reasons": ["frustration 0.91", "2 failed answers"],
        "priority": "high",
        "queue": queue,
        "wait_target_seconds": 120,
    }
    return [
        slot(sender, t, "routing_decision", decision),
        slot(sender, t, "handoff_status", "waiting"),
    ]


@pytest.fixture
def store(tmp_path: Path):
    facts = FactsStore(f"sqlite:///{tmp_path / 'store.db'}", KEY)
    yield facts
    facts.close()


def test_a_contained_conversation(store: FactsStore) -> None:
    events = [
        *session("s1", T0),
        user("s1", T0 + 1, "where is my order", "order_status", 0.2),
        slot("s1", T0 + 1, "routing_decision", {"action": "continue", "distress": 0.1}),
        bot("s1", T0 + 2, "It arrives tomorrow."),
        user("s1", T0 + 10, "ok thanks", "thanks", 0.05),
    ]
    assert store.apply(events) == len(events)
    (f,) = store.for_sender("s1")
    assert (f.turns, f.channel, f.first_intent) == (2, "socketio", "order_status")
    assert f.intents == {"order_status": 1, "thanks": 1}
    assert f.frustration_peak == 0.2 and f.frustration_mean == pytest.approx(0.125)
    assert [p[1] for p in f.trajectory] == [0.2, 0.05]
    assert not f.escalated and f.outcome == OUTCOME_BOT and f.decisions == []
    assert f.customer == pseudonym(KEY, "key:browser-s1") and "browser" not in f.customer
    assert f.customer_text == "where is my order\nok thanks"


def test_an_escalated_conversation_with_its_times_and_rating(store: FactsStore) -> None:
    store.apply(
        [
            *session("s2", T0),
            user("s2", T0 + 1, "my parcel never came!!", "delivery_problem", 0.95, urgency=0.3),
            *escalate("s2", T0 + 1),
        ]
    )
    (f,) = store.for_sender("s2")
    assert f.escalated and f.queue == "orders_shipping" and f.priority == "high"
    assert f.escalation_reason == "frustration 0.91; 2 failed answers"
    assert f.outcome == OUTCOME_ABANDONED  # if it ended now: nobody has finished it
    assert f.decisions[0]["reasons"] == ["frustration 0.91", "2 failed answers"]
    claim = {"custom": {"data": {"handoff_status": "claimed", "handoff_agent": "Cara"}}}
    reply = {"custom": {"data": {"sender": "agent", "agent_name": "Cara", "text": "Hi"}}}
    store.apply(
        [
            slot("s2", T0 + 61, "handoff_status", "claimed"),
            bot("s2", T0 + 61, "Cara joined.", claim),
            bot("s2", T0 + 90, None, reply),
            slot("s2", T0 + 301, "handoff_status", "resolved"),
            bot("s2", T0 + 301, "Rate us", {"buttons": [{"payload": "/rate_service{}"}]}),
            user("s2", T0 + 310, '/rate_service{"csat_score": 4}', "rate_service"),
            slot("s2", T0 + 310, "csat_score", 4),
            slot("s2", T0 + 320, "csat_comment", "Cara was quick"),
        ]
    )
    (f,) = store.for_sender("s2")
    # The first reply: from the handoff (the customer's wait for a person's word).
    assert (f.seconds_to_claim, f.seconds_to_first_reply, f.handling_seconds) == (60, 89, 240)
    assert f.agent == "Cara" and f.outcome == OUTCOME_PERSON and f.closed_at == T0 + 301
    assert (f.csat_asked, f.csat, f.csat_comment) == (True, 4, "Cara was quick")
    assert f.turns == 1  # the rating's click is not a turn


def test_a_new_session_is_a_new_conversation_and_a_return_marks_a_repeat(
    store: FactsStore,
) -> None:
    store.apply([*session("s3", T0), user("s3", T0 + 1, "refund please", "request_refund")])
    store.apply([*session("s3", T0 + 3 * 86_400), user("s3", T0 + 3 * 86_400, "hi", "greet")])
    first, second = store.for_sender("s3")
    assert (first.session, second.session) == (1, 2)
    assert first.repeat_contact and not second.repeat_contact
    assert first.customer == second.customer
    # Eight days later is a new contact, not a repeat of the second.
    store.apply([*session("s3", T0 + 11 * 86_400), user("s3", T0 + 11 * 86_400, "x", "greet")])
    assert not store.for_sender("s3")[1].repeat_contact


def test_a_failed_last_answer_is_abandoned_and_misses_are_kept(store: FactsStore) -> None:
    store.apply(
        [
            *session("s4", T0),
            user("s4", T0 + 1, "can I pay with vouchers?", "ask_faq"),
            slot("s4", T0 + 2, "kb_outcome", "miss"),
        ]
    )
    (f,) = store.for_sender("s4")
    assert f.kb_missed == 1 and f.missed_questions == ["can I pay with vouchers?"]
    assert f.outcome == OUTCOME_ABANDONED
    store.apply([user("s4", T0 + 5, "how do I return a kettle", "ask_faq")])
    store.apply([slot("s4", T0 + 6, "kb_outcome", "answered")])
    (f,) = store.for_sender("s4")
    assert f.kb_answered == 1 and f.outcome == OUTCOME_BOT


def test_events_without_a_sender_or_with_odd_values_change_nothing(store: FactsStore) -> None:
    odd = [
        {"event": "user", "text": "no sender"},
        {"sender_id": "", "event": "user"},
        slot("s5", "not a time", "csat_score", 9),  # type: ignore[arg-type]
        slot("s5", T0, "routing_decision", "not a mapping"),
        slot("s5", T0, "handoff_status", "exploded"),
        {"sender_id": "s5", "event": "user", "parse_data": "nonsense", "timestamp": T0},
    ]
    assert store.apply(odd) == 4
    (f,) = store.for_sender("s5")
    assert f.csat is None and not f.escalated and f.handoff_status is None and f.turns == 1


def test_reason_kinds_drop_the_numbers() -> None:
    assert reason_kind("frustration 0.91") == "frustration"
    assert reason_kind("2 failed answers") == "failed answers"
    assert reason_kind("rising over 3 turns") == "rising"
    assert reason_kind("asked for a person") == "asked for a person"
    assert reason_kind("urgent request (urgency 0.93)") == "urgent request"


def test_a_held_status_carried_into_a_new_session_is_no_new_handoff(store: FactsStore) -> None:
    store.apply([*session("s6", T0), user("s6", T0 + 1, "a person!", "request_human", 0.6)])
    store.apply([*escalate("s6", T0 + 1), slot("s6", T0 + 90, "handoff_status", "resolved")])
    later = T0 + 2 * 3600
    store.apply(
        [
            slot("s6", later, "session_started_metadata", {"customer_id": "x"}),
            *session("s6", later),
            slot("s6", later, "handoff_status", "resolved"),  # carried over by the action
            user("s6", later + 5, "how do refunds work", "ask_faq", 0.1),
            slot("s6", later + 6, "kb_outcome", "answered"),
        ]
    )
    first, second = store.for_sender("s6")
    assert first.last_event_at == T0 + 90  # the next session's metadata is not this one's
    assert first.outcome == OUTCOME_PERSON and first.repeat_contact
    assert not second.escalated and second.outcome == OUTCOME_BOT and second.closed_at is None


def test_only_an_asked_first_rating_counts(store: FactsStore) -> None:
    store.apply(
        [
            *session("s7", T0),
            user("s7", T0 + 1, "where is my order", "order_status"),
            slot("s7", T0 + 2, "csat_score", 5),  # nobody asked: a crafted payload
        ]
    )
    assert store.for_sender("s7")[0].csat is None
    asked = {"buttons": [{"payload": "/rate_service"}]}
    store.apply(
        [
            user("s7", T0 + 3, "bye", "goodbye"),
            bot("s7", T0 + 3, "How would you rate this conversation?", asked),
            slot("s7", T0 + 4, "csat_score", 2),
            slot("s7", T0 + 5, "csat_score", 5),  # a second click
            slot("s7", T0 + 6, "csat_score", 9),
        ]
    )
    (f,) = store.for_sender("s7")
    assert (f.csat, f.closed_at) == (2, T0 + 3)  # the goodbye closed it


def test_a_late_rating_goes_to_the_conversation_that_asked(store: FactsStore) -> None:
    asked = {"buttons": [{"payload": "/rate_service"}]}
    store.apply(
        [
            *session("s8", T0),
            user("s8", T0 + 1, "refund please", "request_refund"),
            bot("s8", T0 + 2, "How would you rate this conversation?", asked),
        ]
    )
    later = T0 + 3 * 3600  # the session expired before the click
    store.apply(
        [
            *session("s8", later),
            user("s8", later, '/rate_service{"csat_score": 4}', "rate_service"),
            slot("s8", later, "csat_score", 4),
        ]
    )
    first, second = store.for_sender("s8")
    assert first.csat == 4 and not first.repeat_contact  # an empty session is no return
    assert second.turns == 0 and second.csat is None


def test_the_person_buttons_queue_comes_from_the_waiting_message(store: FactsStore) -> None:
    waiting = {"custom": {"data": {"handoff_status": "waiting", "queue": "billing"}}}
    store.apply(
        [
            *session("s9", T0),
            user("s9", T0 + 1, "/request_human", "request_human"),
            bot("s9", T0 + 1, "A person is coming.", waiting),
            slot("s9", T0 + 1, "handoff_status", "waiting"),
        ]
    )
    (f,) = store.for_sender("s9")
    assert f.escalated and f.queue == "billing"


def test_a_conversation_is_the_customers_only_on_proof_not_on_a_typed_email(
    store: FactsStore,
) -> None:
    proven_id = pseudonym(KEY, "id:C1001")
    store.apply(
        [
            *session("typed", T0),
            user("typed", T0 + 1, "where is order 10234", "order_status"),
            slot("typed", T0 + 2, "customer_id", "C1001"),
            slot("typed", T0 + 2, "verified_by", "email"),  # the e-mail on the order
        ]
    )
    store.apply(
        [
            *session("coded", T0),
            user("coded", T0 + 1, "I want to return something", "request_return"),
            slot("coded", T0 + 2, "customer_id", "C1001"),
            slot("coded", T0 + 2, "verified_by", "email"),
            slot("coded", T0 + 3, "verified_by", "code"),  # then the e-mailed code
            slot("coded", T0 + 3, "customer_id", "C1001"),
        ]
    )
    store.apply(
        [
            *session("texted", T0),
            slot("texted", T0, "customer_id", "C1001"),
            slot("texted", T0, "verified_by", "linked"),  # a verified phone number
            user("texted", T0 + 1, "hi", "greet", channel="twilio"),
        ]
    )
    typed, coded, texted = (store.for_sender(s)[0] for s in ("typed", "coded", "texted"))
    assert typed.customer == pseudonym(KEY, "key:browser-typed")
    assert coded.customer == texted.customer == proven_id
    assert texted.channel == "sms"
