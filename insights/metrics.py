"""What is measured on the conversation facts, for a date range and filters.

Definitions (the lead workspace shows each next to its number):

- **conversations**: conversations (Rasa sessions with at least one customer turn)
  started in the range.
- **escalated**: handed to a person (a handoff was opened). **contained**: the others,
  handled end to end with no person (Rasa Studio's containment).
- **containment_rate**, **escalation_rate**: their shares of the conversations.
- **ended**: closed (goodbye, a rating, an agent's resolve) or idle for an hour.
- **outcomes** of the ended ones: resolved by the bot, resolved by a person, abandoned
  (the bot's last answer failed, or the customer left before a person finished).
- **fcr_rate** (first-contact resolution): of the ended conversations resolved by the bot
  or a person, the share whose customer did not start another conversation within 7 days.
- **csat**: the share of 4s and 5s among the 1-5 ratings (Chatwoot's definition);
  **csat_responses**: the ratings; **csat_response_rate**: ratings per rating asked.
- **median_seconds_to_claim** (and by priority, with p90 and the target): from the
  handoff to an agent's claim.
- **handling time**: from the claim to the agent's resolve or hand-back.
- **frustration peak share**: conversations whose customer's frustration reached 0.8.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.constants import (
    CONVERSATION_IDLE_SECONDS,
    CSAT_SATISFIED,
    OUTCOME_ABANDONED,
    OUTCOME_BOT,
    OUTCOME_PERSON,
)
from insights.facts import reason_kind
from insights.schema import facts

FRUSTRATION_PEAK = 0.8
DAY = 86_400
TOP_INTENTS = 10


class FilterError(ValueError):
    """A filter a lead gave is not valid; the message says which and why."""


@dataclass(frozen=True)
class Filters:
    """A range of start times [since, until) in epoch seconds, and optional filters."""

    since: float
    until: float
    channel: str | None = None
    queue: str | None = None

    @classmethod
    def days(
        cls, first: date, last: date, channel: str | None = None, queue: str | None = None
    ) -> Filters:
        """From the first to the last day, both included (UTC)."""
        if last < first:
            raise FilterError(f"The range ends ({last}) before it starts ({first}).")
        if (last - first).days > 3660:
            raise FilterError("The range is longer than ten years; pick a shorter one.")
        start = datetime.combine(first, time(), tzinfo=timezone.utc).timestamp()
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=timezone.utc).timestamp()
        return cls(start, end, channel or None, queue or None)

    def where(self) -> list[Any]:
        clauses: list[Any] = [
            facts.c.started_at >= self.since,
            facts.c.started_at < self.until,
            facts.c.turns > 0,  # a session the customer never wrote in is no conversation
        ]
        if self.channel:
            clauses.append(facts.c.channel == self.channel)
        if self.queue:
            clauses.append(facts.c.queue == self.queue)
        return clauses


def ended(now: float) -> Any:
    return sa.or_(
        facts.c.closed_at.is_not(None), facts.c.last_event_at < now - CONVERSATION_IDLE_SECONDS
    )


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _quantile(values: Sequence[float], q: float, ordered: bool = False) -> float | None:
    """The `q` quantile as `statistics.quantiles(values, n=100, method="inclusive")` gives
    it, computing only that one cut point (`ordered`: `values` are sorted already)."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    data = values if ordered else sorted(values)
    i, m = int(q * 100), len(data) - 1
    j, delta = divmod(i * m, 100)
    return round((data[j] * (100 - delta) + data[j + 1] * delta) / 100, 1)


def summary(c: Connection, filters: Filters, now: float) -> dict[str, Any]:
    """The report's numbers (`python -m insights.report`'s JSON)."""
    where = filters.where()
    is_ended = ended(now)
    resolved = sa.and_(is_ended, facts.c.outcome.in_((OUTCOME_BOT, OUTCOME_PERSON)))

    def counting(condition: Any) -> Any:
        # count(*) FILTER (WHERE …): cheaper per row than sum(CASE …) on both databases.
        return sa.func.count().filter(condition)

    row = c.execute(
        sa.select(
            sa.func.count().label("conversations"),
            counting(facts.c.escalated).label("escalated"),
            counting(is_ended).label("ended"),
            *(
                counting(sa.and_(is_ended, facts.c.outcome == o)).label(o)
                for o in (OUTCOME_BOT, OUTCOME_PERSON, OUTCOME_ABANDONED)
            ),
            counting(sa.and_(resolved, sa.not_(facts.c.repeat_contact))).label("first_contact"),
            counting(facts.c.csat_asked).label("csat_asked"),  # a rating needs the question
            sa.func.count(facts.c.csat).label("csat_responses"),
            counting(facts.c.csat >= CSAT_SATISFIED).label("csat_satisfied"),
            counting(facts.c.frustration_peak >= FRUSTRATION_PEAK).label("frustration_peaks"),
        ).where(*where)
    ).one()
    resolved_count = int(getattr(row, OUTCOME_BOT)) + int(getattr(row, OUTCOME_PERSON))
    n, escalated = int(row.conversations), int(row.escalated)
    # Claim and handling times in one pass over the handed-over conversations, grouped
    # by priority here: the quantiles need the values, and Python sorts them once.
    handoffs = c.execute(
        sa.select(
            facts.c.priority,
            facts.c.seconds_to_claim,
            facts.c.wait_target_seconds,
            facts.c.handling_seconds,
        ).where(
            *where,
            sa.or_(facts.c.seconds_to_claim.is_not(None), facts.c.handling_seconds.is_not(None)),
        )
    ).all()
    claims: dict[str, list[float]] = {}
    targets: dict[str, list[int]] = {}
    handling: list[float] = []
    for priority, claim, target, handled in handoffs:
        if claim is not None:
            claims.setdefault(priority or "normal", []).append(float(claim))
            if target:
                targets.setdefault(priority or "normal", []).append(target)
        if handled is not None:
            handling.append(float(handled))
    all_claims = sorted(v for values in claims.values() for v in values)
    by_priority: dict[str, dict[str, Any]] = {}
    for priority in sorted(claims):
        values = sorted(claims[priority])
        target = statistics.median(targets[priority]) if targets.get(priority) else None
        by_priority[priority] = {
            "claims": len(values),
            "median_seconds": _quantile(values, 0.5, ordered=True),
            "p90_seconds": _quantile(values, 0.9, ordered=True),
            "target_seconds": target,
            "within_target_rate": _rate(sum(v <= target for v in values), len(values))
            if target
            else None,
        }
    return {
        "since": datetime.fromtimestamp(filters.since, timezone.utc).date().isoformat(),
        "until": (datetime.fromtimestamp(filters.until, timezone.utc) - timedelta(days=1))
        .date()
        .isoformat(),
        "channel": filters.channel,
        "queue": filters.queue,
        "conversations": n,
        "escalated": escalated,
        "contained": n - escalated,
        "containment_rate": _rate(n - escalated, n),
        "escalation_rate": _rate(escalated, n),
        "ended": int(row.ended),
        "resolved_by_bot": int(getattr(row, OUTCOME_BOT)),
        "resolved_by_person": int(getattr(row, OUTCOME_PERSON)),
        "abandoned": int(getattr(row, OUTCOME_ABANDONED)),
        "fcr_rate": _rate(int(row.first_contact), resolved_count),
        "csat_asked": int(row.csat_asked),
        "csat_responses": int(row.csat_responses),
        "csat": _rate(int(row.csat_satisfied), int(row.csat_responses)),
        "csat_response_rate": _rate(int(row.csat_responses), int(row.csat_asked)),
        "median_seconds_to_claim": _quantile(all_claims, 0.5, ordered=True),
        "p90_seconds_to_claim": _quantile(all_claims, 0.9, ordered=True),
        "time_to_claim_by_priority": by_priority,
        "median_handling_seconds": _quantile(handling, 0.5),
        "frustration_peak_rate": _rate(int(row.frustration_peaks), n),
    }


def escalation_reasons(c: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Why conversations were escalated: each reason's kind, counted once per conversation."""
    # Counted per distinct reason text in SQL (many conversations share one), then
    # each text's kinds once per conversation.
    counts: Counter[str] = Counter()
    rows = c.execute(
        sa.select(facts.c.escalation_reason, sa.func.count())
        # "IS NOT false" (the column is never null): SQLite then reads the range from the
        # covering report index rather than every escalated row from the table.
        .where(*filters.where(), facts.c.escalated.is_not(False))
        .group_by(facts.c.escalation_reason)
    )
    for reason, conversations in rows:
        for kind in _reason_kinds(reason or "escalated"):
            counts[kind] += int(conversations)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # ties: by name
    return [{"reason": k, "conversations": v} for k, v in ranked]


@lru_cache(maxsize=4096)
def _reason_kinds(reason: str) -> frozenset[str]:
    return frozenset(reason_kind(r) for r in reason.split(";") if r.strip())


def top_intents(c: Connection, filters: Filters, limit: int = TOP_INTENTS) -> list[dict[str, Any]]:
    count = sa.func.count().label("n")
    rows = c.execute(
        sa.select(facts.c.first_intent, count)
        .where(*filters.where(), facts.c.first_intent.is_not(None))
        .group_by(facts.c.first_intent)
        .order_by(count.desc(), facts.c.first_intent)
        .limit(limit)
    )
    return [{"intent": r.first_intent, "conversations": int(r.n)} for r in rows]


def frustration_by_day(c: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Per day: conversations, and the share with a frustration peak of 0.8 or more."""
    # Whole seconds divided by whole seconds: integer division on SQLite and PostgreSQL
    # alike (a float cast to an integer rounds on PostgreSQL, and truncates on SQLite).
    day = (sa.cast(facts.c.started_at, sa.Integer) / DAY).label("day")
    peaks = sa.func.count().filter(facts.c.frustration_peak >= FRUSTRATION_PEAK)
    rows = c.execute(
        sa.select(day, sa.func.count().label("n"), peaks.label("peaks"))
        .where(*filters.where())
        .group_by(day)
        .order_by(day)
    )
    return [
        {
            "day": datetime.fromtimestamp(int(r.day) * DAY, timezone.utc).date().isoformat(),
            "conversations": int(r.n),
            "frustration_peak_rate": _rate(int(r.peaks or 0), int(r.n)),
        }
        for r in rows
    ]
