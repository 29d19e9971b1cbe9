"""Fixtures shared by the whole suite."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.store import SupportStore, load_seed
from core.paths import PROJECT_ROOT

# A fixed "today" keeps the store's relative dates (late by 4 days, ...) stable in tests.
TODAY = date(2026, 11, 18)  # a Wednesday
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion in a thread of its own.

    The session's Playwright browser keeps an event loop running in the main thread, so
    `asyncio.run` there would fail once a browser test has run.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as e:  # re-raised in the test's thread
            failure.append(e)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def run_python_offline(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter at the project root, offline, with a bare
    environment (what a module loads on its own shows in its `sys.modules`)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SupportStore]:
    """A freshly seeded SQLite store whose today is TODAY."""
    s = SupportStore(f"sqlite:///{tmp_path / 'store.db'}", today=TODAY)
    s.seed(load_seed())
    yield s
    s.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public corpora not found at {SHARED_DATA} (they are optional)")
    return SHARED_DATA


# --- PostgreSQL ---------------------------------------------------------------------
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """The PostgreSQL server the `postgres` tests create their databases on.

    `DATABASE_URL_TEST`, else the local default. With no DATABASE_URL_TEST and no local
    server the test is skipped, with the reason (PostgreSQL is optional). A server that
    DATABASE_URL_TEST names but that does not answer fails the test: it was asked for.
    """
    import sqlalchemy as sa

    url = os.environ.get("DATABASE_URL_TEST") or DEFAULT_POSTGRES
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as e:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        reason = f"no PostgreSQL at {shown} ({str(e).strip()[:120]})"
        if os.environ.get("DATABASE_URL_TEST"):
            pytest.fail(f"DATABASE_URL_TEST is set but {reason}", pytrace=False)
        pytest.skip(f"{reason}; start one there or point DATABASE_URL_TEST at one")
    finally:
        engine.dispose()
    return url


@contextmanager
def postgres_databases(prefix: str, count: int = 1) -> Iterator[list[str]]:
    """URLs of `count` new, empty PostgreSQL databases, dropped afterwards (skips the test
    when there is no server, as `postgres_admin_url`)."""
    from core.database import throwaway_databases

    with throwaway_databases(postgres_admin_url(), prefix, count) as urls:
        yield urls


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server accepts connections there (Redis, RabbitMQ: optional here)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


# --- Running servers ----------------------------------------------------------------
class RestChat:
    """One customer talking to the Rasa REST channel, with the session token of its
    conversation (minted with the stack's SESSION_SECRET, as POST /webhooks/rest/session
    would) and, for `signed_in_as`, an identity token as the company's website signs it."""

    def __init__(
        self,
        settings,
        sender: str,
        metadata: dict | None = None,
        *,
        signed_in_as: str | None = None,
    ) -> None:
        import httpx

        from core.tokens import IdentityTokens, SessionTokens

        self.url = f"{settings.rasa_url}/webhooks/rest/webhook"
        self.settings = settings
        self.sender = sender
        self.metadata = dict(metadata or {})
        if signed_in_as is not None:
            token = IdentityTokens(settings.identity_secret).issue(signed_in_as)
            self.metadata["identity_token"] = token
        _, self.token = SessionTokens(settings.session_secret).issue(sender)
        self.client = httpx.Client(timeout=60.0, headers={"Authorization": f"Bearer {self.token}"})

    def send(self, text: str) -> list[dict]:
        reply = self.client.post(
            self.url, json={"sender": self.sender, "message": text, "metadata": self.metadata}
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def say(self, text: str) -> str:
        """Send `text`; return every bot text of the reply joined by newlines."""
        return "\n".join(m.get("text", "") for m in self.send(text) if m.get("text"))

    def say_code(self) -> str:
        """Type the one-time code of the latest e-mail in the stack's outbox."""
        return self.say(latest_code(self.settings))


def remember_conversations(settings, sender: str) -> None:
    """The customer's "remember my conversations", recorded as the web chat's panel does."""
    from bot.store import SupportStore
    from core.constants import CHANNEL_WEB_CHAT, CONSENT_REMEMBER, CONSENT_TEXTS

    store = SupportStore(settings.store_url)
    try:
        store.record_consent(
            sender, CONSENT_REMEMBER, True, CONSENT_TEXTS[CONSENT_REMEMBER], CHANNEL_WEB_CHAT
        )
    finally:
        store.close()


def latest_code(settings) -> str:
    """The one-time code of the latest e-mail the stack wrote to DATA_DIR/outbox."""
    from bot.mail import outbox_messages
    from bot.verification import code_in

    messages = outbox_messages(settings.data_dir / "outbox")
    assert messages, "no e-mail was sent"
    code = code_in(messages[-1])
    assert code, messages[-1].as_string()
    return code


def page_session_id(page, settings) -> str:
    """The conversation id of the web chat open in `page` (from its session token)."""
    from core.tokens import SessionTokens

    token = page.evaluate(
        "sessionStorage.getItem('bb_session_token') || localStorage.getItem('bb_session_token')"
    )
    session_id = SessionTokens(settings.session_secret).session_of(token)
    assert session_id, "the page holds no valid session token"
    return session_id


def open_handoff_id(stack, conversation_id: str) -> int:
    """The open handoff of a conversation, from the queue's database (the console shows
    agents no conversation ids)."""
    from routing.queue import HandoffQueue

    queue = HandoffQueue(stack.settings.store_url)
    try:
        handoff = queue.open_for_conversation(conversation_id)
    finally:
        queue.close()
    assert handoff is not None, f"{conversation_id} has no open handoff"
    return handoff.id


def tracker_of(stack, sender: str, include_events: str = "AFTER_RESTART") -> dict:
    """The conversation's tracker through Rasa's HTTP API, as the agent console reads it."""
    import httpx

    from bot.rasa_server import api_headers

    reply = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
        params={"include_events": include_events},
        headers=api_headers(stack.settings.rasa_api_token),
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def stack_settings(tmp: Path, **overrides: str):
    from core.settings import Settings

    env = {
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "WEB_PORT": str(free_port()),
        "DATA_DIR": str(tmp),
        "MODEL_DIR": str(PROJECT_ROOT / "models"),
        "RASA_API_TOKEN": "test-token-for-the-rasa-http-api",  # 32 bytes: an HS256 key
        "LOG_LEVEL": "INFO",
        # Every test talks from 127.0.0.1: the per-address limits would be the suite's.
        "CHAT_MESSAGES_PER_MINUTE": "1000000",
        "CHAT_SESSIONS_PER_HOUR": "1000000",
        **overrides,
    }
    return Settings.load(environ=env, dotenv=tmp / "no.env")


def start_stack(settings):
    from bot.launcher import ServiceStack
    from bot.store import SupportStore, load_seed

    store = SupportStore(settings.store_url)
    if not store.is_seeded():
        store.seed(load_seed())
    store.close()
    stack = ServiceStack(settings)
    stack.start()
    return stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The real Rasa server, action server and web front, on free ports, with SQLite."""
    settings = stack_settings(tmp_path_factory.mktemp("stack"))
    running = start_stack(settings)
    yield running
    running.stop()


@pytest.fixture
def chat(stack, request: pytest.FixtureRequest):
    """A new customer (unique sender and customer id) on the session's stack."""
    import uuid

    ident = uuid.uuid4().hex[:12]
    return RestChat(stack.settings, f"test-{ident}")


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download, ever)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-chromium.sh).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()
