"""The `HandoffBackend` contract, run against every backend; then Chatwoot's own details.

Each backend comes with a harness: `backend`, `broken` (the same kind of backend whose
server is down) and async helpers that read what a person on the other side sees:
`relayed_texts(reference)`, `priority(reference)` (urgent/high/normal) and
`summary_of(reference)`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from routing.backends import ChatwootBackend
from routing.backends.chatwoot import CHATWOOT_PRIORITY
from routing.handoff import (
    CustomerMessage,
    HandoffError,
    HandoffRequest,
    HandoffTicket,
    HandoffUnavailable,
    UnknownHandoff,
)
from routing.summary import HandoffSummary
from tests.conftest import run_async
from tests.routing.chatwoot_fake import (
    ACCOUNT_ID,
    BASE_URL,
    INBOX_ID,
    TOKEN,
    ChatwootHarness,
    FakeChatwoot,
)

ISSUE = "Late or missing delivery of order 10234. The customer has asked about it 3 times."
HOSTILE = "<img src=x onerror=alert(1)>"
PRIORITIES = ("urgent", "high", "normal")


def make_request(
    conversation_id: str,
    priority: str = "high",
    queue: str = "orders_shipping",
    customer_key: str | None = "cust-dana-0042",
    issue: str = ISSUE,
    **overrides: Any,
) -> HandoffRequest:
    summary = HandoffSummary(
        issue=issue,
        tried=["help-center article 'late-delivery' (not helpful)", "order lookup for 10234"],
        facts={"order_number": "10234", "email": "dana.whitfield@example.com", "tier": "plus"},
        emotion_timeline=[
            {"turn": 1, "frustration": 0.2, "urgency": 0.05, "sentiment": "neutral"},
            {"turn": 2, "frustration": 0.6, "urgency": 0.1, "sentiment": "negative"},
            {"turn": 3, "frustration": 0.93, "urgency": 0.2, "sentiment": "negative"},
        ],
        reason="frustration 0.86, rising over 3 turns; plus customer",
        quotes=["This is the THIRD time I'm asking, where is my order??"],
        next_step="Check the carrier trace and offer a replacement or refund.",
    )
    fields: dict[str, Any] = {
        "conversation_id": conversation_id,
        "channel": "socketio",
        "queue": queue,
        "priority": priority,
        "reason": summary.reason,
        "distress": 0.86,
        "wait_target_seconds": 180,
        "summary": summary.as_dict(),
        "summary_text": summary.as_text(),
        "customer_key": customer_key,
        "customer_name": "Dana Whitfield",
        "customer_email": "dana.whitfield@example.com",
        "transcript": [
            {"text": "where is my order 10234", "timestamp": 1_700_000_000.0},
            {"text": "This is the THIRD time I'm asking, where is my order??", "timestamp": 1.7e9},
        ],
    }
    fields.update(overrides)
    return HandoffRequest(**fields)


def said(text: str, at: float = 1_700_000_100.0) -> CustomerMessage:
    return CustomerMessage(text=text, timestamp=at, emotion={"frustration": 0.7})


@pytest.fixture(params=["chatwoot", "console"])
def harness(request: pytest.FixtureRequest, tmp_path):
    if request.param == "chatwoot":
        return ChatwootHarness()
    from tests.routing.console_harness import make_console_harness

    return make_console_harness(tmp_path)


# --- The contract ---------------------------------------------------------------------
def test_open_returns_a_new_ticket_with_the_summary_visible(harness) -> None:
    ticket = run_async(harness.backend.open(make_request("conv-open-1")))

    assert isinstance(ticket, HandoffTicket)
    assert ticket.backend == harness.backend.name
    assert isinstance(ticket.reference, str) and ticket.reference.strip()
    assert ticket.created is True
    assert ISSUE in run_async(harness.summary_of(ticket.reference))


@pytest.mark.parametrize("priority", PRIORITIES)
def test_open_sets_the_requested_priority(harness, priority: str) -> None:
    ticket = run_async(harness.backend.open(make_request(f"conv-{priority}", priority)))

    assert run_async(harness.priority(ticket.reference)) == priority


def test_opening_the_same_conversation_again_updates_its_handoff(harness) -> None:
    first = run_async(harness.backend.open(make_request("conv-again", "normal")))
    second = run_async(harness.backend.open(make_request("conv-again", "urgent")))

    assert second.reference == first.reference
    assert (first.created, second.created) == (True, False)


def test_different_conversations_get_different_references(harness) -> None:
    one = run_async(harness.backend.open(make_request("conv-a")))
    other = run_async(harness.backend.open(make_request("conv-b")))

    assert one.reference != other.reference
    assert other.created is True


def test_relay_keeps_every_message_in_order_and_verbatim(harness) -> None:
    ticket = run_async(harness.backend.open(make_request("conv-relay")))
    texts = ["hello?? anyone there", HOSTILE, "order 10234, it's been 12 days"]

    async def relay_all() -> None:
        for i, text in enumerate(texts):
            await harness.backend.relay(ticket.reference, said(text, 1_700_000_100.0 + i))

    run_async(relay_all())

    assert run_async(harness.relayed_texts(ticket.reference)) == texts


@pytest.mark.parametrize("reference", ["999999", "no-such-handoff"])
def test_relay_to_an_unknown_reference_raises_unknown_handoff(harness, reference: str) -> None:
    run_async(harness.backend.open(make_request("conv-known")))

    with pytest.raises(UnknownHandoff):
        run_async(harness.backend.relay(reference, said("still waiting")))


def test_a_backend_whose_server_is_down_is_unavailable(harness) -> None:
    with pytest.raises(HandoffUnavailable) as raised:
        run_async(harness.broken.open(make_request("conv-down")))

    message = str(raised.value)
    assert len(message) > 20, f"the error should say what failed, got {message!r}"


# --- Chatwoot: what goes over the wire ------------------------------------------------
@pytest.fixture
def fake() -> FakeChatwoot:
    return FakeChatwoot()


def posted(fake: FakeChatwoot, suffix: str) -> list[dict[str, Any]]:
    return [
        json.loads(r.content)
        for r in fake.requests
        if r.method == "POST" and r.url.path.endswith(suffix)
    ]


def test_chatwoot_every_request_carries_the_api_access_token(fake: FakeChatwoot) -> None:
    backend = fake.backend()
    ticket = run_async(backend.open(make_request("conv-token")))
    run_async(backend.relay(ticket.reference, said("hi")))

    assert len(fake.requests) >= 6
    assert {r.headers.get("api_access_token") for r in fake.requests} == {TOKEN}
    assert all(r.url.path.startswith(f"/api/v1/accounts/{ACCOUNT_ID}/") for r in fake.requests)


def test_chatwoot_the_summary_is_a_private_note_and_customer_messages_are_incoming(
    fake: FakeChatwoot,
) -> None:
    backend = fake.backend()
    request = make_request("conv-private")
    ticket = run_async(backend.open(request))
    run_async(backend.relay(ticket.reference, said(HOSTILE)))

    messages = posted(fake, "/messages")
    assert messages == [
        {"content": request.summary_text, "message_type": "outgoing", "private": True},
        {"content": HOSTILE, "message_type": "incoming", "private": False},
    ]
    assert fake.notes(ticket.reference) == [request.summary_text]


@pytest.mark.parametrize(
    ("ours", "theirs"), [("urgent", "urgent"), ("high", "high"), ("normal", "medium")]
)
def test_chatwoot_priority_mapping_in_the_request(
    fake: FakeChatwoot, ours: str, theirs: str
) -> None:
    ticket = run_async(fake.backend().open(make_request(f"conv-map-{ours}", ours)))

    assert posted(fake, "/toggle_priority") == [{"priority": theirs}]
    assert fake.conversation(ticket.reference).priority == theirs
    assert CHATWOOT_PRIORITY[ours] == theirs


def test_chatwoot_a_new_conversation_carries_the_routing_decision(fake: FakeChatwoot) -> None:
    request = make_request("conv-attrs", "urgent", queue="billing")
    ticket = run_async(fake.backend().open(request))

    conversation = fake.conversation(ticket.reference)
    assert conversation.status == "open"
    assert conversation.inbox_id == INBOX_ID
    assert conversation.labels == ["billing"]
    assert conversation.custom_attributes == {
        "rasa_conversation_id": "conv-attrs",
        "queue": "billing",
        "priority": "urgent",
        "distress": 0.86,
        "reason": request.reason,
    }
    contact = fake.contacts[conversation.contact_id]
    assert (contact["identifier"], contact["name"], contact["email"]) == (
        "cust-dana-0042",
        "Dana Whitfield",
        "dana.whitfield@example.com",
    )


def test_chatwoot_an_update_adds_the_new_summary_and_priority_and_keeps_agent_labels(
    fake: FakeChatwoot,
) -> None:
    backend = fake.backend()
    ticket = run_async(backend.open(make_request("conv-upd", "normal", queue="billing")))
    fake.conversation(ticket.reference).labels.append("vip")  # an agent's label
    later = make_request("conv-upd", "urgent", queue="orders_shipping", issue="Now also fraud.")

    again = run_async(backend.open(later))

    conversation = fake.conversation(again.reference)
    assert (again.reference, again.created) == (ticket.reference, False)
    assert len(fake.conversations) == 1
    assert fake.notes(ticket.reference)[-1] == later.summary_text
    assert conversation.priority == "urgent"
    assert conversation.labels == ["billing", "vip", "orders_shipping"]


def test_chatwoot_a_resolved_conversation_is_not_reused(fake: FakeChatwoot) -> None:
    backend = fake.backend()
    first = run_async(backend.open(make_request("conv-resolved")))
    fake.resolve(first.reference)

    second = run_async(backend.open(make_request("conv-resolved")))

    assert second.created is True
    assert second.reference != first.reference


def test_chatwoot_one_customer_is_one_contact_matched_by_exact_identifier(
    fake: FakeChatwoot,
) -> None:
    # Chatwoot's search matches substrings: "cust-7" finds "cust-77" too.
    other = fake.add_contact(name="Someone Else", identifier="cust-77")
    backend = fake.backend()
    one = run_async(backend.open(make_request("conv-c1", customer_key="cust-7")))
    two = run_async(backend.open(make_request("conv-c2", customer_key="cust-7")))

    ours = {fake.conversation(t.reference).contact_id for t in (one, two)}
    assert len(ours) == 1 and other["id"] not in ours
    assert len(fake.contacts) == 2


def test_chatwoot_without_customer_key_the_rasa_sender_is_the_identifier(
    fake: FakeChatwoot,
) -> None:
    request = make_request("sender-123", customer_key=None, customer_email=None)
    ticket = run_async(fake.backend().open(request))

    contact = fake.contacts[fake.conversation(ticket.reference).contact_id]
    assert contact["identifier"] == "sender-123"
    assert "email" not in posted(fake, "/contacts")[0]


def test_chatwoot_a_contact_made_elsewhere_with_the_same_email_is_reused(
    fake: FakeChatwoot,
) -> None:
    agent_made = fake.add_contact(name="D. Whitfield", email="dana.whitfield@example.com")

    ticket = run_async(fake.backend().open(make_request("conv-email")))

    assert fake.conversation(ticket.reference).contact_id == agent_made["id"]
    assert len(fake.contacts) == 1
    assert posted(fake, "/contact_inboxes") == [{"inbox_id": INBOX_ID}]


# --- Chatwoot: errors -----------------------------------------------------------------
def test_chatwoot_a_wrong_token_is_a_handoff_error_naming_the_setting(fake: FakeChatwoot) -> None:
    backend = fake.backend(api_token="expired-token-999")

    with pytest.raises(HandoffError) as raised:
        run_async(backend.open(make_request("conv-401")))

    assert not isinstance(raised.value, HandoffUnavailable)
    assert "CHATWOOT_API_TOKEN" in str(raised.value)
    assert "401" in str(raised.value)
    assert "expired-token-999" not in str(raised.value)


def test_chatwoot_a_server_error_is_unavailable_and_names_the_url_and_status() -> None:
    harness = ChatwootHarness()

    with pytest.raises(HandoffUnavailable) as raised:
        run_async(harness.broken.open(make_request("conv-503")))

    assert "503" in str(raised.value)
    assert f"{BASE_URL}/api/v1/accounts/{ACCOUNT_ID}/contacts/search" in str(raised.value)
    assert "dana" not in str(raised.value).lower()  # the search query stays out of errors


def test_chatwoot_an_unreachable_server_is_unavailable(fake: FakeChatwoot) -> None:
    fake.unreachable = True

    with pytest.raises(HandoffUnavailable, match="ConnectError") as raised:
        run_async(fake.backend().relay("1", said("hello")))

    assert BASE_URL in str(raised.value)


def test_chatwoot_a_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    backend = ChatwootBackend(BASE_URL, ACCOUNT_ID, INBOX_ID, TOKEN, httpx.MockTransport(slow), 2)

    with pytest.raises(HandoffUnavailable, match=r"within 2 s \(ReadTimeout\)"):
        run_async(backend.open(make_request("conv-slow")))


def test_chatwoot_other_refusals_carry_its_message(fake: FakeChatwoot) -> None:
    backend = ChatwootBackend(BASE_URL, ACCOUNT_ID, 99, TOKEN, fake.transport())

    with pytest.raises(HandoffError) as raised:
        run_async(backend.open(make_request("conv-wrong-inbox")))

    assert type(raised.value) is HandoffError
    assert "Resource could not be found" in str(raised.value)
    assert "CHATWOOT_INBOX_ID=99" in str(raised.value)


def test_chatwoot_an_unknown_priority_is_refused_before_any_request(fake: FakeChatwoot) -> None:
    with pytest.raises(HandoffError, match="'critical'"):
        run_async(fake.backend().open(make_request("conv-prio", "critical")))

    assert fake.requests == []


# --- Chatwoot: configuration ----------------------------------------------------------
ENVIRON = {
    "CHATWOOT_URL": "https://chatwoot.example.com/",
    "CHATWOOT_ACCOUNT_ID": "3",
    "CHATWOOT_INBOX_ID": "7",
    "CHATWOOT_API_TOKEN": "secret-token",
}


def test_chatwoot_from_environ_reads_the_four_settings() -> None:
    backend = ChatwootBackend.from_environ(ENVIRON)

    assert (backend.base_url, backend.account_id, backend.inbox_id) == (
        "https://chatwoot.example.com",
        3,
        7,
    )
    assert "secret-token" not in repr(backend)


def test_chatwoot_from_environ_names_every_missing_setting() -> None:
    environ = {**ENVIRON, "CHATWOOT_INBOX_ID": " "}
    del environ["CHATWOOT_API_TOKEN"]

    with pytest.raises(HandoffError) as raised:
        ChatwootBackend.from_environ(environ)

    message = str(raised.value)
    assert "CHATWOOT_INBOX_ID, CHATWOOT_API_TOKEN are not set" in message
    assert "CHATWOOT_URL" in message  # ... and how to set them all
    assert "secret-token" not in message


def test_chatwoot_from_environ_refuses_an_id_that_is_not_a_number() -> None:
    with pytest.raises(HandoffError, match=r"CHATWOOT_ACCOUNT_ID must be a number.*'acme'"):
        ChatwootBackend.from_environ({**ENVIRON, "CHATWOOT_ACCOUNT_ID": "acme"})


def test_chatwoot_from_environ_refuses_a_url_without_scheme() -> None:
    with pytest.raises(HandoffError, match=r"CHATWOOT_URL must start with http.*'chatwoot.lan'"):
        ChatwootBackend.from_environ({**ENVIRON, "CHATWOOT_URL": "chatwoot.lan"})


def test_chatwoot_constructing_the_backend_sends_nothing() -> None:
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"constructor sent {request.method} {request.url}")

    backend = ChatwootBackend(BASE_URL, 1, 1, TOKEN, httpx.MockTransport(no_network))

    assert backend.name == "chatwoot"
