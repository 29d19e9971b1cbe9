"""The report's numbers on known conversations, its command line, and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from datetime import date
from pathlib import Path

import pytest

from insights.consumer import RabbitConsumer
from insights.facts import FactsStore
from insights.metrics import FilterError, Filters, escalation_reasons, frustration_by_day, summary
from insights.report import REQUIRED, main
from tests.conftest import run_async
from tests.insights.test_facts import KEY, T0, bot, escalate, session, slot, user

LATER = T0 + 10 * 86_400  # every conversation below has ended by then (idle)


def seed(store: FactsStore) -> None:
    """Four conversations: two contained (one a failed help-center answer), two
    escalated (one resolved by Cara after 60 s, rated 5; one never claimed)."""
    store.apply([*session("a", T0), user("a", T0 + 1, "where is my order", "order_status", 0.1)])
    store.apply(
        [
            *session("b", T0),
            user("b", T0 + 1, "vouchers?", "ask_faq", 0.3),
            slot("b", T0 + 2, "kb_outcome", "miss"),
        ]
    )
    store.apply(
        [
            *session("c", T0),
            user("c", T0 + 1, "third time I ask!!", "delivery_problem", 0.93),
            *escalate("c", T0 + 1),
            slot("c", T0 + 61, "handoff_status", "claimed"),
            slot("c", T0 + 200, "handoff_status", "resolved"),
            bot("c", T0 + 200, "Rate us", {"buttons": [{"payload": "/rate_service"}]}),
            slot("c", T0 + 210, "csat_score", 5),
        ]
    )
    store.apply(
        [
            *session("d", T0),
            user("d", T0 + 1, "a person please", "request_human", 0.5, channel="rest"),
            *escalate("d", T0 + 1, queue="billing"),
        ]
    )


@pytest.fixture
def store(tmp_path: Path):
    facts = FactsStore(f"sqlite:///{tmp_path / 'store.db'}", KEY)
    seed(facts)
    yield facts
    facts.close()


def day_of(t: float) -> date:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, timezone.utc).date()


def test_the_numbers_follow_their_definitions(store: FactsStore) -> None:
    with store.db.begin() as c:
        n = summary(c, Filters.days(day_of(T0), day_of(T0)), LATER)
        reasons = escalation_reasons(c, Filters.days(day_of(T0), day_of(T0)))
        by_day = frustration_by_day(c, Filters.days(day_of(T0), day_of(T0)))
    assert set(REQUIRED) <= set(n)
    assert (n["conversations"], n["escalated"], n["contained"]) == (4, 2, 2)
    assert (n["containment_rate"], n["escalation_rate"]) == (0.5, 0.5)
    assert (n["resolved_by_bot"], n["resolved_by_person"], n["abandoned"]) == (1, 1, 2)
    assert n["fcr_rate"] == 1.0
    assert (n["csat_asked"], n["csat_responses"], n["csat"], n["csat_response_rate"]) == (
        1,
        1,
        1.0,
        1.0,
    )
    assert n["median_seconds_to_claim"] == 60.0
    assert n["time_to_claim_by_priority"]["high"]["within_target_rate"] == 1.0
    assert n["median_handling_seconds"] == 139.0
    assert n["frustration_peak_rate"] == 0.25
    assert {"reason": "frustration", "conversations": 2} in reasons
    assert by_day == [
        {"day": day_of(T0).isoformat(), "conversations": 4, "frustration_peak_rate": 0.25}
    ]


def test_filters_narrow_the_numbers(store: FactsStore) -> None:
    with store.db.begin() as c:
        rest = summary(c, Filters.days(day_of(T0), day_of(T0), channel="rest"), LATER)
        billing = summary(c, Filters.days(day_of(T0), day_of(T0), queue="billing"), LATER)
        empty = summary(c, Filters.days(date(2020, 1, 1), date(2020, 1, 2)), LATER)
    assert (rest["conversations"], billing["conversations"]) == (1, 1)
    assert empty["conversations"] == 0 and empty["containment_rate"] is None
    with pytest.raises(FilterError, match="ends"):
        Filters.days(date(2026, 2, 1), date(2026, 1, 1))


def test_an_open_conversation_has_no_outcome_yet(store: FactsStore) -> None:
    with store.db.begin() as c:
        n = summary(c, Filters.days(day_of(T0), day_of(T0)), T0 + 300)
    # c was resolved (closed); the others are less than an hour old.
    assert n["ended"] == 1 and n["resolved_by_person"] == 1 and n["abandoned"] == 0


def test_the_command_prints_json_from_the_configured_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("STORE_URL", raising=False)
    from core.settings import Settings

    settings = Settings.load(dotenv=tmp_path / "none.env")
    facts = FactsStore(settings.store_url, settings.identity_secret.encode())
    seed(facts)
    facts.close()
    since = day_of(T0).isoformat()
    assert main(["--since", since, "--until", since, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["conversations"] == 4 and out["escalated"] == 2
    assert main(["--since", since, "--until", since]) == 0
    assert "containment_rate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["--since", "yesterday"])
    assert exit_.value.code == 2


RABBIT = os.environ.get("RABBITMQ_URL_TEST", "amqp://guest:guest@127.0.0.1:5672/%2F")


def test_events_from_rabbitmq_reach_the_facts(tmp_path: Path) -> None:
    import aio_pika

    queue_name = f"insights-test-{os.getpid()}"
    events = [*session("r1", T0), user("r1", T0 + 1, "help", "request_human", 0.9)]

    async def publish() -> None:
        connection = await aio_pika.connect_robust(RABBIT, timeout=5)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(queue_name, durable=True)
            for body in [*(json.dumps(e) for e in events), "not json"]:
                await channel.default_exchange.publish(
                    aio_pika.Message(body.encode()), routing_key=queue_name
                )

    async def remaining() -> int:
        connection = await aio_pika.connect_robust(RABBIT, timeout=5)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_name, durable=True)
            count = queue.declaration_result.message_count
            await queue.delete(if_unused=False, if_empty=False)
            return int(count)

    try:
        run_async(publish())
    except (OSError, aio_pika.exceptions.AMQPError, asyncio.TimeoutError) as e:
        if os.environ.get("RABBITMQ_URL_TEST"):
            pytest.fail(f"RABBITMQ_URL_TEST is set but RabbitMQ does not answer ({e})")
        pytest.skip(f"no RabbitMQ at {RABBIT} ({e}); start one or set RABBITMQ_URL_TEST")
    facts = FactsStore(f"sqlite:///{tmp_path / 'store.db'}", KEY)
    try:
        consumer = RabbitConsumer(facts, RABBIT, queue_name)
        # In a thread of its own (`run` is asyncio.run, and a browser test may have left a
        # loop running in this one).
        applied = run_async(consumer.consume(threading.Event(), idle_seconds=1.0))
        assert applied == len(events)
        assert facts.for_sender("r1")[0].turns == 1
    finally:
        facts.close()
        left = run_async(remaining())
    assert left == 0  # every message, the bad one too, was acknowledged


@pytest.mark.postgres
def test_days_are_utc_days_on_postgresql_too() -> None:
    import uuid

    import sqlalchemy as sa

    from insights.metrics import frustration_by_day
    from tests.conftest import postgres_admin_url

    admin = sa.engine.make_url(postgres_admin_url())  # skips when there is no server
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"bb_days_{uuid.uuid4().hex[:8]}"
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = FactsStore(admin.set(database=name).render_as_string(hide_password=False), KEY)
    try:
        evening = T0 - T0 % 86_400 + 23 * 3600  # 23:00 UTC: rounding would say tomorrow
        store.apply([*session("late", evening), user("late", evening + 1, "hi", "greet")])
        with store.db.begin() as c:
            (row,) = frustration_by_day(c, Filters(evening - 86_400, evening + 86_400))
        assert row["day"] == day_of(evening).isoformat()
    finally:
        store.close()
        with engine.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
