"""Each conversation belongs to its session (issue 13, "Each conversation belongs to
its session"), on the web front.

Findings, each failing on the code before the fix:

- `/api/conversations/{id}/messages` returned the whole transcript to anyone who knew
  the id → it needs the conversation's session token, or a console sign-in whose role
  may open the conversation;
- the page made up its own conversation id → the web front issues it with a signed
  token, and new conversations are rate-limited per client address;
- the chat trusted `?customer=` → only a signed identity token (the demo sign-in signs
  one for the sample customers; `/sign-in` takes one from the website).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import jwt
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bot.store import SupportStore, load_seed
from core.tokens import IDENTITY_AUDIENCE, IdentityTokens, SessionTokens
from tests.security.test_web import make_app, open_handoff, sign_in

TRANSCRIPT = {"events": [{"event": "user", "text": "my card number is private", "timestamp": 1}]}


class TrackerRasa:
    """Rasa's tracker API, answering every conversation with one customer message."""

    def __init__(self) -> None:
        self.read: list[str] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.read.append(request.url.path.split("/")[2])
            return httpx.Response(200, json=TRANSCRIPT)
        return httpx.Response(200, json={"events": []})


@pytest.fixture
def rasa() -> TrackerRasa:
    return TrackerRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: TrackerRasa):
    store = SupportStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.seed(load_seed())
    store.close()
    app = make_app(
        tmp_path,
        CHAT_SESSIONS_PER_HOUR="40",
        RASA_CORS_ORIGINS="https://shop.example.com",  # the website
    )
    app.state.console.rasa.transport = httpx.MockTransport(rasa.handle)
    return app


def settings_of(app):
    return app.state.settings


def new_session(client: TestClient, **body) -> dict:
    reply = client.post("/api/chat/session", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def transcript(client: TestClient, session_id: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/conversations/{session_id}/messages", headers=headers)


# --- Sessions -------------------------------------------------------------------------
def test_the_web_front_issues_the_conversation_and_renews_it(app) -> None:
    client = TestClient(app)
    first = new_session(client)
    assert first["new"] is True
    assert (
        SessionTokens(settings_of(app).session_secret).session_of(first["token"])
        == (first["session_id"])
    )
    again = new_session(client, token=first["token"])
    assert again["session_id"] == first["session_id"] and again["new"] is False
    fresh = new_session(client, token=first["token"], new=True)
    assert fresh["session_id"] != first["session_id"]
    forged = new_session(client, token=first["token"][:-2] + "xx")
    assert forged["session_id"] != first["session_id"] and forged["new"] is True


def test_new_conversations_are_rate_limited_per_address(app) -> None:
    client = TestClient(app)
    statuses = [client.post("/api/chat/session", json={}).status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10  # CHAT_SESSIONS_PER_HOUR=40: 10 at once
    assert statuses[10:] == [429, 429]
    reply = client.post("/api/chat/session", json={})
    assert reply.json()["error"] == "too_many_sessions" and reply.headers["retry-after"]


def test_a_session_request_with_a_bad_body_gets_a_clear_error(app) -> None:
    client = TestClient(app)
    reply = client.post(
        "/api/chat/session", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_body"
    reply = client.post(
        "/api/chat/session", content=b"{" * 5000, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413


# --- The transcript -------------------------------------------------------------------
def test_a_stranger_cannot_fetch_a_transcript(app, rasa: TrackerRasa) -> None:
    client = TestClient(app)
    victim = new_session(client)
    attacker = new_session(client)
    assert transcript(client, victim["session_id"]).status_code == 401
    assert transcript(client, victim["session_id"], attacker["token"]).status_code == 401
    assert transcript(client, victim["session_id"], "not-a-token").status_code == 401
    assert rasa.read == []  # refused before Rasa was asked
    mine = transcript(client, victim["session_id"], victim["token"])
    assert mine.status_code == 200 and mine.json()["messages"][0]["text"]
    assert mine.headers["cache-control"] == "no-store"


def test_agents_read_only_what_their_role_allows(app) -> None:
    client = TestClient(app)
    conversation = new_session(client)["session_id"]
    assert transcript(sign_in(app, "dana"), conversation).status_code == 401  # no handoff
    assert transcript(sign_in(app, "lee"), conversation).status_code == 200  # a lead
    handoff = open_handoff(app, conversation)
    assert transcript(sign_in(app, "dana"), conversation).status_code == 200  # claimable
    sam = sign_in(app, "sam")
    claimed = sam.post(f"/api/console/handoffs/{handoff}/claim").json()["handoff"]
    assert "conversation_id" not in claimed and "customer_key" not in claimed
    detail = sam.get(f"/api/console/handoffs/{handoff}").json()["handoff"]
    assert "conversation_id" not in detail and "customer_key" not in detail
    assert transcript(sign_in(app, "dana"), conversation).status_code == 401  # sam's now
    assert transcript(sam, conversation).status_code == 200


# --- Who the customer is --------------------------------------------------------------
def page_config(html: str) -> dict:
    found = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html)
    assert found, html[:500]
    return json.loads(found.group(1))


def test_the_chat_page_takes_no_identity_from_the_url(app) -> None:
    config = page_config(TestClient(app).get("/?customer=C1001").text)
    assert "identity_token" not in config and "C1001" not in json.dumps(config)


def test_the_demo_sign_in_signs_an_identity_for_a_sample_customer(app) -> None:
    client = TestClient(app)
    listing = client.get("/demo")
    assert listing.status_code == 200 and "/demo/sign-in/C1001" in listing.text
    reply = client.get("/demo/sign-in/C1001")
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    config = page_config(reply.text)
    identity = IdentityTokens(settings_of(app).identity_secret).verify(config["identity_token"])
    assert identity is not None and identity.customer_id == "C1001"
    assert config["signed_in_as"] == "Dana Whitfield" and config["fresh_session"] is True
    assert client.get("/demo/sign-in/C9999").status_code == 404
    assert client.get("/demo/sign-in/..%2Fetc").status_code == 404


@pytest.mark.parametrize(
    "environ", [{"DEMO_SIGN_IN": "false"}, {"HOST": "0.0.0.0"}, {"HOST": "10.0.0.5"}]
)
def test_the_demo_sign_in_is_off_unless_the_servers_are_local(tmp_path: Path, environ) -> None:
    client = TestClient(make_app(tmp_path, **environ))
    assert client.get("/demo").status_code == 404
    assert client.get("/demo/sign-in/C1001").status_code == 404


def test_the_demo_signs_in_only_the_sample_stores_customers(app, tmp_path: Path) -> None:
    store = SupportStore(f"sqlite:///{tmp_path / 'store.db'}")
    with sa.create_engine(store.url).begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO customers (id, name, email, tier, account_status) "
                "VALUES ('C9001', 'Real Person', 'real@example.net', 'standard', 'active')"
            )
        )
    store.close()
    client = TestClient(app)
    assert "C9001" not in client.get("/demo").text
    assert client.get("/demo/sign-in/C9001").status_code == 404


def test_the_website_signs_a_customer_in_with_a_form_post(app) -> None:
    now = int(time.time())
    claims = {"sub": "C1003", "aud": IDENTITY_AUDIENCE, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, settings_of(app).identity_secret, "HS256")
    client = TestClient(app)
    # Posted from the shop's own site: a cross-site form post is how it arrives.
    reply = client.post(
        "/sign-in",
        content=f"identity_token={token}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://shop.example.com",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert reply.status_code == 200, reply.text
    assert page_config(reply.text)["signed_in_as"] == "Priya Natarajan"
    forged = jwt.encode(claims, "not-the-identity-secret-but-long-enough", "HS256")
    reply = client.post(
        "/sign-in",
        content=f"identity_token={forged}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_identity_token"


def test_only_the_companys_website_signs_customers_in(app) -> None:
    """Another site posting its own valid token would sign the visitor in as someone
    else ("login CSRF"): refused by origin."""
    now = int(time.time())
    claims = {"sub": "C1003", "aud": IDENTITY_AUDIENCE, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, settings_of(app).identity_secret, "HS256")
    reply = TestClient(app).post(
        "/sign-in",
        content=f"identity_token={token}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example",
        },
    )
    assert reply.status_code == 403 and reply.json()["error"] == "unknown_website"


def test_a_chunked_session_body_is_cut_off_at_the_limit(app) -> None:
    def chunks():
        for _ in range(100):
            yield b" " * 1024

    reply = TestClient(app).post(
        "/api/chat/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413
