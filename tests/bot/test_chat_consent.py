"""The web chat's consent choices (issue 18, "Consent"), through the web front's app:
`GET` and `PUT /api/chat/consent` with the conversation's session token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from bot.errors import StoreError
from bot.store import SupportStore
from bot.web.app import create_app
from bot.web.chat import CONSENT_CHANGES_BURST, MAX_CONSENT_BODY_BYTES
from core.constants import (
    CONSENT_ORDER_HISTORY,
    CONSENT_PURPOSES,
    CONSENT_QUESTION,
    CONSENT_REMEMBER,
    CONSENT_TEXTS,
)
from core.settings import Settings
from core.tokens import IdentityTokens, SessionTokens

TOKEN = "test-token-for-the-rasa-http-api"
URL = "/api/chat/consent"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[TestClient, SupportStore, Settings]]:
    settings = Settings.load(
        environ={"DATA_DIR": str(tmp_path), "RASA_API_TOKEN": TOKEN}, dotenv=tmp_path / "no.env"
    )
    store = SupportStore(settings.store_url)
    with TestClient(create_app(settings)) as client:
        yield client, store, settings
    store.close()


class Customer:
    """One web chat conversation: its session id and token, as the page holds them."""

    def __init__(self, client: TestClient) -> None:
        reply = client.post("/api/chat/session", json={"new": True})
        assert reply.status_code == 200, reply.text
        self.client = client
        self.session_id: str = reply.json()["session_id"]
        self.auth = {"Authorization": f"Bearer {reply.json()['token']}"}

    def get(self) -> httpx.Response:
        return self.client.get(URL, headers=self.auth)

    def put(self, body: object) -> httpx.Response:
        return self.client.put(URL, headers=self.auth, json=body)

    def choices(self) -> dict[str, dict]:
        reply = self.get()
        assert reply.status_code == 200, reply.text
        return {c["purpose"]: c for c in reply.json()["choices"]}


def rows(store: SupportStore, session_id: str, purpose: str) -> list:
    history = store.consent_history([session_id], customer_id="nobody")
    return [c for c in history if c.purpose == purpose]


def decided_at(choice: dict) -> datetime:
    moment = datetime.fromisoformat(choice["decided_at"])
    assert moment.utcoffset() == timedelta(0), choice["decided_at"]
    return moment


def test_before_any_choice_every_purpose_is_undecided(web) -> None:
    client, _, _ = web
    reply = Customer(client).get()
    assert reply.status_code == 200
    assert reply.json() == {
        "question": CONSENT_QUESTION,
        "choices": [
            {"purpose": p, "text": CONSENT_TEXTS[p], "granted": None, "decided_at": None}
            for p in CONSENT_PURPOSES
        ],
    }
    assert reply.headers["cache-control"] == "no-store"


def test_one_choice_is_recorded_with_its_time_and_the_servers_words(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    reply = customer.put({CONSENT_ORDER_HISTORY: True})
    assert reply.status_code == 200, reply.text
    assert reply.json() == customer.get().json()  # PUT answers as GET does

    choices = customer.choices()
    assert choices[CONSENT_REMEMBER]["granted"] is None
    assert choices[CONSENT_REMEMBER]["decided_at"] is None
    assert choices[CONSENT_ORDER_HISTORY]["granted"] is True
    assert before <= decided_at(choices[CONSENT_ORDER_HISTORY]) <= datetime.now(timezone.utc)

    stored = store.consents(customer.session_id)
    assert set(stored) == {CONSENT_ORDER_HISTORY}
    assert stored[CONSENT_ORDER_HISTORY].granted is True
    assert stored[CONSENT_ORDER_HISTORY].text == CONSENT_TEXTS[CONSENT_ORDER_HISTORY]
    assert stored[CONSENT_ORDER_HISTORY].channel == "socketio"


def test_both_choices_at_once_refusals_included(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    reply = customer.put({CONSENT_REMEMBER: False, CONSENT_ORDER_HISTORY: False})
    assert reply.status_code == 200, reply.text
    assert [c["granted"] for c in reply.json()["choices"]] == [False, False]
    assert all(c["decided_at"] for c in reply.json()["choices"])
    stored = store.consents(customer.session_id)
    assert {p: c.granted for p, c in stored.items()} == {
        CONSENT_REMEMBER: False,
        CONSENT_ORDER_HISTORY: False,
    }
    assert {p: c.text for p, c in stored.items()} == CONSENT_TEXTS


def test_the_same_choice_again_adds_no_row(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    first = customer.put({CONSENT_REMEMBER: True, CONSENT_ORDER_HISTORY: False}).json()
    again = customer.put({CONSENT_REMEMBER: True, CONSENT_ORDER_HISTORY: False})
    assert again.status_code == 200
    assert again.json() == first  # the same decided_at: no new decision
    for purpose in CONSENT_PURPOSES:
        assert len(rows(store, customer.session_id, purpose)) == 1


def test_a_changed_choice_is_kept_as_history_and_the_latest_wins(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    customer.put({CONSENT_REMEMBER: True})
    reply = customer.put({CONSENT_REMEMBER: False, CONSENT_ORDER_HISTORY: True})
    assert reply.status_code == 200, reply.text
    history = rows(store, customer.session_id, CONSENT_REMEMBER)
    assert [c.granted for c in history] == [True, False]
    assert history[0].decided_at <= history[1].decided_at
    assert customer.choices()[CONSENT_REMEMBER]["granted"] is False
    assert store.consents(customer.session_id)[CONSENT_REMEMBER].granted is False
    assert len(rows(store, customer.session_id, CONSENT_ORDER_HISTORY)) == 1


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer ",
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_without_a_valid_session_token_401(web, authorization: str | None) -> None:
    client, _, _ = web
    headers = {"Authorization": authorization} if authorization is not None else {}
    for reply in (
        client.get(URL, headers=headers),
        client.put(URL, headers=headers, json={CONSENT_REMEMBER: True}),
    ):
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"] == "not_your_conversation"
        assert "Authorization: Bearer" in reply.json()["message"]


def test_tokens_of_another_kind_or_secret_are_refused(web) -> None:
    client, _, settings = web
    identity = IdentityTokens(settings.identity_secret).issue("C1001")
    _, foreign = SessionTokens("another-secret-of-at-least-32-characters").issue()
    for token in (identity, foreign):
        reply = client.get(URL, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 401, reply.text


def test_a_conversations_token_reaches_only_that_conversation(web) -> None:
    client, store, _ = web
    a, b = Customer(client), Customer(client)
    b.put({CONSENT_ORDER_HISTORY: False})
    assert a.put({CONSENT_ORDER_HISTORY: True}).status_code == 200

    # B's id named anywhere in A's request changes nothing: the token says whose it is.
    reply = client.get(URL, params={"session_id": b.session_id}, headers=a.auth)
    assert reply.json()["choices"][1]["granted"] is True
    reply = a.put({"session_id": b.session_id, CONSENT_REMEMBER: True})
    assert reply.status_code == 400

    assert b.choices()[CONSENT_ORDER_HISTORY]["granted"] is False
    assert b.choices()[CONSENT_REMEMBER]["granted"] is None
    assert store.consents(b.session_id)[CONSENT_ORDER_HISTORY].granted is False
    assert set(store.consents(a.session_id)) == {CONSENT_ORDER_HISTORY}


@pytest.mark.parametrize(
    ("body", "code", "names"),
    [
        ({"remember_everything": True}, "unknown_purpose", "remember_everything"),
        ({CONSENT_REMEMBER: "yes"}, "invalid_consent", CONSENT_REMEMBER),
        ({CONSENT_ORDER_HISTORY: 1}, "invalid_consent", CONSENT_ORDER_HISTORY),
        ({CONSENT_ORDER_HISTORY: None}, "invalid_consent", CONSENT_ORDER_HISTORY),
        ({CONSENT_REMEMBER: True, "text": "I agree to everything"}, "unknown_purpose", "text"),
        ({}, "invalid_consent", CONSENT_REMEMBER),
        ([True, False], "invalid_consent", CONSENT_REMEMBER),
    ],
)
def test_a_body_that_is_not_a_set_of_choices_is_400(web, body, code: str, names: str) -> None:
    client, store, _ = web
    customer = Customer(client)
    reply = customer.put(body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == code
    message = reply.json()["message"]
    assert names in message
    assert "true or false" in message or CONSENT_REMEMBER in message  # what is allowed
    assert store.consents(customer.session_id) == {}  # nothing of it was recorded


def test_what_the_client_sends_as_text_is_never_stored(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    reply = customer.put({CONSENT_REMEMBER: {"granted": True, "text": "Anything goes."}})
    assert reply.status_code == 400
    customer.put({CONSENT_REMEMBER: True})
    assert (
        store.consents(customer.session_id)[CONSENT_REMEMBER].text
        == (CONSENT_TEXTS[CONSENT_REMEMBER])
    )


def test_an_oversize_or_non_json_body_is_refused(web) -> None:
    client, store, _ = web
    customer = Customer(client)
    padding = " " * MAX_CONSENT_BODY_BYTES
    oversize = f'{{"{CONSENT_REMEMBER}": true{padding}}}'
    reply = client.put(
        URL, headers={**customer.auth, "Content-Type": "application/json"}, content=oversize
    )
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"] == "body_too_large"
    reply = client.put(
        URL,
        headers={**customer.auth, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_json"
    reply = client.put(
        URL,
        headers={**customer.auth, "Content-Type": "text/plain"},
        content=f'{{"{CONSENT_REMEMBER}": true}}',
    )
    assert reply.status_code == 415 and reply.json()["error"] == "unsupported_media_type"
    assert store.consents(customer.session_id) == {}


def test_many_changes_in_a_row_are_rate_limited(web) -> None:
    client, _, _ = web
    customer, other = Customer(client), Customer(client)
    replies = [customer.put({CONSENT_REMEMBER: i % 2 == 0}) for i in range(CONSENT_CHANGES_BURST)]
    assert all(r.status_code == 200 for r in replies)
    limited = customer.put({CONSENT_REMEMBER: True})
    assert limited.status_code == 429
    assert limited.json()["error"] == "too_many_changes"
    assert int(limited.headers["retry-after"]) >= 1
    assert customer.get().status_code == 200  # reading is not limited
    assert other.put({CONSENT_REMEMBER: True}).status_code == 200  # per conversation


def test_a_store_failure_is_503_with_what_happened(web, monkeypatch) -> None:
    client, _, _ = web
    customer = Customer(client)

    def broken(self, *args, **kwargs):
        raise StoreError("The store at sqlite:///x failed: OperationalError: disk I/O error.")

    monkeypatch.setattr(SupportStore, "consents", broken)
    for reply in (customer.get(), customer.put({CONSENT_REMEMBER: True})):
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"] == "store_unavailable"
        assert "try again" in reply.json()["message"] or "right now" in reply.json()["message"]
        assert "disk I/O error" in reply.json()["message"]
