"""Signing in to the agent console (issue 13, "Abuse limits"), one test or more per finding,
each of which failed on the code before the fix:

- sign-in had no throttling → after 5 failures per account (20 per address) every
  attempt is answered 429 with Retry-After, with exponential backoff, and costs no
  password check; 30 wrong passwords in a row are throttled (in process and against the
  running web front);
- scrypt ran at N=2^14, below OWASP's 2^17 → new hashes use N=2^17, r=8, p=1, and old
  hashes still verify and are rehashed at sign-in;
- the live stream checked the session only when it opened → it ends on sign-out at
  once, and within seconds of expiry or a password change.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from bot.web.console import SESSION_COOKIE
from routing.accounts import Accounts, User, hash_password, users, verify_password
from tests.conftest import free_port
from tests.routing.test_backends import make_request
from tests.security.test_web import PASSWORD, TOKEN, make_app

WRONG = "wrong-password"


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/console/login", json={"username": username, "password": password})


def count_password_checks(app, monkeypatch) -> list[str]:
    checked: list[str] = []
    accounts = app.state.console.accounts
    real = accounts.authenticate

    def authenticate(username: str, password: str) -> User | None:
        checked.append(username)
        return real(username, password)

    monkeypatch.setattr(accounts, "authenticate", authenticate)
    return checked


# --- Throttling -------------------------------------------------------------------------
def test_thirty_wrong_passwords_in_a_row_are_throttled(tmp_path: Path, monkeypatch) -> None:
    app = make_app(tmp_path)
    checked = count_password_checks(app, monkeypatch)
    client = TestClient(app)
    replies = [login(client, "dana", WRONG) for _ in range(30)]

    codes = [r.status_code for r in replies]
    assert codes == [401] * 5 + [429] * 25, codes
    assert len(checked) == 5  # a throttled attempt is answered without a password check
    refused = replies[-1]
    assert refused.json()["error"] == "too_many_attempts"
    assert int(refused.headers["retry-after"]) >= 1
    assert f"Try again in {refused.headers['retry-after']} second" in refused.json()["message"]
    # Even the right password waits now: a lockout, not a hint.
    assert login(client, "dana", PASSWORD).status_code == 429
    # The lock is the account's: another agent signs in from the same address.
    assert login(client, "sam", PASSWORD).status_code == 200


def test_guessing_one_account_from_many_addresses_is_throttled(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    codes = [
        login(TestClient(app, client=(f"198.51.100.{i}", 40000)), "dana", WRONG).status_code
        for i in range(8)
    ]
    assert codes == [401] * 5 + [429] * 3


def test_trying_many_accounts_from_one_address_is_throttled(tmp_path: Path) -> None:
    """Password spraying: one guess per account, from one address."""
    app = make_app(tmp_path)
    spray = TestClient(app, client=("203.0.113.7", 40000))
    codes = [login(spray, f"agent{i}", WRONG).status_code for i in range(24)]
    assert codes == [401] * 20 + [429] * 4
    assert login(spray, "dana", PASSWORD).status_code == 429
    assert login(TestClient(app), "dana", PASSWORD).status_code == 200  # elsewhere: fine


def test_the_backoff_doubles_up_to_fifteen_minutes_and_success_clears_it() -> None:
    from bot.web.throttle import SignInThrottle

    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    for _ in range(4):
        throttle.failed("dana", "a")
    assert throttle.retry_after("dana", "b") == 0
    waits = []
    for _ in range(12):
        throttle.failed("Dana ", "a")  # the same account, however it is typed
        waits.append(throttle.retry_after("dana", "b"))
        now[0] += waits[-1]  # the attacker waits each lockout out
    assert waits[:6] == [2, 4, 8, 16, 32, 64]
    assert max(waits) == 900 and waits[-1] == 900
    throttle.succeeded("dana")
    assert throttle.retry_after("dana", "b") == 0
    now[0] += 24 * 3600 + 1  # the address's counter is forgotten after a quiet day
    assert throttle.retry_after("x", "a") == 0


def test_the_throttle_forgets_the_oldest_entries_beyond_its_size() -> None:
    from bot.web.throttle import SignInThrottle

    throttle = SignInThrottle(max_tracked=100, clock=lambda: 0.0)
    for i in range(1000):
        throttle.failed(f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(throttle.accounts.entries) == 100 and len(throttle.addresses.entries) == 100


def test_over_long_credentials_are_refused_without_a_password_check(
    tmp_path: Path, monkeypatch
) -> None:
    app = make_app(tmp_path)
    checked = count_password_checks(app, monkeypatch)
    client = TestClient(app)
    assert login(client, "d" * 81, WRONG).status_code == 400
    assert login(client, "dana", "p" * 1025).status_code == 400
    assert checked == []


@pytest.mark.integration
@pytest.mark.slow
def test_thirty_wrong_passwords_against_the_running_web_front_are_throttled(stack) -> None:
    name = f"throttle-{uuid.uuid4().hex[:8]}"
    accounts = Accounts(stack.settings.store_url)
    accounts.add_user(name, PASSWORD)
    accounts.close()
    codes = []
    with httpx.Client(base_url=stack.settings.web_url, timeout=30) as client:
        for _ in range(30):
            reply = client.post("/api/console/login", json={"username": name, "password": WRONG})
            codes.append(reply.status_code)
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
    assert int(reply.headers["retry-after"]) >= 1


# --- Password hashes --------------------------------------------------------------------
def test_new_password_hashes_use_owasp_scrypt_parameters() -> None:
    stored = hash_password("correct horse battery")
    scheme, params, salt, digest = stored.split("$")
    assert scheme == "scrypt" and params == "n=131072,r=8,p=1"
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batter", stored)


def test_old_hashes_still_verify_and_are_rehashed_at_sign_in(tmp_path: Path) -> None:
    accounts = Accounts(f"sqlite:///{tmp_path / 'accounts.db'}")
    accounts.scrypt_n = 2**15  # stronger than the old 2^14, cheaper than OWASP's for a test
    accounts.add_user("dana", PASSWORD)
    salt = secrets.token_bytes(16)
    old_digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${salt.hex()}${old_digest.hex()}"  # how hashes were stored before
    with accounts.db.begin() as c:
        c.execute(users.update().values(password_hash=legacy))

    assert accounts.authenticate("dana", WRONG) is None
    assert stored_hash(accounts) == legacy  # a failed sign-in changes nothing
    assert accounts.authenticate("dana", PASSWORD) is not None
    upgraded = stored_hash(accounts)
    assert upgraded.startswith("scrypt$n=32768,r=8,p=1$") and verify_password(PASSWORD, upgraded)
    assert accounts.authenticate("dana", PASSWORD) is not None
    assert stored_hash(accounts) == upgraded  # once is enough
    accounts.close()


def stored_hash(accounts: Accounts) -> str:
    with accounts.db.begin() as c:
        return str(c.execute(sa.select(users.c.password_hash)).scalar_one())


def test_a_stored_hash_cannot_ask_for_any_cost_it_likes() -> None:
    assert not verify_password("x", "scrypt$n=1073741824,r=8,p=1$00$00")  # 2^30: 1 TB
    assert not verify_password("x", "scrypt$n=1000,r=8,p=1$00$00")  # not a power of two
    assert not verify_password("x", "scrypt$n=16384$00$00")


# --- The live stream follows its session ---------------------------------------------------
class Server:
    """The web front on a free port (a real server: the live stream is a long response)."""

    def __init__(self, app) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "the web front did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app = make_app(tmp_path)
    app.state.console.live.recheck_seconds = 0.3
    running = Server(app)
    yield running
    running.stop()


def events(stream: httpx.Response) -> Iterator[tuple[str, Any]]:
    event = ""
    for line in stream.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            yield event, json.loads(line.split(":", 1)[1])


def read_until_closed(stream: httpx.Response, seen: Iterator[tuple[str, Any]]) -> list[str]:
    """The events until the server ends the stream (a ReadTimeout if it never does)."""
    return [event for event, _ in seen]


def test_the_live_stream_ends_when_its_session_signs_out(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10.0)) as agent:
        assert login(agent, "dana", PASSWORD).status_code == 200
        with agent.stream("GET", "/api/console/stream") as stream:
            seen = events(stream)
            first, snapshot = next(seen)
            assert first == "queue" and snapshot["handoffs"] == []
            # Changes arrive as deltas of one handoff.
            opened = httpx.post(
                server.url + "/internal/handoffs",
                json=make_request("conv-live").as_dict(),
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert opened.status_code == 201
            delta = next(d for k, d in seen if k == "queue")
            assert delta["delta"] is True
            assert [str(h["id"]) for h in delta["handoffs"]] == [opened.json()["reference"]]

            started = time.monotonic()
            # Another tab of the same session signs out.
            other = httpx.Client(base_url=server.url, cookies=agent.cookies)
            assert other.post("/api/console/logout").status_code == 200
            rest = read_until_closed(stream, seen)
            assert rest[-1:] == ["signed_out"] and time.monotonic() - started < 5
        assert agent.get("/api/console/stream").status_code == 401


def test_the_live_stream_ends_when_its_session_expires(server: Server) -> None:
    accounts = server.app.state.console.accounts
    dana = accounts.authenticate("dana", PASSWORD)
    token = accounts.start_session(dana, seconds=2)
    cookies = {SESSION_COOKIE: token}
    with (
        httpx.Client(base_url=server.url, timeout=10.0, cookies=cookies) as agent,
        agent.stream("GET", "/api/console/stream") as stream,
    ):
        seen = events(stream)
        assert next(seen)[0] == "queue"
        started = time.monotonic()
        kinds = read_until_closed(stream, seen)
        assert kinds[-1:] == ["signed_out"]
        assert time.monotonic() - started < 5


def test_the_live_stream_ends_when_the_password_changes(server: Server) -> None:
    """`python -m routing.accounts set-password` (another process) ends every session."""
    accounts = server.app.state.console.accounts
    token = accounts.start_session(accounts.authenticate("sam", PASSWORD))
    with (
        httpx.Client(base_url=server.url, timeout=10.0, cookies={SESSION_COOKIE: token}) as c,
        c.stream("GET", "/api/console/stream") as stream,
    ):
        seen = events(stream)
        assert next(seen)[0] == "queue"
        accounts.set_password("sam", "a-new-password")
        assert read_until_closed(stream, seen)[-1:] == ["signed_out"]
