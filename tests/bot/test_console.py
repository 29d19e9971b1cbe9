"""The agent console's API, in process, with a fake Rasa server behind it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from bot.store import SupportStore, load_seed
from bot.web.app import create_app
from bot.web.console import SESSION_COOKIE
from core.paths import PROJECT_ROOT
from core.settings import Settings
from insights.facts import pseudonym
from routing.accounts import AGENT, LEAD
from tests.routing.test_backends import make_request

TOKEN = "console-test-token-of-32-bytes-or-more"  # an HS256 key for Rasa's JWT
FAST_SCRYPT_N = 2**10  # the tests' password hashes: OWASP's N=2^17 takes ~0.3 s each
HOSTILE = "<img src=x onerror=alert(1)>"


class FakeRasa:
    """Records the events the console appends; can be switched off."""

    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict]]] = []
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.params["output_channel"] == "latest"
        assert request.url.params["execute_side_effects"] == "true"
        conversation = request.url.path.split("/")[2]
        self.appended.append((conversation, json.loads(request.content)))
        return httpx.Response(200, json={"events": []})

    def events(self, conversation: str) -> list[dict]:
        return [e for c, events in self.appended if c == conversation for e in events]


@pytest.fixture
def console(tmp_path: Path):
    settings = Settings.load(
        environ={"DATA_DIR": str(tmp_path), "RASA_API_TOKEN": TOKEN}, dotenv=tmp_path / "x"
    )
    app = create_app(settings)
    rasa = FakeRasa()
    app.state.console.rasa.transport = httpx.MockTransport(rasa.handle)
    accounts = app.state.console.accounts
    accounts.scrypt_n = FAST_SCRYPT_N
    accounts.add_user("dana", "password123", AGENT, "Dana")
    accounts.add_user("sam", "password123", AGENT, "Sam")
    accounts.add_user("lee", "password123", LEAD, "Lee")
    return app, rasa


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app)
    reply = client.post(
        "/api/console/login", json={"username": username, "password": "password123"}
    )
    assert reply.status_code == 200, reply.text
    return client


def open_handoff(app, conversation: str = "conv-1", **overrides) -> int:
    internal = TestClient(app)
    reply = internal.post(
        "/internal/handoffs",
        json=make_request(conversation, **overrides).as_dict(),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["position"] == 1
    return int(reply.json()["reference"])


def test_everything_needs_a_signed_in_agent(console) -> None:
    app, _ = console
    anonymous = TestClient(app)
    for path in ("/api/console/me", "/api/console/queue", "/api/console/handoffs/1"):
        reply = anonymous.get(path)
        assert reply.status_code == 401 and reply.json()["error"] == "not_signed_in"
    bad = anonymous.post("/api/console/login", json={"username": "dana", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "Wrong username or password."
    broken = anonymous.post(
        "/api/console/login", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert anonymous.get("/console").status_code == 200  # the sign-in page itself


def test_the_session_cookie_is_http_only_and_strict(console) -> None:
    app, _ = console
    reply = TestClient(app).post(
        "/api/console/login", json={"username": "dana", "password": "password123"}
    )
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert reply.json()["user"] == {"username": "dana", "display_name": "Dana", "role": "agent"}


def test_the_internal_api_needs_the_token(console) -> None:
    app, _ = console
    reply = TestClient(app).post("/internal/handoffs", json=make_request("x").as_dict())
    assert reply.status_code == 401 and "RASA_API_TOKEN" in reply.json()["message"]
    reply = TestClient(app).post(
        "/internal/handoffs",
        json={"queue": "billing"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status_code == 400 and "missing" in reply.json()["message"]


def test_queue_lists_open_handoffs_in_priority_order(console) -> None:
    app, _ = console
    open_handoff(app, "calm", priority="normal")
    open_handoff(app, "fraud", priority="urgent", queue="account_security")
    entries = signed_in(app, "dana").get("/api/console/queue").json()["handoffs"]
    assert [e["queue"] for e in entries] == ["account_security", "orders_shipping"]
    # The queue names no conversation and no customer key: ids are not for every agent.
    assert all("conversation_id" not in e and "customer_key" not in e for e in entries)
    assert entries[0]["wait_target_seconds"] == 180 and entries[0]["over_target"] is False
    assert entries[0]["issue"].startswith("Late or missing delivery")


def test_claim_reply_note_and_resolve(console) -> None:
    app, rasa = console
    handoff = open_handoff(app, "conv-flow")
    dana = signed_in(app, "dana")

    claimed = dana.post(f"/api/console/handoffs/{handoff}/claim")
    assert claimed.status_code == 200 and claimed.json()["handoff"]["agent"] == "dana"
    assert {"event": "slot", "name": "handoff_status", "value": "claimed"}.items() <= (
        rasa.events("conv-flow")[0].items()
    )
    sent = dana.post(f"/api/console/handoffs/{handoff}/messages", json={"text": "Hi, I'm on it"})
    assert sent.status_code == 201
    bot_event = rasa.events("conv-flow")[-1]
    assert bot_event["event"] == "bot"
    assert bot_event["data"]["custom"]["data"] == {
        "sender": "agent",
        "agent_name": "Dana",
        "text": "Hi, I'm on it",
    }
    dana.post(f"/api/console/handoffs/{handoff}/notes", json={"text": "refund approved"})

    view = dana.get(f"/api/console/handoffs/{handoff}").json()
    kinds = [(m["sender"], m["text"]) for m in view["messages"]]
    assert ("agent", "Hi, I'm on it") in kinds and ("note", "refund approved") in kinds
    assert view["handoff"]["summary"]["next_step"]

    resolved = dana.post(f"/api/console/handoffs/{handoff}/resolve")
    assert resolved.status_code == 200 and resolved.json()["handoff"]["status"] == "resolved"
    slots = {e["name"]: e["value"] for e in rasa.events("conv-flow") if e["event"] == "slot"}
    assert slots["handoff_status"] == "resolved" and slots["failed_answers"] == 0
    assert dana.get("/api/console/queue").json()["handoffs"] == []


def test_a_second_agent_cannot_claim_read_or_answer_a_held_conversation(console) -> None:
    app, _ = console
    handoff = open_handoff(app, "conv-held")
    dana, sam, lee = (signed_in(app, name) for name in ("dana", "sam", "lee"))
    assert dana.post(f"/api/console/handoffs/{handoff}/claim").status_code == 200

    late = sam.post(f"/api/console/handoffs/{handoff}/claim")
    assert late.status_code == 409 and "dana already holds" in late.json()["message"]
    assert sam.get(f"/api/console/handoffs/{handoff}").status_code == 403
    refused = sam.post(f"/api/console/handoffs/{handoff}/messages", json={"text": "hi"})
    assert refused.status_code == 409 and refused.json()["error"] == "not_held"
    assert lee.get(f"/api/console/handoffs/{handoff}").status_code == 200  # leads see all


def test_replies_that_cannot_be_delivered_say_so_and_are_not_stored(console) -> None:
    app, rasa = console
    handoff = open_handoff(app, "conv-down")
    dana = signed_in(app, "dana")
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    rasa.down = True
    reply = dana.post(f"/api/console/handoffs/{handoff}/messages", json={"text": "hello"})
    assert reply.status_code == 503 and "not delivered" in reply.json()["message"]
    agent_lines = [
        m
        for m in dana.get(f"/api/console/handoffs/{handoff}").json()["messages"]
        if m["sender"] == "agent"
    ]
    assert agent_lines == []
    assert (
        dana.post(f"/api/console/handoffs/{handoff}/messages", json={"text": " "}).status_code
        == 400
    )


def test_hand_back_tells_the_customer_the_bot_is_back(console) -> None:
    app, rasa = console
    handoff = open_handoff(app, "conv-back")
    dana = signed_in(app, "dana")
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    assert dana.post(f"/api/console/handoffs/{handoff}/handback").status_code == 200
    events = rasa.events("conv-back")
    assert {"name": "handoff_status", "value": "handed_back"}.items() <= events[-4].items()
    assert "handed our conversation back" in events[-1]["text"]


def test_customer_text_is_stored_verbatim_for_the_page_to_escape(console) -> None:
    app, _ = console
    handoff = open_handoff(app, "conv-xss", customer_name=HOSTILE)
    reply = TestClient(app).post(
        f"/internal/handoffs/{handoff}/messages",
        json={"text": HOSTILE, "timestamp": 1.0, "emotion": {"frustration": 0.4}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status_code == 201
    view = signed_in(app, "dana").get(f"/api/console/handoffs/{handoff}").json()
    assert view["handoff"]["customer_name"] == HOSTILE
    assert view["messages"][-1]["text"] == HOSTILE
    page = TestClient(app).get("/console").text
    assert HOSTILE not in page


def test_a_lead_can_close_a_conversation_an_agent_holds(console) -> None:
    app, rasa = console
    handoff = open_handoff(app, "conv-lead")
    dana, lee = signed_in(app, "dana"), signed_in(app, "lee")
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    assert (
        lee.post(f"/api/console/handoffs/{handoff}/notes", json={"text": "seen"}).status_code == 201
    )
    closed = lee.post(f"/api/console/handoffs/{handoff}/resolve")
    assert closed.status_code == 200 and closed.json()["handoff"]["status"] == "resolved"
    closing, question = rasa.events("conv-lead")[-2:]
    assert closing["text"].startswith("Lee has marked this conversation")
    # CSAT: the customer is asked to rate it, with five buttons.
    assert question["text"].startswith("How would you rate")
    assert len(question["data"]["buttons"]) == 5


def test_the_console_reads_the_routing_thresholds_from_config_yml(console) -> None:
    app, _ = console
    assert TestClient(app).get("/api/console/settings").status_code == 401
    config = yaml.safe_load((PROJECT_ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    policy = next(p for p in config["policies"] if p.get("name") == "routing.policy.RoutingPolicy")
    reply = signed_in(app, "dana").get("/api/console/settings")
    assert reply.status_code == 200
    assert reply.json()["thresholds"] == {
        "escalate_at": policy["escalate_at"],
        "urgent_at": policy["urgent_at"],
    }


def test_every_console_module_is_served_as_javascript(console) -> None:
    """The page loads main.js as an ES module; browsers refuse a module that is not
    served with a JavaScript content type, so check every file the import graph reaches."""
    app, _ = console
    client = TestClient(app)
    page = client.get("/console").text
    entries = re.findall(r'<script type="module" src="([^"]+)"></script>', page)
    assert entries == ["/static/console/main.js"]
    seen: dict[str, str] = {}
    pending = list(entries)
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        reply = client.get(url)
        assert reply.status_code == 200, url
        assert reply.headers["content-type"].split(";")[0] in (
            "application/javascript",
            "text/javascript",
        ), (url, reply.headers["content-type"])
        seen[url] = reply.text
        for target in re.findall(r'(?:from|import)\s+"(\.{1,2}/[^"]+)"', reply.text):
            pending.append(urljoin(url, target))
    assert {u.rsplit("/", 1)[1] for u in seen} >= {
        "main.js",
        "api.js",
        "queue.js",
        "conversation.js",
        "chart.js",
    }
    for url, source in seen.items():
        assert "innerHTML" not in source, url  # customer text only ever goes in as text


# --- The customer's conversations across channels -------------------------------------
DAY = 86_400.0
T0 = 1_764_000_000.0  # long before any handoff the tests open


def conversation(
    sender: str,
    t: float,
    channel: str,
    customer_id: str | None,
    intent: str,
    turns: int = 1,
    proof: str = "identity_token",
) -> list[dict[str, Any]]:
    """One session of `sender`, as Rasa's event broker publishes it; `customer_id` known
    by `proof` (verified_by: "email" is a typed e-mail, no proof)."""
    events: list[dict[str, Any]] = [
        {"sender_id": sender, "event": "action", "timestamp": t, "name": "action_session_start"},
        {"sender_id": sender, "event": "session_started", "timestamp": t},
    ]
    if customer_id is not None:
        for name, value in (("customer_id", customer_id), ("verified_by", proof)):
            slot = {"event": "slot", "timestamp": t, "name": name, "value": value}
            events.append({"sender_id": sender, **slot})
    for turn in range(turns):
        events.append(
            {
                "sender_id": sender,
                "event": "user",
                "timestamp": t + 1 + turn,
                "text": "hi",
                "input_channel": channel,
                "parse_data": {"intent": {"name": intent}},
            }
        )
    return events


def record_facts(app, *conversations: list[dict[str, Any]]) -> None:
    app.state.console.facts.apply([e for events in conversations for e in events])


def history(client: TestClient, handoff: int):
    return client.get(f"/api/console/handoffs/{handoff}/history")


def test_history_lists_a_signed_in_customers_conversations_on_every_channel(console) -> None:
    app, _ = console
    record_facts(
        app,
        conversation("tg-chat-5550101", T0 - 2 * DAY, "telegram", "C1001", "order_status"),
        conversation("browser-7f3a", T0 - DAY, "socketio", "C1001", "refund_request", turns=3),
        conversation("tg-chat-5550101", T0, "telegram", "C1001", "order_status", turns=2),
        conversation("browser-other", T0, "socketio", "C1002", "order_status"),  # not Dana
        conversation("browser-anon", T0, "socketio", None, "order_status"),  # nobody known
    )
    handoff = open_handoff(
        app, "tg-chat-5550101", channel="telegram", customer_key="signed-in:C1001"
    )
    reply = history(signed_in(app, "dana"), handoff)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["identified"] is True
    rows = answer["conversations"]
    # Newest first, both channels, and only the session the handoff opened in is current.
    assert [(r["channel"], r["started_at"], r["current"]) for r in rows] == [
        ("telegram", T0, True),
        ("socketio", T0 - DAY, False),
        ("telegram", T0 - 2 * DAY, False),
    ]
    assert rows[1] == {
        "channel": "socketio",
        "started_at": T0 - DAY,
        "last_event_at": T0 - DAY + 3,
        "turns": 3,
        "outcome": "bot",
        "escalated": False,
        "first_intent": "refund_request",
        "csat": None,
        "current": False,
    }
    # What a channel knows the customer and the conversation by stays on the server.
    settings = app.state.settings
    alias = pseudonym(settings.identity_secret.encode(), "id:C1001")
    for secret in ("tg-chat", "browser-", "signed-in", "C1001", alias, "sender", "customer"):
        assert secret not in reply.text, secret


def test_history_finds_a_customer_whose_chat_once_proved_the_email_with_a_code(
    console,
) -> None:
    app, _ = console
    store = SupportStore(app.state.settings.store_url)
    store.seed(load_seed())
    store.link_identity("telegram-77", "C1001")  # what a matching one-time code does
    store.close()
    record_facts(
        app,
        conversation(
            "twilio-+15550101", T0 - DAY, "twilio", "C1001", "order_status", proof="linked"
        ),
        conversation("telegram-77", T0, "telegram", "C1001", "order_status", proof="code"),
        # Typed Dana's e-mail to read an order: not linked to her.
        conversation("browser-9", T0, "socketio", "C1001", "order_status", proof="email"),
    )
    handoff = open_handoff(app, "telegram-77", channel="telegram", customer_key="telegram-77")
    answer = history(signed_in(app, "dana"), handoff).json()
    assert answer["identified"] is True
    assert [(r["channel"], r["current"]) for r in answer["conversations"]] == [
        ("telegram", True),
        ("sms", False),
    ]


def test_history_links_nothing_without_proof(console) -> None:
    app, _ = console
    record_facts(app, conversation("browser-anon", T0, "socketio", "C1001", "order_status"))
    anonymous = open_handoff(app, "browser-anon", customer_key="browser-anon", customer_email=None)
    unknown_email = open_handoff(
        app, "web-2", queue="billing", customer_key="browser-2", customer_email="nobody@example.com"
    )
    # Dana's e-mail, typed to read an order: no proof that this is Dana.
    typed_email = open_handoff(
        app,
        "web-3",
        queue="returns",
        customer_key="browser-3",
        customer_email="dana.whitfield@example.com",
    )
    dana = signed_in(app, "dana")
    for handoff in (anonymous, unknown_email, typed_email):
        reply = history(dana, handoff)
        assert reply.status_code == 200
        assert reply.json() == {"identified": False, "conversations": []}


def test_history_is_refused_to_whoever_may_not_open_the_conversation(console) -> None:
    app, _ = console
    handoff = open_handoff(app, "conv-private", customer_key="signed-in:C1001")
    dana, sam, lee = (signed_in(app, name) for name in ("dana", "sam", "lee"))
    assert dana.post(f"/api/console/handoffs/{handoff}/claim").status_code == 200

    conversation_refusal = sam.get(f"/api/console/handoffs/{handoff}")
    history_refusal = history(sam, handoff)
    assert history_refusal.status_code == conversation_refusal.status_code == 403
    assert history_refusal.json() == conversation_refusal.json()
    assert history(lee, handoff).status_code == 200  # leads see all
    assert history(dana, handoff).status_code == 200
    assert history(TestClient(app), handoff).status_code == 401
    assert history(dana, 999_999).status_code == 404
    assert history(dana, 2**40).status_code == 404
