"""`PostgresBus`: the console's live updates across web fronts, over PostgreSQL's
LISTEN/NOTIFY.

Each web front keeps its console streams in memory (`bot.web.live.LiveFeed`); with
several fronts behind a load balancer, a change made through one (a claim, a reply, a
handoff the action server opened there) must reach the agents whose stream another front
serves. With the store on PostgreSQL, every front sends each change it publishes with
`pg_notify` on one channel and LISTENs there; a front delivers what the others sent to
its own streams (its own changes it delivered at once). A change too big for a
notification (PostgreSQL's limit is 8,000 bytes) reaches the others as `resync`, which
makes their consoles load the queue again; so does a lost connection, once it is back,
since notifications sent meanwhile are gone.

Both directions run on threads of their own with their own connections (psycopg2), so
the event loop never waits for the database.
"""

from __future__ import annotations

import json
import logging
import queue
import select
import threading
import uuid
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CHANNEL = "brightbasket_live"
MAX_NOTIFY_BYTES = 7_900  # PostgreSQL refuses payloads of 8,000 bytes and more
RESYNC = "resync"
RECONNECT_SECONDS = (0.5, 10.0)
_STOP = object()

Deliver = Callable[[str, str], None]  # (event, JSON payload)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq reads it (no "+driver")."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


class PostgresBus:
    """Sends this front's changes to the others and hands theirs to `deliver`. Cheap to
    construct; `start` opens the connections."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = libpq_url(url)
        self.channel = channel
        self.origin = uuid.uuid4().hex  # this front: its own notifications are skipped
        self.received = 0
        self._outgoing: queue.Queue[Any] = queue.Queue(maxsize=10_000)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, deliver: Deliver) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._listen, args=(deliver,), name="live-listen", daemon=True),
            threading.Thread(target=self._send_forever, name="live-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def send(self, event: str, payload: str) -> None:
        """Queue a change for the other fronts (never blocks; a full queue drops it and
        they resync at the next change that fits)."""
        message = json.dumps({"o": self.origin, "e": event, "p": payload}, separators=(",", ":"))
        if len(message.encode()) > MAX_NOTIFY_BYTES:
            message = json.dumps({"o": self.origin, "e": RESYNC, "p": "{}"}, separators=(",", ":"))
        try:
            self._outgoing.put_nowait(message)
        except queue.Full:
            logger.warning("live bus: the outgoing queue is full; a change was dropped")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._outgoing.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)

    # -- threads ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg2

        connection = psycopg2.connect(self.url, connect_timeout=5)
        connection.set_session(autocommit=True)
        return connection

    def _send_forever(self) -> None:
        connection = None
        pause = RECONNECT_SECONDS[0]
        item: Any = None
        while True:
            if item is None:
                item = self._outgoing.get()
            if item is _STOP:
                break
            try:
                if connection is None or connection.closed:
                    connection = self._connect()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_notify(%s, %s)", (self.channel, item))
                item, pause = None, RECONNECT_SECONDS[0]
            except Exception as e:  # the database is away: keep the change, try again
                logger.warning("live bus: could not notify the other fronts (%s)", e)
                connection = None
                if self._stop.wait(pause):
                    break
                pause = min(pause * 2, RECONNECT_SECONDS[1])
        if connection is not None:
            connection.close()

    def _listen(self, deliver: Deliver) -> None:
        pause = RECONNECT_SECONDS[0]
        first = True
        while not self._stop.is_set():
            try:
                connection = self._connect()
                with connection.cursor() as cursor:
                    cursor.execute(f'LISTEN "{self.channel}"')
                if not first:  # what was sent while we were away is gone: reload
                    deliver(RESYNC, "{}")
                first, pause = False, RECONNECT_SECONDS[0]
                while not self._stop.is_set():
                    if select.select([connection], [], [], 1.0) == ([], [], []):
                        continue
                    connection.poll()
                    while connection.notifies:
                        self._receive(connection.notifies.pop(0).payload, deliver)
                connection.close()
            except Exception as e:
                logger.warning("live bus: listening failed (%s); reconnecting", e)
                if self._stop.wait(pause):
                    break
                pause = min(pause * 2, RECONNECT_SECONDS[1])

    def _receive(self, raw: str, deliver: Deliver) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("o") == self.origin:
            return
        event, payload = message.get("e"), message.get("p")
        if isinstance(event, str) and isinstance(payload, str):
            self.received += 1
            deliver(event, payload)
