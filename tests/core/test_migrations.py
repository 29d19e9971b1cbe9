"""Schema migrations: head equals the models, installations upgrade without losing a row.

Each test runs on SQLite and, marked `postgres`, on a throwaway PostgreSQL database
(DATABASE_URL_TEST's server; skipped when there is none).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.channels import inbox as inbox_schema
from bot.store import SupportStore, load_seed
from bot.store import schema as store_schema
from bot.store.seed import rows_from_seed
from core.database import create_engine
from core.migrations import (
    BASELINE,
    SchemaError,
    SchemaUpgrade,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from core.migrations.__main__ import main as migrations_cli
from core.migrations.runner import BASELINE_TABLES
from insights import schema as insights_schema
from privacy import audit as audit_schema
from routing import accounts as accounts_schema
from routing import queue as queue_schema
from routing.accounts import Accounts, hash_password
from routing.queue import HandoffQueue
from tests.conftest import TODAY, postgres_admin_url

MODEL_METADATAS = (
    store_schema.metadata,
    queue_schema.metadata,
    accounts_schema.metadata,
    insights_schema.metadata,
    inbox_schema.metadata,
    audit_schema.metadata,
)
OURS = frozenset(t for m in MODEL_METADATAS for t in m.tables)


def models() -> sa.MetaData:
    """Every table the project owns, as today's models declare them."""
    combined = sa.MetaData()
    for metadata in MODEL_METADATAS:
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


@pytest.fixture
def postgres_url() -> Iterator[str]:
    admin_url = postgres_admin_url()  # skips, or fails when DATABASE_URL_TEST is unreachable
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"bb_migrations_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(url: str) -> Iterator[sa.engine.Engine]:
    engine = create_engine(url)
    yield engine
    engine.dispose()


def differences(engine: sa.engine.Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, models())


def version_rows(engine: sa.engine.Engine) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT version_num FROM alembic_version"))]


def snapshot(engine: sa.engine.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ours that exists, in primary-key order."""
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as c:
        return {
            t.name: [tuple(r) for r in c.execute(sa.select(t).order_by(*t.primary_key))]
            for t in models().sorted_tables
            if t.name in present
        }


def fill(engine: sa.engine.Engine, tables: frozenset[str] = OURS) -> None:
    """Rows in every table of `tables`: the sample store's seed plus one of each other."""
    now = 1_763_000_000.0
    when = datetime(2026, 11, 17, 9, 30)
    rows: dict[str, list[dict[str, Any]]] = dict(rows_from_seed(load_seed(), TODAY))
    rows["identities"] = [{"customer_key": "web-1", "customer_id": "C1001", "linked_at": when}]
    rows["return_requests"] = [
        {
            "order_number": "10234",
            "customer_id": "C1001",
            "kind": "refund",
            "reason": "late",
            "amount": 54.0,
            "status": "requested",
            "created_at": when,
        }
    ]
    rows["cases"] = [
        {
            "customer_key": "web-1",
            "customer_id": "C1001",
            "kind": "late_delivery",
            "order_number": "10234",
            "status": "open",
            "summary": "late",
            "created_at": when,
            "updated_at": when,
        }
    ]
    rows["account_events"] = [{"customer_id": "C1001", "kind": "frozen", "created_at": when}]
    rows["verification_codes"] = [
        {
            "customer_key": "web-1",
            "customer_id": "C1001",
            "code_hash": "0" * 64,
            "salt": "1" * 32,
            "created_at": when,
            "expires_at": when,
            "attempts": 0,
            "used_at": None,
        }
    ]
    rows["handoffs"] = [
        {
            "conversation_id": "conv-1",
            "channel": "socketio",
            "customer_key": "web-1",
            "customer_name": "Dana Whitfield",
            "customer_email": "dana.whitfield@example.com",
            "queue": "orders",
            "priority": "high",
            "priority_rank": 1,
            "reason": "frustrated",
            "distress": 0.91,
            "wait_target_seconds": 120,
            "summary": json.dumps({"issue": "late order"}),
            "summary_text": "late order",
            "transcript": json.dumps([{"sender": "customer", "text": "where is it"}]),
            "status": "waiting",
            "agent": None,
            "created_at": now,
            "claimed_at": None,
            "closed_at": None,
        }
    ]
    rows["handoff_messages"] = [
        {
            "handoff_id": 1,
            "sender": "customer",
            "author": None,
            "text": "hello?",
            "emotion": json.dumps({"frustration": 0.8}),
            "created_at": now + 1,
        },
        {
            "handoff_id": 1,
            "sender": "note",
            "author": "dana",
            "text": "checking UPS",
            "emotion": None,
            "created_at": now + 2,
        },
    ]
    rows["console_users"] = [
        {
            "username": "dana",
            "display_name": "Dana",
            "role": "lead",
            "password_hash": hash_password("correct horse"),
            "created_at": now,
        }
    ]
    rows["console_sessions"] = [
        {
            "username": "dana",
            "token_hash": hashlib.sha256(b"token-1").hexdigest(),
            "expires_at": now + 3600,
        }
    ]
    rows["conversation_facts"] = [
        {
            "sender_id": "conv-1",
            "session": 1,
            "channel": "socketio",
            "customer": "a" * 32,
            "started_at": now,
            "last_event_at": now + 60,
            "closed_at": None,
            "turns": 3,
            "first_intent": "order_status",
            "intents": json.dumps({"order_status": 2, "request_human": 1}),
            "kb_answered": 0,
            "kb_missed": 1,
            "missed_questions": json.dumps(["can I pay with vouchers"]),
            "frustration_peak": 0.91,
            "frustration_sum": 1.5,
            "urgency_peak": 0.2,
            "distress_max": 0.8,
            "trajectory": json.dumps([[now, 0.91, 0.2, 0.9]]),
            "decisions": json.dumps([{"action": "escalate", "reasons": ["frustration 0.91"]}]),
            "escalated": True,
            "escalation_reason": "frustration 0.91",
            "queue": "orders",
            "priority": "high",
            "wait_target_seconds": 120,
            "handoff_at": now + 30,
            "claimed_at": None,
            "seconds_to_claim": None,
            "agent": None,
            "first_agent_reply_at": None,
            "seconds_to_first_reply": None,
            "handoff_closed_at": None,
            "handling_seconds": None,
            "handoff_status": "waiting",
            "last_turn_failed": False,
            "outcome": "abandoned",
            "repeat_contact": False,
            "csat_asked": False,
            "csat": None,
            "csat_comment": None,
            "customer_text": "where is it",
        }
    ]
    rows["broker_events"] = [
        {"body": json.dumps({"sender_id": "conv-1", "event": "user"}), "created_at": now}
    ]
    rows["annotations"] = [
        {
            "conversation": 1,
            "turn": 0,
            "kind": "should_have_escalated",
            "text": "where is it",
            "detail": "{}",
            "note": None,
            "author": "dana",
            "created_at": now,
        }
    ]
    rows["channel_inbox"] = [
        {
            "channel": "telegram",
            "external_id": "1001",
            "conversation_id": "telegram-42",
            "payload": json.dumps({"text": "hi", "metadata": {}}),
            "status": "pending",
            "attempts": 0,
            "received_at": now,
        }
    ]
    rows["audit_log"] = [
        {
            "at": now,
            "actor": "dana",
            "role": "agent",
            "action": "opened",
            "subject": "handoff:1",
            "detail": "{}",
        }
    ]
    rows["consents"] = [
        {
            "conversation_key": "web-1",
            "customer_id": "C1001",
            "purpose": "remember_conversations",
            "granted": True,
            "text": "Remember my conversations",
            "channel": "socketio",
            "decided_at": when,
        }
    ]
    rows["privacy_requests"] = [
        {
            "customer_id": "C1001",
            "kind": "erase",
            "conversation_key": "web-1",
            "requested_at": when,
            "done_at": None,
            "outcome": None,
        }
    ]
    rows["consumed_events"] = [{"event_id": "e" * 32, "consumed_at": now}]
    metadata = models()
    present = set(sa.inspect(engine).get_table_names())
    with engine.begin() as c:
        for table in metadata.sorted_tables:
            if table.name in tables and table.name in present:
                c.execute(sa.insert(table), rows[table.name])


def create_like_before_migrations(engine: sa.engine.Engine, metadatas=MODEL_METADATAS) -> None:
    """The tables `create_all` made before migrations existed: the baseline's."""
    for metadata in metadatas:
        tables = [t for t in metadata.sorted_tables if t.name in BASELINE_TABLES]
        metadata.create_all(engine, tables=tables)


# --- (a) the head revision is what the models declare -----------------------------------
def test_head_migration_creates_exactly_what_the_models_declare(engine) -> None:
    result = upgrade(engine)
    assert result == SchemaUpgrade(before=None, after=head_revision(), adopted=False)
    assert set(sa.inspect(engine).get_table_names()) == OURS | {"alembic_version"}
    assert differences(engine) == []


def test_the_chain_is_linear_and_starts_at_the_baseline() -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    assert revisions[-1].revision == BASELINE and revisions[-1].down_revision is None
    assert revisions[0].revision == head_revision()
    assert all(isinstance(r.down_revision, str | None) for r in revisions)  # no merges


# --- (b) a database at today's schema, filled, upgraded, finds every row ------------------
def test_database_made_by_create_all_keeps_every_row_through_the_upgrade(engine) -> None:
    create_like_before_migrations(engine)
    fill(engine)
    before = snapshot(engine)
    assert all(before[name] for name in BASELINE_TABLES), "the test must fill every table"
    assert current_revision(engine) is None

    result = upgrade(engine)

    assert result.adopted and result.before is None and result.after == head_revision()
    assert {k: v for k, v in snapshot(engine).items() if k in before} == before
    assert version_rows(engine) == [head_revision()]
    assert differences(engine) == []


def test_the_application_reads_the_upgraded_rows(url, engine) -> None:
    create_like_before_migrations(engine)
    fill(engine)
    store, queue, accounts = SupportStore(url, today=TODAY), HandoffQueue(url), Accounts(url)
    try:
        assert store.get_order("10234").customer_id == "C1001"
        assert store.customer_for_key("web-1").id == "C1001"
        assert store.latest_open_case("web-1").order_number == "10234"
        assert store.account_events("C1001") == ["frozen"]
        handoff = queue.open_for_conversation("conv-1")
        assert handoff is not None and handoff.summary == {"issue": "late order"}
        assert [m.text for m in queue.messages(handoff.id)] == ["hello?", "checking UPS"]
        assert accounts.authenticate("dana", "correct horse").role == "lead"
        # New rows continue the numbering of the old ones.
        assert queue.add_message(handoff.id, "agent", "on it", author="dana").id == 3
    finally:
        store.close()
        queue.close()
        accounts.close()
    assert version_rows(engine) == [head_revision()]


def test_installation_with_only_the_sample_store_gets_the_other_tables(engine) -> None:
    """`make setup` made only the store's tables; the queue's came on the first run."""
    create_like_before_migrations(engine, [store_schema.metadata])
    fill(engine, frozenset(store_schema.metadata.tables))
    before = snapshot(engine)

    assert set(before) == set(store_schema.metadata.tables) & BASELINE_TABLES

    assert upgrade(engine).adopted

    after = snapshot(engine)
    assert {name: rows for name, rows in after.items() if name in before} == before
    assert after.keys() == OURS and not any(after[name] for name in OURS - before.keys())
    assert set(sa.inspect(engine).get_table_names()) == OURS | {"alembic_version"}
    assert differences(engine) == []


# --- (c) upgrading twice is a no-op -----------------------------------------------------
def test_upgrading_twice_changes_nothing(engine) -> None:
    upgrade(engine)
    fill(engine)
    before = snapshot(engine)
    again = upgrade(engine)
    assert not again.changed and str(again) == f"Database schema at revision {head_revision()}"
    assert snapshot(engine) == before
    assert version_rows(engine) == [head_revision()]


# --- (e) processes and threads starting together -------------------------------------------
def test_two_threads_upgrading_a_fresh_database_both_succeed(url) -> None:
    barrier = threading.Barrier(2)
    results: list[SchemaUpgrade] = []
    errors: list[BaseException] = []

    def run() -> None:
        engine = create_engine(url)
        try:
            barrier.wait(timeout=30)
            results.append(upgrade(engine))
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(r.changed for r in results) == [False, True]
    engine = create_engine(url)
    assert version_rows(engine) == [head_revision()]
    engine.dispose()


def _upgrade_in_a_process(url: str, barrier: Any, out: Any) -> None:
    try:
        engine = create_engine(url)
        barrier.wait(timeout=60)
        out.put(("ok", upgrade(engine).changed))
        engine.dispose()
    except BaseException as e:  # reported to the test
        out.put(("error", repr(e)))


def test_two_processes_upgrading_a_fresh_database_both_succeed(url) -> None:
    """The action server and the web front start together: the database lock decides."""
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_upgrade_in_a_process, args=(url, barrier, out)) for _ in range(2)
    ]
    for p in processes:
        p.start()
    results = [out.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    assert sorted(results) == [("ok", False), ("ok", True)]
    engine = create_engine(url)
    assert version_rows(engine) == [head_revision()]
    assert differences(engine) == []
    engine.dispose()


# --- errors and the command line ----------------------------------------------------------
def test_a_revision_newer_than_the_code_is_a_clear_error(engine) -> None:
    upgrade(engine)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match=r"revision '9999'.*newer version") as raised:
        upgrade(engine)
    assert "backup" in str(raised.value)
    assert version_rows(engine) == ["9999"]


def test_the_queue_and_the_store_upgrade_the_database_when_they_open(url, engine) -> None:
    queue = HandoffQueue(url)
    try:
        assert queue.open_for_conversation("nobody") is None
    finally:
        queue.close()
    assert version_rows(engine) == [head_revision()]
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE alembic_version"))
    store = SupportStore(url, today=TODAY)
    try:
        assert store.get_order("10234") is None
    finally:
        store.close()
    assert version_rows(engine) == [head_revision()]


def test_store_reset_keeps_the_schema_and_the_queue(url, engine) -> None:
    store, queue = SupportStore(url, today=TODAY), HandoffQueue(url)
    try:
        store.seed(load_seed())
        store.open_case("web-1", "late_delivery", "late", "10234")
        fill(engine, frozenset({"handoffs", "handoff_messages"}))
        store.seed(load_seed(), reset=True)
        assert store.cases_for_customer("web-1") == []
        assert store.get_order("10234") is not None
        assert store.open_case("web-2", "late_delivery", "late", "10234").id == 1  # ids restart
        assert [m.text for m in queue.messages(1)] == ["hello?", "checking UPS"]
    finally:
        store.close()
        queue.close()
    assert version_rows(engine) == [head_revision()]


def test_command_line_upgrades_and_reports(url, capsys) -> None:
    assert migrations_cli(["--url", url, "current"]) == 0
    assert f"revision none (newest: {head_revision()})" in capsys.readouterr().out
    assert migrations_cli(["--url", url, "upgrade"]) == 0
    assert f"upgraded from revision none to {head_revision()}" in capsys.readouterr().out
    assert migrations_cli(["--url", url, "current"]) == 0
    assert f"revision {head_revision()} (newest" in capsys.readouterr().out


def test_a_failed_upgrade_changes_nothing(engine) -> None:
    """The whole upgrade is one transaction: a failure halfway leaves no table behind."""
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE customers (id VARCHAR(16) PRIMARY KEY)"))
        # An index of that name makes revision 0001 fail after creating most tables.
        c.execute(sa.text("CREATE INDEX ix_handoffs_status ON customers (id)"))
    with pytest.raises(SchemaError, match="Nothing was changed"):
        upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) == {"customers"}
