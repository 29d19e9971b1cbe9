"""Synthetic conversations (`insights.seed`) agree with the facts' rules, and the
benchmark (`insights.bench`) runs end to end."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.constants import (
    HANDOFF_RESOLVED,
    OUTCOME_ABANDONED,
    OUTCOME_BOT,
    OUTCOME_PERSON,
    REPEAT_CONTACT_SECONDS,
)
from core.database import Database
from insights import bench, seed
from insights.facts import ConversationFacts, FactsStore
from insights.gaps import knowledge_gaps
from insights.metrics import Filters
from insights.schema import facts, lead_annotations, metadata

NOW = 1_764_000_000.0  # 2025-11-24
DAYS = 30
N = 1_000


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('seed') / 'store.db'}", metadata)
    assert seed.seed_conversations(database, N, days=DAYS, seed=3, now=NOW) == N
    yield database
    database.close()


@pytest.fixture(scope="module")
def rows(db: Database) -> list[ConversationFacts]:
    with db.begin() as c:
        return [ConversationFacts.from_row(r) for r in c.execute(sa.select(facts)).mappings()]


def test_every_row_is_a_seeded_conversation_in_the_range(rows: list[ConversationFacts]) -> None:
    assert len(rows) == N
    assert len({r.sender_id for r in rows}) == N
    for r in rows:
        assert r.sender_id.startswith(seed.PREFIX) and r.session == 1
        assert NOW - DAYS * 86_400 <= r.started_at <= r.last_event_at <= NOW
        assert 1 <= r.turns <= seed.MAX_TURNS
        assert r.customer is None or re.fullmatch(r"[0-9a-f]{32}", r.customer)
        assert r.first_intent in seed.REQUESTS
        assert sum(r.intents.values()) == r.turns


def test_emotions_agree_with_the_trajectory(rows: list[ConversationFacts]) -> None:
    for r in rows:
        assert 1 <= len(r.trajectory) <= r.turns
        assert [p[0] for p in r.trajectory] == sorted(p[0] for p in r.trajectory)
        assert r.frustration_peak == max(p[1] for p in r.trajectory)
        assert r.urgency_peak == max(p[2] for p in r.trajectory)
        assert r.frustration_sum == pytest.approx(sum(p[1] for p in r.trajectory), abs=1e-3)
        assert all(0 <= v <= 1 for p in r.trajectory for v in p[1:])


def test_escalations_have_their_handoff(rows: list[ConversationFacts]) -> None:
    escalated = [r for r in rows if r.escalated]
    assert 0.12 <= len(escalated) / N <= 0.3
    for r in escalated:
        assert r.queue in seed.AGENTS and r.priority in seed.WAIT_TARGET_SECONDS
        assert r.wait_target_seconds == seed.WAIT_TARGET_SECONDS[r.priority]
        assert r.handoff_at is not None and r.handoff_status is not None
        assert r.escalation_reason and r.decisions[-1]["action"] == "escalate"
        assert r.decisions[-1]["queue"] == r.queue
        if r.claimed_at is not None:
            assert r.seconds_to_claim == pytest.approx(r.claimed_at - r.handoff_at, abs=1e-2)
            assert r.agent in seed.AGENTS[r.queue]
    for r in rows:
        if not r.escalated:
            assert (r.queue, r.priority, r.handoff_at, r.agent) == (None, None, None, None)
    over = [r for r in escalated if (r.seconds_to_claim or 0) > (r.wait_target_seconds or 0)]
    assert over, "some claims should miss their target"


def test_outcomes_follow_the_facts_rule(rows: list[ConversationFacts]) -> None:
    for r in rows:
        assert r.outcome == r._outcome()
        assert (r.outcome == OUTCOME_PERSON) == (r.handoff_status == HANDOFF_RESOLVED)
        if r.outcome == OUTCOME_PERSON:
            assert r.closed_at == r.handoff_closed_at and r.handling_seconds is not None
    assert {r.outcome for r in rows} == {OUTCOME_BOT, OUTCOME_PERSON, OUTCOME_ABANDONED}


def test_ratings_and_misses_are_plausible(rows: list[ConversationFacts]) -> None:
    asked = [r for r in rows if r.csat_asked]
    rated = [r for r in rows if r.csat is not None]
    assert all(r.csat in (1, 2, 3, 4, 5) and r.csat_asked for r in rated)
    assert all(r.csat is None for r in rows if not r.csat_asked)
    assert 0.2 <= len(rated) / len(asked) <= 0.4
    assert all(r.csat_comment is None or r.csat is not None for r in rows)
    person = [r.csat for r in rated if r.outcome == OUTCOME_PERSON]
    abandoned = [r.csat for r in rated if r.outcome == OUTCOME_ABANDONED]
    assert sum(person) / len(person) > sum(abandoned) / len(abandoned)
    for r in rows:
        assert (r.kb_missed > 0) == bool(r.missed_questions)
        assert all(q in r.customer_text for q in r.missed_questions)


def test_repeat_contacts_are_exactly_the_returns_within_7_days(
    rows: list[ConversationFacts],
) -> None:
    by_customer: dict[str, list[ConversationFacts]] = defaultdict(list)
    for r in rows:
        if r.customer:
            by_customer[r.customer].append(r)
    assert any(len(v) > 2 for v in by_customer.values())
    for r in rows:
        returned = any(
            later is not r
            and later.started_at >= r.started_at
            and later.started_at <= r.last_event_at + REPEAT_CONTACT_SECONDS
            for later in by_customer.get(r.customer or "", [])
        )
        assert r.repeat_contact == returned, r.sender_id
    assert 0.05 <= sum(r.repeat_contact for r in rows) / N <= 0.35


def test_the_misses_form_knowledge_gaps(db: Database) -> None:
    with db.begin() as c:
        gaps = knowledge_gaps(c, Filters(NOW - DAYS * 86_400, NOW + 1))
    assert gaps and gaps[0]["questions"] > 1
    assert any(len({q.lower().rstrip("?! ") for q in g["examples"]}) > 1 for g in gaps)


def test_the_same_seed_gives_the_same_conversations() -> None:
    first = [f.row() for f in seed.generate(150, days=10, seed=11, now=NOW)]
    again = [f.row() for f in seed.generate(150, days=10, seed=11, now=NOW)]
    other = [f.row() for f in seed.generate(150, days=10, seed=12, now=NOW)]
    assert first == again
    assert first != other
    assert all(json.loads(r["trajectory"]) for r in first)


def test_seeding_a_seed_twice_says_how_to_fix_it(db: Database) -> None:
    with pytest.raises(seed.SeedError, match="--reset"):
        seed.seed_conversations(db, 10, days=DAYS, seed=3, now=NOW)


def test_queues_priorities_and_targets_are_the_routing_layers() -> None:
    from routing.decision import RoutingConfig
    from routing.skills import QUEUES, SKILL_OF_INTENT

    assert seed.QUEUE_OF_INTENT == SKILL_OF_INTENT
    assert set(seed.AGENTS) == set(QUEUES)
    assert RoutingConfig().wait_target_seconds == seed.WAIT_TARGET_SECONDS


def test_reset_deletes_the_seeded_conversations_and_their_annotations_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert seed.main(["--conversations", "300", "--url", url, "--seed", "5"]) == 0
    assert "300/300" in capsys.readouterr().err
    real = FactsStore(url, b"key")
    real.apply([{"sender_id": "real", "event": "session_started", "timestamp": NOW}])
    with real.db.begin() as c:
        seeded_id = c.execute(sa.select(sa.func.min(facts.c.id))).scalar_one()
        c.execute(
            sa.insert(lead_annotations).values(
                conversation=seeded_id, kind="tag", detail="{}", author="lead", created_at=NOW
            )
        )
    assert seed.main(["--reset", "--url", url]) == 0
    assert "Deleted 300 seeded conversations" in capsys.readouterr().err
    with real.db.begin() as c:
        assert c.execute(sa.select(facts.c.sender_id)).scalars().all() == ["real"]
        assert c.execute(sa.select(sa.func.count()).select_from(lead_annotations)).scalar() == 0
    real.close()


def test_the_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--conversations", "2000", "--runs", "2", "--no-postgres"]) == 0
    out = capsys.readouterr().out
    for operation in ("SELECT 1", "dashboard, 90 days", "search, text", "search, page 41"):
        assert f"sqlite     {operation}" in out
    assert re.search(r"overall p95 [\d.]+ ms; slowest: .+ target 300 ms [✓✗]", out)
    assert "PostgreSQL skipped: --no-postgres." in out


def test_an_unreachable_postgres_is_skipped_with_the_reason() -> None:
    reason = bench.unreachable("postgresql://postgres@127.0.0.1:1/postgres")
    assert reason is not None
    assert reason.startswith("PostgreSQL skipped: no server at postgresql://postgres@127.0.0.1:1")
