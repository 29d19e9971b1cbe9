"""`python -m insights.report`: the service's numbers for a date range, from the facts.

    python -m insights.report --since 2026-12-01 [--until 2026-12-31] [--format json|table]
                              [--channel socketio] [--queue orders_shipping]

Reads the configured stores (DATA_DIR, STORE_URL; `.env` as the assistant does). Events
the embedded broker holds are applied first, so the numbers include the latest turns.
The metrics' definitions are in `insights.metrics`. Exit status 2 on a bad argument.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any

from insights.consumer import OutboxConsumer
from insights.facts import FactsStore
from insights.metrics import FilterError, Filters, summary

REQUIRED = (
    "conversations",
    "escalated",
    "contained",
    "containment_rate",
    "escalation_rate",
    "csat_responses",
    "csat",
    "csat_response_rate",
    "fcr_rate",
    "median_seconds_to_claim",
)


def report(store: FactsStore, filters: Filters, now: float | None = None) -> dict[str, Any]:
    OutboxConsumer(store).drain()
    with store.db.begin() as c:
        return summary(c, filters, time.time() if now is None else now)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-01") from None


def _show(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and 0 <= value <= 1:
        return f"{value:.1%}"
    return str(value)


def table(numbers: dict[str, Any]) -> str:
    lines = [f"Conversations {numbers['since']} to {numbers['until']}"]
    for key, value in numbers.items():
        if key in ("since", "until") or isinstance(value, dict):
            continue
        lines.append(f"  {key:26} {_show(value)}")
    for priority, claims in (numbers.get("time_to_claim_by_priority") or {}).items():
        lines.append(
            f"  claim {priority:20} median {_show(claims['median_seconds'])} s, p90 "
            f"{_show(claims['p90_seconds'])} s, target {_show(claims['target_seconds'])} s, "
            f"within {_show(claims['within_target_rate'])}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insights.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--since", type=_day, required=True, help="first day (UTC), YYYY-MM-DD")
    parser.add_argument("--until", type=_day, help="last day, included (default: today)")
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--channel", help="only this channel (socketio, rest, …)")
    parser.add_argument("--queue", help="only this queue")
    args = parser.parse_args(argv)
    until = args.until or datetime.now(timezone.utc).date()
    try:
        filters = Filters.days(args.since, until, args.channel, args.queue)
    except FilterError as e:
        parser.error(str(e))
    from core.settings import Settings

    settings = Settings.load()
    store = FactsStore(settings.store_url, settings.identity_secret.encode())
    try:
        numbers = report(store, filters)
    finally:
        store.close()
    print(json.dumps(numbers, indent=2) if args.format == "json" else table(numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
