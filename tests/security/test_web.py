"""Web hardening of the web front (issue 13, "Abuse limits" and "Web hardening").

One test (or a few) per finding of the review, each of which failed on the code before
the fix:

- no security headers (CSP, frame-ancestors, nosniff, Referrer-Policy) → every
  response carries them, the chat's CSP lets it reach Rasa's socket.io and nothing
  inline runs (checked in headless Chromium too);
- no `Secure` cookie option → Secure whenever the console is reached over https;
- CSRF protection was SameSite only, and `json_body` ignored Content-Type → cross-site
  writes get 403, bodies that are not `application/json` 415;
- request bodies were unbounded → 413 over 64 KB (1 MB on the internal API), before or
  while reading, and every field is checked before it is stored;
- the internal API did not check types: a non-dict `summary` broke every later queue
  snapshot → 400;
- resolve and hand-back messaged the customer before updating the queue, so a double
  click sent two closing messages → one;
- every handoff broadcast the whole queue to every console tab → one-handoff deltas.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from bot.web.app import create_app
from core.settings import Settings
from routing.accounts import AGENT, LEAD
from tests.conftest import run_async
from tests.routing.test_backends import make_request

TOKEN = "security-test-token-of-32-bytes-or-more"  # an HS256 key for Rasa's JWT
PASSWORD = "password123"
FAST_SCRYPT_N = 2**10  # OWASP's N=2^17 is the default; the tests' hashes are cheap
RASA_PORT = 5999
LIMIT = 64 * 1024
HEADERS_OF_EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
CLOSING = ("has marked this conversation as resolved", "handed our conversation back")


class FakeRasa:
    """Rasa's tracker-events API: records the events, optionally slowly or down."""

    def __init__(self, delay: float = 0.0) -> None:
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.delay = delay
        self.down = False

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)  # a real Rasa takes a while: calls overlap
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.appended.append((request.url.path.split("/")[2], json.loads(request.content)))
        return httpx.Response(200, json={"events": []})

    def closing_messages(self, conversation: str) -> list[str]:
        return [
            e["text"]
            for c, events in self.appended
            if c == conversation
            for e in events
            if e.get("event") == "bot" and any(words in e.get("text", "") for words in CLOSING)
        ]


def make_app(tmp_path: Path, rasa: FakeRasa | None = None, **environ: str):
    settings = Settings.load(
        environ={
            "DATA_DIR": str(tmp_path),
            "RASA_API_TOKEN": TOKEN,
            "RASA_PORT": str(RASA_PORT),
            **environ,
        },
        dotenv=tmp_path / "no.env",
    )
    app = create_app(settings)
    app.state.console.rasa.transport = httpx.MockTransport((rasa or FakeRasa()).handle)
    accounts = app.state.console.accounts
    accounts.scrypt_n = FAST_SCRYPT_N
    for name, role in (("dana", AGENT), ("sam", AGENT), ("lee", LEAD)):
        accounts.add_user(name, PASSWORD, role, name.capitalize())
    return app


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa):
    return make_app(tmp_path, rasa)


def sign_in(app, username: str = "dana", **client_options: Any) -> TestClient:
    client = TestClient(app, **client_options)
    reply = client.post("/api/console/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


def internal_post(app, path: str, **kwargs: Any) -> httpx.Response:
    client = TestClient(app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
    return client.post(path, headers=headers, **kwargs)


def open_handoff(app, conversation: str, **overrides: Any) -> int:
    reply = internal_post(
        app, "/internal/handoffs", json=make_request(conversation, **overrides).as_dict()
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["reference"])


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


# --- Security headers and CSP -------------------------------------------------------------
def assert_hardened(reply: httpx.Response) -> None:
    for name, value in HEADERS_OF_EVERY_RESPONSE.items():
        assert reply.headers.get(name) == value, (reply.url, name, reply.headers.get(name))
    policy = reply.headers.get("content-security-policy", "")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    directives = csp_directives(policy)
    assert directives.get("script-src") == ["'self'"], policy
    assert directives.get("style-src") == ["'self'"], policy
    assert directives.get("frame-ancestors") == ["'none'"], policy
    assert directives.get("object-src") == ["'none'"], policy


def test_every_response_of_the_web_front_carries_the_security_headers(app) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    for method, path in [
        ("GET", "/"),
        ("GET", "/console"),
        ("GET", "/chat.json"),
        ("GET", "/health"),
        ("GET", "/static/chat.css"),
        ("GET", "/static/console/main.js"),
        ("GET", "/api/console/me"),  # 401
        ("GET", "/no/such/page"),  # 404
        ("POST", "/api/console/login"),  # 415: not JSON
        ("POST", "/internal/handoffs"),  # 401: no token
    ]:
        assert_hardened(client.request(method, path))


def test_the_chat_may_reach_rasa_socket_io_and_the_console_only_its_own_origin(
    tmp_path: Path, app
) -> None:
    client = TestClient(app)
    chat = csp_directives(client.get("/").headers["content-security-policy"])
    # main.js: io(location.protocol + "//" + host + ":" + rasa_port), websocket then polling
    assert chat["connect-src"] == [
        "'self'",
        f"http://testserver:{RASA_PORT}",
        f"ws://testserver:{RASA_PORT}",
    ]
    assert chat["img-src"] == ["'self'", "data:"]  # the pages' empty data: favicon
    console = csp_directives(client.get("/console").headers["content-security-policy"])
    assert console["connect-src"] == ["'self'"]

    secure = TestClient(app, base_url="https://testserver")
    over_https = csp_directives(secure.get("/").headers["content-security-policy"])
    assert f"wss://testserver:{RASA_PORT}" in over_https["connect-src"]
    assert f"https://testserver:{RASA_PORT}" in over_https["connect-src"]

    public = make_app(tmp_path / "public", PUBLIC_HOST="chat.example.com")
    named = csp_directives(TestClient(public).get("/").headers["content-security-policy"])
    assert f"ws://chat.example.com:{RASA_PORT}" in named["connect-src"]


class InlineCode(HTMLParser):
    """Collects what CSP without 'unsafe-inline' would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        # A <script type="application/json"> is data, never executed.
        if tag == "script" and not given.get("src") and given.get("type") != "application/json":
            self.found.append(f"inline <script {given}>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}={value!r}")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value!r}")


def test_the_pages_have_no_inline_code_for_the_csp_to_block(app) -> None:
    """A guard for the CSP: everything the pages run comes from /static or /vendor."""
    client = TestClient(app)
    for path in ("/", "/console"):
        parser = InlineCode()
        parser.feed(client.get(path).text)
        assert parser.found == [], (path, parser.found)


# --- The session cookie -------------------------------------------------------------------
def test_the_session_cookie_is_secure_when_the_console_is_reached_over_https(app) -> None:
    over_https = TestClient(app, base_url="https://testserver").post(
        "/api/console/login", json={"username": "dana", "password": PASSWORD}
    )
    cookie = over_https.headers["set-cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    over_http = TestClient(app).post(
        "/api/console/login", json={"username": "sam", "password": PASSWORD}
    )
    assert "Secure" not in over_http.headers["set-cookie"]  # a browser would drop it
    assert "strict-transport-security" not in over_http.headers


def test_a_public_https_url_makes_every_cookie_secure() -> None:
    """Behind a proxy that does not say X-Forwarded-Proto, the public URL decides."""
    from bot.web.security import WebPolicy

    scope = {"type": "http", "scheme": "http", "path": "/", "headers": []}
    assert WebPolicy(5005, public_url="https://support.example.com").is_https(scope)
    assert not WebPolicy(5005, public_url="http://support.example.com").is_https(scope)
    assert not WebPolicy(5005).is_https(scope)


# --- Cross-site requests and content types ------------------------------------------------
def test_cross_site_requests_cannot_sign_in_claim_or_sign_out(app) -> None:
    handoff = open_handoff(app, "conv-csrf")
    dana = sign_in(app)
    claim = f"/api/console/handoffs/{handoff}/claim"
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://evil.testserver"},
        {"Origin": "https://evil.example"},  # a browser without Fetch Metadata
        {"Origin": "null"},  # a sandboxed frame or a data: page
    ):
        refused = dana.post(claim, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["error"] == "cross_site_request"
        assert dana.post("/api/console/logout", headers=headers).status_code == 403
        login = dana.post(
            "/api/console/login",
            json={"username": "sam", "password": PASSWORD},
            headers=headers,
        )
        assert login.status_code == 403
    view = dana.get(f"/api/console/handoffs/{handoff}")
    assert view.status_code == 200 and view.json()["handoff"]["status"] == "waiting"

    # The console's own page: same origin by either header.
    assert dana.post(claim, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    note = dana.post(
        f"/api/console/handoffs/{handoff}/notes",
        json={"text": "seen"},
        headers={"Origin": "http://testserver"},
    )
    assert note.status_code == 201


def test_json_endpoints_refuse_bodies_that_are_not_declared_json(app) -> None:
    handoff = open_handoff(app, "conv-type")
    dana = sign_in(app)
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    cases = [
        (dana, "/api/console/login", '{"username": "dana", "password": "password123"}', None),
        (dana, f"/api/console/handoffs/{handoff}/notes", '{"text": "hi"}', "text/plain"),
        (dana, f"/api/console/handoffs/{handoff}/messages", "text=hi", "multipart/form-data"),
    ]
    for client, path, body, content_type in cases:
        headers = {"content-type": content_type} if content_type else {}
        reply = client.post(path, content=body, headers=headers)
        assert reply.status_code == 415, (path, reply.text)
        assert reply.json()["error"] == "unsupported_media_type"
    internal = internal_post(
        app,
        "/internal/handoffs",
        content=json.dumps(make_request("conv-type-2").as_dict()),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert internal.status_code == 415
    ok = dana.post(
        f"/api/console/handoffs/{handoff}/notes",
        content='{"text": "hi"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201


# --- Body limits ------------------------------------------------------------------------
def test_console_json_over_64_kb_is_refused_with_413_before_it_is_used(app) -> None:
    big = json.dumps({"username": "dana", "password": "x" * LIMIT})
    reply = TestClient(app).post(
        "/api/console/login", content=big, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 413
    assert reply.json()["error"] == "body_too_large"
    assert "65,536 bytes" in reply.json()["message"]


def test_a_2_mb_body_gets_413_on_every_endpoint_that_takes_one(app) -> None:
    handoff = open_handoff(app, "conv-2mb")
    dana = sign_in(app)
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    two_mb = json.dumps({"text": "x" * 2_000_000})
    headers = {"content-type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    for path in (
        "/api/console/login",
        f"/api/console/handoffs/{handoff}/messages",
        f"/api/console/handoffs/{handoff}/notes",
        "/internal/handoffs",
        f"/internal/handoffs/{handoff}/messages",
    ):
        reply = dana.post(path, content=two_mb, headers=headers)
        assert reply.status_code == 413, (path, reply.status_code, reply.text[:200])
        assert reply.json()["error"] == "body_too_large"


def test_a_body_without_a_length_is_read_no_further_than_the_limit(app) -> None:
    """A chunked body (no Content-Length) of 10 MB: refused after about 64 KB is read."""
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "dana", "password": "'
        for _ in range(10_000):
            sent.append(1024)
            yield b"x" * 1024
        yield b'"}'

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post(
                "/api/console/login",
                content=chunks(),
                headers={"content-type": "application/json"},
            )

    reply = run_async(post())
    assert reply.status_code == 413 and reply.json()["error"] == "body_too_large"
    assert sum(sent) <= 2 * LIMIT, f"read {sum(sent):,} bytes of the body"


def test_the_internal_api_still_takes_a_long_conversation(app) -> None:
    """1 MB for the action server: a handoff carries the whole transcript."""
    transcript = [{"sender": "customer", "text": "x" * 4_000, "timestamp": 1.0}] * 100
    reply = internal_post(
        app,
        "/internal/handoffs",
        json=make_request("conv-long", transcript=transcript).as_dict(),
    )
    assert reply.status_code == 201, reply.text


# --- Types and lengths on the internal API -----------------------------------------------
def test_a_summary_that_is_not_an_object_is_refused_and_the_queue_keeps_working(app) -> None:
    """Was stored, and then every queue snapshot failed on `summary.get` (a 500)."""
    body = make_request("conv-list-summary").as_dict()
    body["summary"] = ["not", "an", "object"]
    reply = internal_post(app, "/internal/handoffs", json=body)
    assert reply.status_code == 400 and "`summary`" in reply.json()["message"]
    queue = sign_in(app).get("/api/console/queue")
    assert queue.status_code == 200 and queue.json()["handoffs"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_key", "k" * 201),  # VARCHAR(200): PostgreSQL's insert failed (a 500)
        ("conversation_id", "c" * 201),
        ("channel", "x" * 41),
        ("queue", "q" * 41),
        ("customer_name", "n" * 201),
        ("customer_email", "e" * 321),
        ("reason", "r" * 2_001),
        ("summary_text", "s" * 20_001),
        ("customer_name", "Dana\x00"),  # PostgreSQL cannot store NUL
        ("summary", {"issue": 42}),  # shown in the queue as the issue text
        ("summary", {"issue": "i" * 4_001}),
        ("summary", {"tried": "everything"}),
        ("transcript", "hello"),
        ("transcript", [{"sender": "customer", "text": ["hi"]}]),
        ("distress", True),
        ("distress", 7.5),
        ("wait_target_seconds", -1),
    ],
    ids=[
        "customer_key-201",
        "conversation_id-201",
        "channel-41",
        "queue-41",
        "customer_name-201",
        "customer_email-321",
        "reason-2001",
        "summary_text-20001",
        "customer_name-nul",
        "summary-issue-not-text",
        "summary-issue-4001",
        "summary-tried-not-list",
        "transcript-not-list",
        "transcript-text-not-text",
        "distress-bool",
        "distress-over-1",
        "wait-negative",
    ],
)
def test_internal_handoff_fields_are_checked_before_they_are_stored(
    app, field: str, value: Any
) -> None:
    body = make_request(f"conv-{field}").as_dict()
    body[field] = value
    reply = internal_post(app, "/internal/handoffs", json=body)
    assert reply.status_code == 400, (field, reply.status_code, reply.text[:200])
    assert reply.json()["error"] in ("invalid_handoff", "invalid_text")
    assert sign_in(app).get("/api/console/queue").json()["handoffs"] == []


def test_a_distress_of_nan_is_refused(app) -> None:
    """Python's JSON reader takes NaN; the queue then sorted and showed "nan"."""
    body = json.dumps(make_request("conv-nan").as_dict())
    body = body.replace('"distress": 0.86', '"distress": NaN')
    assert "NaN" in body
    reply = internal_post(
        app, "/internal/handoffs", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400 and "distress" in reply.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hi", "timestamp": "soon"},  # was float("soon"): a 500
        {"text": "hi", "timestamp": 1.0, "emotion": {"frustration": "very"}},
        {"text": "hi", "timestamp": 1.0, "emotion": {"sentiment": {"negative": [1]}}},
        {"text": "hi\x00there", "timestamp": 1.0},
        {"text": "x" * 100_001, "timestamp": 1.0},
    ],
    ids=["timestamp", "emotion", "nested-emotion", "nul", "long"],
)
def test_relayed_customer_messages_are_checked(app, body: dict[str, Any]) -> None:
    handoff = open_handoff(app, "conv-relay-types")
    reply = internal_post(app, f"/internal/handoffs/{handoff}/messages", json=body)
    assert reply.status_code == 400, reply.text[:200]
    view = sign_in(app).get(f"/api/console/handoffs/{handoff}").json()
    assert [m for m in view["messages"] if m["sender"] == "customer"] == []


def test_agent_replies_and_notes_with_nul_are_refused(app) -> None:
    handoff = open_handoff(app, "conv-nul")
    dana = sign_in(app)
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    for kind in ("messages", "notes"):
        reply = dana.post(f"/api/console/handoffs/{handoff}/{kind}", json={"text": "a\x00b"})
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_text"


def test_a_handoff_id_too_large_for_the_database_is_simply_unknown(app) -> None:
    dana = TestClient(app, raise_server_exceptions=False)
    dana.post("/api/console/login", json={"username": "dana", "password": PASSWORD})
    huge = 2**70
    assert dana.get(f"/api/console/handoffs/{huge}").status_code == 404  # was a 500
    relayed = internal_post(app, f"/internal/handoffs/{huge}/messages", json={"text": "hi"})
    assert relayed.status_code == 404


# --- Idempotent resolve and hand-back ----------------------------------------------------
def concurrently(app, cookies: httpx.Cookies, paths: list[str]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as client:
            return list(await asyncio.gather(*(client.post(p) for p in paths)))

    return run_async(run())


@pytest.mark.parametrize("action", ["resolve", "handback"])
def test_a_double_click_sends_one_closing_message(tmp_path: Path, action: str) -> None:
    rasa = FakeRasa(delay=0.2)
    app = make_app(tmp_path, rasa)
    handoff = open_handoff(app, "conv-double")
    dana = sign_in(app)
    assert dana.post(f"/api/console/handoffs/{handoff}/claim").status_code == 200

    path = f"/api/console/handoffs/{handoff}/{action}"
    replies = concurrently(app, dana.cookies, [path, path, path])
    assert [r.status_code for r in replies] == [200, 200, 200], [r.text for r in replies]
    assert sorted(r.json()["changed"] for r in replies) == [False, False, True]
    assert len(rasa.closing_messages("conv-double")) == 1
    # A later click, too: the same answer, no message.
    again = dana.post(path)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert len(rasa.closing_messages("conv-double")) == 1
    lines = dana.get(f"/api/console/handoffs/{handoff}").json()["messages"]
    assert len([m for m in lines if m["sender"] == "system" and "dana" in m["text"]]) == 2


def test_resolve_and_hand_back_at_once_send_one_closing_message(tmp_path: Path) -> None:
    rasa = FakeRasa(delay=0.2)
    app = make_app(tmp_path, rasa)
    handoff = open_handoff(app, "conv-both")
    dana, lee = sign_in(app), sign_in(app, "lee")
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    both = [f"/api/console/handoffs/{handoff}/resolve", f"/api/console/handoffs/{handoff}/handback"]
    statuses = sorted(r.status_code for r in concurrently(app, dana.cookies, both))
    assert statuses == [200, 409]
    assert len(rasa.closing_messages("conv-both")) == 1
    # A lead closing it afterwards changes nothing either.
    assert lee.post(both[0]).status_code in (200, 409)
    assert len(rasa.closing_messages("conv-both")) == 1


def test_a_close_the_customer_was_not_told_of_is_undone(app, rasa: FakeRasa) -> None:
    """The queue is now updated first: when Rasa cannot take the conversation back, the
    close is undone, so the agent still holds it (and may try again)."""
    handoff = open_handoff(app, "conv-undo")
    dana = sign_in(app)
    dana.post(f"/api/console/handoffs/{handoff}/claim")
    rasa.down = True
    reply = dana.post(f"/api/console/handoffs/{handoff}/resolve")
    assert reply.status_code == 503
    view = dana.get(f"/api/console/handoffs/{handoff}").json()
    assert view["handoff"]["status"] == "claimed" and view["handoff"]["closed_at"] is None
    assert not any("resolved" in m["text"] for m in view["messages"] if m["sender"] == "system")
    assert len(dana.get("/api/console/queue").json()["handoffs"]) == 1
    rasa.down = False
    assert dana.post(f"/api/console/handoffs/{handoff}/resolve").json()["changed"] is True
    assert len(rasa.closing_messages("conv-undo")) == 1


# --- Queue deltas on the live stream ------------------------------------------------------
def test_each_queue_change_reaches_the_consoles_as_one_handoff(app, monkeypatch) -> None:
    console = app.state.console
    published: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(console.live, "publish", lambda *event: published.append(event))
    snapshots = 0
    full_read = console.queue.waiting_and_held

    def counted() -> Any:
        nonlocal snapshots
        snapshots += 1
        return full_read()

    monkeypatch.setattr(console.queue, "waiting_and_held", counted)
    ids = [open_handoff(app, f"conv-delta-{i}") for i in range(5)]
    dana = sign_in(app)
    dana.post(f"/api/console/handoffs/{ids[0]}/claim")
    dana.post(f"/api/console/handoffs/{ids[0]}/resolve")

    changes = [data for event, data in published if event == "queue"]
    assert len(changes) == 7  # 5 opened, 1 claimed, 1 closed
    for data in changes:
        assert data["delta"] is True
        assert len(data["handoffs"]) + len(data["removed"]) == 1, data
    assert [c["handoffs"][0]["id"] for c in changes[:5]] == ids
    assert changes[5]["handoffs"][0]["status"] == "claimed"
    assert changes[6] == {"delta": True, "handoffs": [], "removed": [ids[0]]}
    assert snapshots == 0  # no change reads (or sends) the whole queue

    snapshot = dana.get("/api/console/queue").json()  # a tab's first load: the whole queue
    assert [h["id"] for h in snapshot["handoffs"]] == ids[1:]


# --- Against the running servers ----------------------------------------------------------
@pytest.mark.integration
@pytest.mark.slow
def test_the_running_web_front_is_hardened(stack) -> None:
    """`make run`'s web front: the pages carry the headers, and a 2 MB body gets 413."""
    base = stack.settings.web_url
    for path in ("/", "/console", "/static/chat/main.js", "/vendor/socket.io.min.js"):
        assert_hardened(httpx.get(base + path, timeout=30))
    two_mb = b'{"username": "x", "password": "' + b"x" * 2_000_000 + b'"}'
    for path in ("/api/console/login", "/internal/handoffs"):
        reply = httpx.post(
            base + path,
            content=two_mb,
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {stack.settings.rasa_api_token}",
            },
            timeout=30,
        )
        assert reply.status_code == 413, (path, reply.text[:200])
        assert reply.json()["error"] == "body_too_large"


CSP_WATCH = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__violations.push(e.violatedDirective + " " + e.blockedURI));
}"""


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.slow
def test_the_chat_and_the_console_work_under_the_csp_in_chromium(stack, browser) -> None:
    from routing.accounts import Accounts

    accounts = Accounts(stack.settings.store_url)
    if accounts.authenticate("csp-agent", PASSWORD) is None:
        accounts.add_user("csp-agent", PASSWORD, AGENT, "Casey")
    accounts.close()
    problems: list[str] = []

    def watch(page, name: str) -> None:
        page.add_init_script(f"({CSP_WATCH})()")
        page.on("pageerror", lambda e: problems.append(f"{name} error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(f"{name} console: {m.text}") if m.type == "error" else None,
        )

    chat = browser.new_context().new_page()
    watch(chat, "chat")
    response = chat.goto(stack.settings.web_url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    chat.wait_for_selector("#status >> text=Connected", timeout=60_000)  # socket.io to Rasa
    # The config is read from the <script type="application/json">, which CSP allows.
    assert chat.evaluate("JSON.parse(document.getElementById('chat-config').textContent).rasa_port")
    # An inline script is really refused (no 'unsafe-inline').
    chat.evaluate(
        """() => { const s = document.createElement('script');
                  s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }"""
    )
    assert chat.evaluate("window.__inline") is None
    assert any("script-src" in v for v in chat.evaluate("window.__violations"))
    problems[:] = [p for p in problems if "window.__inline" not in p and "inline script" not in p]

    context = browser.new_context()
    console = context.new_page()
    watch(console, "console")
    signed = context.request.post(
        stack.settings.web_url + "/api/console/login",
        data={"username": "csp-agent", "password": PASSWORD},
    )
    assert signed.ok, signed.text()
    response = console.goto(stack.settings.web_url + "/console")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    console.wait_for_selector("#live-status >> text=Live", timeout=30_000)  # SSE: 'self'
    assert console.evaluate("window.__violations") == []
    assert problems == [], problems
