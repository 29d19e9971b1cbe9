"""A customer's data, exported as one JSON and erased from every store, on SQLite and on
PostgreSQL: afterwards no database file (SQLite) and no table (PostgreSQL) holds their
e-mail, phone number or name."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

from bot.channels.inbox import ChannelInbox, InboundMessage
from bot.customer_data import CustomerData, UnknownCustomer, main
from bot.store import SupportStore, load_seed
from bot.store import schema as store_schema
from bot.tracker_store import UrlTrackerStore
from core.settings import Settings
from insights.facts import FactsStore
from insights.schema import broker_events
from routing.queue import HandoffQueue
from tests.conftest import postgres_databases, run_async
from tests.routing.test_backends import make_request

EMAIL = "nora.quinn@example.net"
PHONE = "+44 7700 900987"
NAME = "Nora Quinn"
SECRET = "an-identity-secret-of-at-least-32-characters"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield load(
            tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'store.db'}"
        )
        return
    with postgres_databases("bb_forget", 2) as urls:
        yield load(tmp_path, *urls)


def load(tmp_path: Path, tracker_url: str, store_url: str) -> Settings:
    return Settings.load(
        environ={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": tracker_url,
            "STORE_URL": store_url,
            "IDENTITY_SECRET": SECRET,
        },
        dotenv=tmp_path / "none.env",
    )


def customer_everywhere(settings: Settings) -> None:
    """Nora, as the running assistant leaves her: a profile, a case, a verified
    conversation in the tracker store, a handoff, its facts, queued broker events, a
    Telegram inbox row and a one-time-code e-mail."""
    store = SupportStore(settings.store_url)
    store.seed(load_seed())
    with store.engine.begin() as c:
        c.execute(
            sa.insert(store_schema.customers).values(
                id="C9100",
                name=NAME,
                email=EMAIL,
                tier="plus",
                phone=PHONE,
                account_status="active",
            )
        )
    store.link_identity("telegram-555", "C9100")
    store.open_case("telegram-555", "human_request", f"Handed to a person: {NAME}", None, "C9100")
    store.close()

    trackers = UrlTrackerStore(host=settings.database_url)
    tracker = run_async(trackers.create_tracker("telegram-555"))
    tracker.update(UserUttered("I want to talk to a human", {"name": "request_human"}))
    for slot, value in (("customer_id", "C9100"), ("customer_name", NAME), ("email", EMAIL)):
        tracker.update(SlotSet(slot, value))
    tracker.update(ActionExecuted("action_listen"))
    run_async(trackers.save(tracker))
    trackers.engine.dispose()

    queue = HandoffQueue(settings.store_url)
    request = make_request(
        "telegram-555", customer_key="telegram-555", customer_name=NAME, customer_email=EMAIL
    )
    queue.open(request)
    queue.close()
    facts = FactsStore(settings.store_url, SECRET.encode())
    facts.apply(
        [
            {"sender_id": "telegram-555", "event": "session_started", "timestamp": time.time()},
            {
                "sender_id": "telegram-555",
                "event": "slot",
                "timestamp": time.time(),
                "name": "customer_id",
                "value": "C9100",
            },
            {
                "sender_id": "telegram-555",
                "event": "slot",
                "timestamp": time.time(),
                "name": "verified_by",
                "value": "code",
            },
            {
                "sender_id": "telegram-555",
                "event": "user",
                "timestamp": time.time(),
                "text": "hi",
                "input_channel": "telegram",
                "parse_data": {"intent": {"name": "greet"}},
            },
        ]
    )
    facts.close()
    engine = sa.create_engine(settings.store_url)
    with engine.begin() as c:
        body = {"sender_id": "telegram-555", "event": "slot", "name": "email", "value": EMAIL}
        c.execute(sa.insert(broker_events).values(body=json.dumps(body), created_at=time.time()))
    engine.dispose()
    inbox = ChannelInbox(settings.store_url)
    inbox.accept("telegram", [InboundMessage("1", "telegram-555", f"I'm {NAME}, {PHONE}", {})])
    inbox.close()
    outbox = settings.data_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "code.eml").write_text(f"To: {EMAIL}\n\nYour code is 123456\n")
    (outbox / "other.eml").write_text("To: someone.else@example.com\n\nYour code is 654321\n")


def traces(settings: Settings) -> list[str]:
    """Where the e-mail, phone number or name still is: SQLite files as bytes (free pages
    and WAL included), PostgreSQL tables as rows, and the outbox."""
    needles = [EMAIL, PHONE, NAME, "7700900987"]
    found = []
    for path in sorted(p for p in settings.data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found += [f"{path.name}: {n}" for n in needles if n.encode() in content]
    for url in (settings.database_url, settings.store_url):
        if url.startswith("sqlite"):
            continue
        engine = sa.create_engine(url)
        with engine.connect() as c:
            for table in sa.inspect(c).get_table_names():
                for row in c.execute(sa.text(f'SELECT * FROM "{table}"')):
                    text = " ".join(str(v) for v in row)
                    found += [f"{table}: {n}" for n in needles if n in text]
        engine.dispose()
    return found


def test_a_customers_data_is_exported_whole(settings: Settings) -> None:
    customer_everywhere(settings)
    data = CustomerData(settings)
    try:
        exported = data.export(EMAIL)
    finally:
        data.close()
    assert exported["customer"]["name"] == NAME
    assert [c["conversation"] for c in exported["conversations"]] == ["telegram-555"]
    events = exported["conversations"][0]["events"]
    assert {"event": "slot", "name": "customer_id", "value": "C9100"}.items() <= events[
        2
    ].items() or any(e.get("name") == "customer_id" and e.get("value") == "C9100" for e in events)
    assert exported["handoffs"][0]["customer_email"] == EMAIL
    assert exported["cases"][0]["summary"].endswith(NAME)
    assert exported["linked_conversations"][0]["customer_key"] == "telegram-555"
    assert exported["conversation_facts"][0]["sender_id"] == "telegram-555"
    json.dumps(exported, default=str)  # one JSON


def test_a_forgotten_customer_is_in_no_store(settings: Settings, capsys) -> None:
    customer_everywhere(settings)
    assert traces(settings)  # there to begin with
    data = CustomerData(settings)
    try:
        removed = data.forget(EMAIL)
    finally:
        data.close()
    assert removed["tracker events"] >= 4 and removed["handoffs"] == 1
    assert removed["customer"] == 1 and removed["conversation facts"] == 1
    assert removed["channel inbox"] == 1 and removed["queued broker events"] == 1
    assert removed["e-mails in the outbox"] == 1
    assert traces(settings) == []
    assert (settings.data_dir / "outbox" / "other.eml").exists()  # only hers
    store = SupportStore(settings.store_url)
    try:
        assert store.get_customer("C1001") is not None  # the others stay
    finally:
        store.close()
    with pytest.raises(UnknownCustomer):
        CustomerData(settings).find(EMAIL)


def test_the_command_names_an_unknown_customer(tmp_path: Path, monkeypatch, capsys) -> None:
    for name, value in {
        "DATA_DIR": str(tmp_path),
        "STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["forget", "nobody@example.com"]) == 1
    assert "No customer has the e-mail 'nobody@example.com'" in capsys.readouterr().err


@pytest.mark.integration
@pytest.mark.slow
def test_after_forget_customer_no_file_of_the_running_assistant_holds_them(stack) -> None:
    """Through the real servers: a signed-in customer talks to the bot and is handed to a
    person; `make forget-customer` erases them while the servers run; then no database
    file, WAL or log under DATA_DIR holds their e-mail, phone or name."""
    from tests.conftest import RestChat

    customer = f"C{uuid.uuid4().hex[:6].upper()}"
    email, phone, name = f"{customer.lower()}@example.net", "+44 7700 900321", "Imogen Thackeray"
    store = SupportStore(stack.settings.store_url)
    with store.engine.begin() as c:
        c.execute(
            sa.insert(store_schema.customers).values(
                id=customer,
                name=name,
                email=email,
                tier="plus",
                phone=phone,
                account_status="active",
            )
        )
    store.close()
    chat = RestChat(stack.settings, f"forget-{customer}", signed_in_as=customer)
    assert "Imogen" in chat.say("hi")  # the bot knows her
    assert "bringing in a person" in chat.say(f"I want to talk to a human, call me on {phone}")
    time.sleep(2.0)  # the facts consumer catches up
    data = CustomerData(stack.settings)
    try:
        removed = data.forget(email)
    finally:
        data.close()
    assert removed["tracker events"] > 5 and removed["handoffs"] == 1
    needles = [email, phone, name, "7700900321"]
    found = [
        f"{path.relative_to(stack.settings.data_dir)}: {n}"
        for path in sorted(p for p in stack.settings.data_dir.rglob("*") if p.is_file())
        for n in needles
        if n.encode() in path.read_bytes()
    ]
    assert found == []
