"""The production configuration: tracker store and sample store on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import RestChat, postgres_admin_url, stack_settings, start_stack

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    admin = sa.engine.make_url(postgres_admin_url())  # skips when there is no server
    engine = sa.create_engine(
        admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    suffix = uuid.uuid4().hex[:8]
    names = [f"bb_tracker_{suffix}", f"bb_store_{suffix}"]
    settings = stack_settings(
        tmp_path_factory.mktemp("pg"),
        # The tracker store's database is created by the tracker store on first start.
        DATABASE_URL=admin.set(database=names[0]).render_as_string(hide_password=False),
        STORE_URL=admin.set(database=names[1]).render_as_string(hide_password=False),
    )
    running = start_stack(settings)
    yield running
    running.stop()
    with engine.connect() as c:
        for name in names:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_events_are_stored_in_postgresql(pg_stack) -> None:
    chat = RestChat(pg_stack.settings, f"pg-{uuid.uuid4().hex[:8]}", {})
    chat.say("hello")
    engine = sa.create_engine(pg_stack.settings.database_url)
    with engine.connect() as c:
        count = c.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": chat.sender}
        ).scalar()
    engine.dispose()
    assert count >= 4  # session start, slots, user message, bot message


def test_returning_customer_and_restart_with_postgresql(pg_stack) -> None:
    ident = uuid.uuid4().hex[:8]
    first = RestChat(pg_stack.settings, f"a-{ident}")  # anonymous: verified by e-mail
    first.say("my package never arrived")
    first.say("10415")
    assert "missing-package claim" in first.say("tom.becker@example.com")
    # The return form reuses the order in context and waits for the reason...
    # A return changes the account: the e-mail he typed is not enough, a code is asked.
    assert "6-digit code" in first.say("I'd like to return an item from that order")
    assert "reason" in first.say_code()

    pg_stack.stop()
    pg_stack.start()

    # ...and after every process restarted, the conversation goes on mid-form.
    assert "R-" in first.say("the tea towels are the wrong colour")
    # ...and the same customer, signed in by the website, is recognised from PostgreSQL.
    second = RestChat(pg_stack.settings, f"b-{ident}", signed_in_as="C1004")
    welcome = second.say("hi")
    assert "Welcome back, Tom" in welcome and "10415" in welcome


def test_the_lead_workspace_facts_are_kept_in_postgresql(pg_stack) -> None:
    import time

    from insights.facts import FactsStore

    chat = RestChat(pg_stack.settings, f"pg-{uuid.uuid4().hex[:8]}", {})
    chat.say("I want to talk to a human")
    store = FactsStore(pg_stack.settings.store_url, pg_stack.settings.identity_secret.encode())
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = store.for_sender(chat.sender)
            if found and found[-1].escalated:
                break
            time.sleep(0.2)
        (facts,) = store.for_sender(chat.sender)
    finally:
        store.close()
    assert facts.escalated and facts.turns == 1 and facts.channel == "rest"
