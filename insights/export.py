"""Exports: one row per conversation, as CSV or JSON lines.

    python -m insights.export --since 2026-12-01 [--until …] [--format csv|jsonl] [--out FILE]

The console's lead workspace offers the same files (`/api/insights/export`). Columns:
`COLUMNS`; lists (intents, decisions, trajectory, missed questions) are JSON in a CSV.
A CSV cell that would start a spreadsheet formula starts with an apostrophe instead.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.facts import ConversationFacts
from insights.metrics import FilterError, Filters
from insights.schema import facts

COLUMNS = (
    "id",
    "sender_id",
    "session",
    "channel",
    "customer",
    "started",
    "last_event",
    "closed",
    "turns",
    "first_intent",
    "intents",
    "kb_answered",
    "kb_missed",
    "missed_questions",
    "frustration_peak",
    "frustration_mean",
    "urgency_peak",
    "distress_max",
    "escalated",
    "escalation_reason",
    "queue",
    "priority",
    "wait_target_seconds",
    "seconds_to_claim",
    "agent",
    "seconds_to_first_reply",
    "handling_seconds",
    "handoff_status",
    "outcome",
    "repeat_contact",
    "csat",
    "csat_comment",
    "decisions",
    "trajectory",
)
BATCH = 2_000


def _time(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, timezone.utc).isoformat() if t else None


def record(f: ConversationFacts) -> dict[str, Any]:
    return {
        "id": f.id,
        "sender_id": f.sender_id,
        "session": f.session,
        "channel": f.channel,
        "customer": f.customer,
        "started": _time(f.started_at),
        "last_event": _time(f.last_event_at),
        "closed": _time(f.closed_at),
        "turns": f.turns,
        "first_intent": f.first_intent,
        "intents": f.intents,
        "kb_answered": f.kb_answered,
        "kb_missed": f.kb_missed,
        "missed_questions": f.missed_questions,
        "frustration_peak": f.frustration_peak,
        "frustration_mean": round(f.frustration_mean, 4),
        "urgency_peak": f.urgency_peak,
        "distress_max": f.distress_max,
        "escalated": f.escalated,
        "escalation_reason": f.escalation_reason,
        "queue": f.queue,
        "priority": f.priority,
        "wait_target_seconds": f.wait_target_seconds,
        "seconds_to_claim": f.seconds_to_claim,
        "agent": f.agent,
        "seconds_to_first_reply": f.seconds_to_first_reply,
        "handling_seconds": f.handling_seconds,
        "handoff_status": f.handoff_status,
        "outcome": f.outcome,
        "repeat_contact": f.repeat_contact,
        "csat": f.csat,
        "csat_comment": f.csat_comment,
        "decisions": f.decisions,
        "trajectory": f.trajectory,
    }


def records(c: Connection, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every conversation in the range, oldest first, read in batches (keyset)."""
    last = (float("-inf"), -1)
    while True:
        rows = (
            c.execute(
                sa.select(facts)
                .where(
                    *filters.where(),
                    sa.or_(
                        facts.c.started_at > last[0],
                        sa.and_(facts.c.started_at == last[0], facts.c.id > last[1]),
                    ),
                )
                .order_by(facts.c.started_at, facts.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield record(ConversationFacts.from_row(row))
        last = (rows[-1]["started_at"], rows[-1]["id"])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text that starts like a formula (a
    customer can type "=HYPERLINK(…)") gets a leading apostrophe (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS)
    writer.writeheader()
    for item in items:
        writer.writerow(
            {k: cell(json.dumps(v) if isinstance(v, list | dict) else v) for k, v in item.items()}
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_lines(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    from datetime import date

    from core.settings import Settings
    from insights.facts import FactsStore

    parser = argparse.ArgumentParser(
        prog="python -m insights.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--since", type=date.fromisoformat, required=True)
    parser.add_argument("--until", type=date.fromisoformat)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        filters = Filters.days(args.since, args.until or datetime.now(timezone.utc).date())
    except FilterError as e:
        parser.error(str(e))
    settings = Settings.load()
    store = FactsStore(settings.store_url, settings.identity_secret.encode())
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        with store.db.begin() as c:
            lines = csv_lines if args.format == "csv" else jsonl_lines
            for chunk in lines(records(c, filters)):
                out.write(chunk)
    finally:
        if out is not sys.stdout:
            out.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
