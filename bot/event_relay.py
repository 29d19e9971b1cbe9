"""`EventRelay`: tracker events reach the event broker only after they are stored, and
none is lost when a process or the broker dies.

Rasa's SQL tracker store publishes to the broker before the database commits, and its
brokers keep what they could not publish in memory. Here the tracker store writes each
new event twice in one transaction: to Rasa's `events` table, and to `event_outbox`
with an id of its own (`event_id`, in the published JSON). The relay, a thread of each
Rasa server, hands the outbox rows in order to the broker's `deliver` (which returns
only once the broker has them: a committed row, a confirmed RabbitMQ publish) and then
deletes them. A broker that is down leaves the rows in the database, retried with a
growing pause; a process killed between delivery and deletion delivers them again at
its next start, and consumers skip an `event_id` they have applied (`insights.facts`).
On PostgreSQL one relay at a time works (a transaction advisory lock), so the events of
several Rasa servers reach the broker in the order they were stored.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import sqlalchemy as sa

logger = logging.getLogger(__name__)

BATCH = 500
IDLE_SECONDS = 1.0  # the relay looks at the outbox at least this often
MAX_BACKOFF = 5.0
ADVISORY_LOCK = 0x1A5B17  # PostgreSQL's lock key of the relays

metadata = sa.MetaData()
event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(32), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the event as published (JSON)
    sa.Column("created_at", sa.Float, nullable=False),
)

Deliver = Callable[[Sequence[str]], None]


def new_event_id() -> str:
    return uuid.uuid4().hex


class EventRelay:
    """Moves `event_outbox` rows to `deliver`, in order, from a daemon thread that starts
    on the first `nudge`. Cheap to construct."""

    def __init__(self, engine: sa.engine.Engine, deliver: Deliver, batch: int = BATCH) -> None:
        self.engine = engine
        self.deliver = deliver
        self.batch = batch
        self.delivered = 0
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def nudge(self) -> None:
        """New rows are committed: relay them soon (and start the thread if needed;
        not after `stop`)."""
        if self._stopped:
            return
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stop.clear()
                    self._thread = threading.Thread(
                        target=self._run, name="event-relay", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def relay_once(self) -> int:
        """Deliver and delete up to one batch; how many rows. Raises what `deliver`
        raises (the rows then stay)."""
        with self.engine.begin() as c:
            if c.dialect.name == "postgresql":
                got = c.execute(sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_LOCK)))
                if not got.scalar():
                    return 0  # another Rasa server relays now
            rows = c.execute(
                sa.select(event_outbox.c.id, event_outbox.c.body)
                .order_by(event_outbox.c.id)
                .limit(self.batch)
            ).all()
            if not rows:
                return 0
            self.deliver([r.body for r in rows])
            c.execute(sa.delete(event_outbox).where(event_outbox.c.id.in_([r.id for r in rows])))
        self.delivered += len(rows)
        return len(rows)

    def drain(self, timeout: float = 10.0) -> int:
        """Relay what is waiting now (at most `timeout` seconds); how many rows."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline and (taken := self.relay_once()):
            total += taken
        return total

    def pending(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(event_outbox)).scalar())

    def _run(self) -> None:
        pause = 0.1
        while not self._stop.is_set():
            self._wake.wait(IDLE_SECONDS)
            self._wake.clear()
            try:
                while self.relay_once() and not self._stop.is_set():
                    pass
                pause = 0.1
            except Exception as e:  # the broker or the database is down: the rows wait
                self.failures += 1
                logger.warning(
                    "Could not hand tracker events to the event broker (%s); they stay in "
                    "the outbox and are retried in %.1f s.",
                    e,
                    pause,
                )
                self._stop.wait(pause)
                pause = min(pause * 2, MAX_BACKOFF)

    def stop(self, timeout: float = 5.0) -> None:
        """Relay what is waiting (briefly), then stop the thread for good: later rows
        wait for `drain` (or the next process's relay)."""
        self._stopped = True
        try:
            self.drain(timeout)
        except Exception:
            logger.warning("Stopping with tracker events still in the outbox (sent at next start).")
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
