"""`Retention`: conversations are kept no longer than RETENTION_DAYS (default 90).

A conversation whose last event is older than that is erased from the tracker store.
What the CX leads measure stays, without a word anyone wrote: its conversation facts keep
their numbers (turns, scores, outcome, times, CSAT) and lose the customer's words, the
missed questions and the rating's comment; the lead annotations on it lose the quoted
text; a closed handoff keeps its times and loses its summary text, transcript and
messages. The event broker's queue and the one-time-code e-mails past the age go too.
On SQLite the files are then rewritten so no erased byte stays in a free page.

The web front runs it once a day (and a minute after it starts); `make retention` runs
it at once and prints what it erased:

    python -m bot.retention [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Iterable

import sqlalchemy as sa

from bot.customer_data import TRACKER_EVENTS, compact
from core.database import create_engine
from core.settings import Settings
from insights.schema import broker_events, consumed_events, facts, lead_annotations
from routing.handoff import SILENT_STATUSES
from routing.queue import handoffs, messages

logger = logging.getLogger(__name__)

DAY = 86_400.0
FIRST_RUN_SECONDS = 60.0
EVERY_SECONDS = DAY
CONSUMED_DAYS = 7


class Retention:
    """Erase what is older than the retention period. Cheap to construct."""

    def __init__(self, settings: Settings, days: int | None = None) -> None:
        self.settings = settings
        self.days = days or settings.retention_days

    def apply(self, now: float | None = None) -> dict[str, int]:
        cutoff = (time.time() if now is None else now) - self.days * DAY
        done: dict[str, int] = {}
        tracker = create_engine(self.settings.database_url)
        store = create_engine(self.settings.store_url)
        try:
            with tracker.begin() as connection:
                if TRACKER_EVENTS in sa.inspect(connection).get_table_names():
                    old = sa.text(
                        f"SELECT sender_id FROM {TRACKER_EVENTS} GROUP BY sender_id "
                        "HAVING MAX(timestamp) < :cutoff"
                    )
                    senders = [row[0] for row in connection.execute(old, {"cutoff": cutoff})]
                    done["conversations erased"] = len(senders)
                    done["tracker events erased"] = sum(
                        max(
                            connection.execute(
                                sa.text(f"DELETE FROM {TRACKER_EVENTS} WHERE sender_id = :s"),
                                {"s": sender},
                            ).rowcount,
                            0,
                        )
                        for sender in senders
                    )
            with store.begin() as connection:
                old_facts = sa.select(facts.c.id).where(facts.c.last_event_at < cutoff)
                done["conversation facts reduced to numbers"] = rowcount(
                    connection.execute(
                        facts.update()
                        .where(facts.c.last_event_at < cutoff)
                        .where(
                            sa.or_(
                                facts.c.customer_text != "",
                                facts.c.missed_questions != "[]",
                                facts.c.csat_comment.is_not(None),
                            )
                        )
                        .values(customer_text="", missed_questions="[]", csat_comment=None)
                    )
                )
                done["annotations without their text"] = rowcount(
                    connection.execute(
                        lead_annotations.update()
                        .where(lead_annotations.c.conversation.in_(old_facts))
                        .where(lead_annotations.c.text.is_not(None))
                        .values(text=None)
                    )
                )
                closed = sa.and_(
                    handoffs.c.status.not_in(SILENT_STATUSES),
                    sa.func.coalesce(handoffs.c.closed_at, handoffs.c.created_at) < cutoff,
                )
                done["handoff messages erased"] = rowcount(
                    connection.execute(
                        messages.delete().where(
                            messages.c.handoff_id.in_(sa.select(handoffs.c.id).where(closed))
                        )
                    )
                )
                done["handoffs without their text"] = rowcount(
                    connection.execute(
                        handoffs.update()
                        .where(closed)
                        .where(handoffs.c.transcript != "[]")
                        .values(summary="{}", summary_text="", transcript="[]")
                    )
                )
                done["queued broker events erased"] = rowcount(
                    connection.execute(
                        broker_events.delete().where(broker_events.c.created_at < cutoff)
                    )
                )
                # Ids of applied events: kept while a late second delivery is possible.
                week_ago = (time.time() if now is None else now) - CONSUMED_DAYS * DAY
                done["applied event ids forgotten"] = rowcount(
                    connection.execute(
                        consumed_events.delete().where(consumed_events.c.consumed_at < week_ago)
                    )
                )
            done["e-mails erased from the outbox"] = self._old_mail(cutoff)
            if any(done.values()):
                for engine in (tracker, store):
                    compact(engine)
        finally:
            tracker.dispose()
            store.dispose()
        return done

    def _old_mail(self, cutoff: float) -> int:
        outbox = self.settings.data_dir / "outbox"
        erased = 0
        for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                erased += 1
        return erased


def rowcount(result: object) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def run_daily(settings: Settings) -> None:
    """The web front's job: a minute after start, then once a day, until cancelled."""
    retention = Retention(settings)
    await asyncio.sleep(FIRST_RUN_SECONDS)
    while True:
        try:
            done = await asyncio.to_thread(retention.apply)
            logger.info(
                "retention (%d days): %s",
                retention.days,
                ", ".join(f"{what} {n}" for what, n in done.items() if n) or "nothing to erase",
            )
        except Exception:
            logger.exception("retention failed; it runs again in a day")
        await asyncio.sleep(EVERY_SECONDS)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.retention", description=__doc__)
    parser.add_argument("--days", type=int, help="the retention period (default RETENTION_DAYS)")
    options = parser.parse_args(list(argv) if argv is not None else None)
    if options.days is not None and options.days < 1:
        print("error: --days must be at least 1.", file=sys.stderr)
        return 2
    retention = Retention(Settings.load(), options.days)
    done = retention.apply()
    print(f"Erased what is older than {retention.days} days:")
    for what, n in done.items():
        print(f"  {what:<40} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
