"""`UrlTrackerStore`: Rasa's SQL tracker store, configured by one database URL.

endpoints.yml names it as `type: bot.tracker_store.UrlTrackerStore`. The URL comes from
the endpoint's `url:` key, else the DATABASE_URL setting, else SQLite in DATA_DIR — so the
default run needs no database server, and production points DATABASE_URL at PostgreSQL:

    DATABASE_URL=postgresql://rasa:secret@db.internal:5432/rasa make run

A PostgreSQL database that does not exist yet is created on first start. Both get the
project's engine (`core.database.create_engine`) instead of Rasa's: for SQLite WAL,
`synchronous=NORMAL` and pooled connections (Rasa's opened a new connection and waited
for a disk flush on every save), for PostgreSQL a ping before a pooled connection is
reused, so the first turn after a database restart does not fail.

Rasa reloads a conversation from the database at the start of each turn (every event
parsed from JSON and replayed) and, to save, counts the events it stored before; both
run on Rasa's event loop, about a third of the Rasa server's CPU per turn under load.
This store keeps the tracker it saved last for each of the `RECENT_TRACKERS` most recent
conversations and hands it back at the next turn instead, when

- the database's newest event of the conversation is still the one this store wrote
  (no other process, Rasa worker or tool added one since),
- the tracker holds no event since it was saved (a turn that failed half-way leaves
  none behind).

After a turn that started a new session, what is kept is a tracker of that session's
events only, as a reload would give.

Personal data never reaches the database (`privacy.redact`): a user event's text and
parse data, a bot message's text and a rating's comment are stored with "[EMAIL]",
"[PHONE]", "[PERSON]", … in place of the values, and published so to the event broker.
The slots that hold one kind of personal data for a task (the e-mail to verify, the new
address, the customer's name: `PERSONAL_SLOTS`) are stored as that kind's placeholder.
The tracker of the turn in memory keeps the values; a tracker loaded from the database
instead (after a restart, say) gets those slots emptied, so a task in progress asks for
its value again rather than using "[ADDRESS]".

Events are inserted in one statement per save, and the number already stored is taken
from the load rather than counted again. In the same transaction each goes to the
outbox (`bot.event_relay`), from which the relay hands it to the event broker once it is
stored: nothing reaches the broker that the database does not have, and nothing the
database has is lost on the way (a broker whose class has no `deliver` is published to
after the commit, as Rasa does). tests/bot/test_tracker_store.py checks that a
kept tracker is, event for event and slot for slot, what the database would give.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

import privacy
from bot.event_relay import EventRelay, event_outbox, new_event_id
from core.constants import (
    PII_ADDRESS,
    PII_EMAIL,
    PII_PERSON,
    SLOT_CSAT_COMMENT,
    SLOT_CUSTOMER_NAME,
    SLOT_EMAIL,
    SLOT_NEW_ADDRESS,
)
from core.database import create_engine, normalize_database_url, prepare_database, redact
from core.settings import Settings
from privacy.events import redact_event
from privacy.redacted import placeholder

logger = logging.getLogger(__name__)

_latest: weakref.ReferenceType[UrlTrackerStore] | None = None
# Slots holding the customer's own words, stored redacted like the messages themselves.
FREE_TEXT_SLOTS = frozenset({SLOT_CSAT_COMMENT})
# Slots holding one kind of personal data while a task needs it: stored as its placeholder.
PERSONAL_SLOTS = {
    SLOT_EMAIL: PII_EMAIL,
    SLOT_NEW_ADDRESS: PII_ADDRESS,
    SLOT_CUSTOMER_NAME: PII_PERSON,
}
RECENT_TRACKERS = 512  # conversations whose last saved tracker is kept in memory
REPLIES_KEPT = 4096  # the bot's replies whose redaction is kept (most are its templates)
# Set on a tracker this store loaded or saved: how many of its events are stored.
STORED_ATTRIBUTE = "_brightbasket_stored_events"


@functools.lru_cache(maxsize=REPLIES_KEPT)
def redact_reply(text: str) -> privacy.Redacted:
    """`privacy.redact` of a bot message: the bot says the same few hundred texts again
    and again, so each is redacted once (the customer's messages are not kept)."""
    return privacy.redact(text)


def redact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as they are stored and published: without personal data."""
    return [
        redact_event(
            data,
            privacy.redact,
            FREE_TEXT_SLOTS,
            redact_reply=redact_reply,
            personal_slots=PERSONAL_SLOTS,
        )
        for data in events
    ]


def create_outbox(engine: Any) -> None:
    """The outbox table, unless there; two servers starting at once may race to create
    it, and the loser finds it made."""
    import sqlalchemy as sa

    try:
        event_outbox.create(engine, checkfirst=True)
    except sa.exc.SQLAlchemyError:
        if not sa.inspect(engine).has_table(event_outbox.name):
            raise


def kept_tracker(sender_id: str) -> DialogueStateTracker | None:
    """`UrlTrackerStore.kept` of this process's store (the one created last)."""
    store = _latest() if _latest is not None else None
    return store.kept(sender_id) if store is not None else None


class UrlTrackerStore(SQLTrackerStore):
    """SQL tracker store taking a single SQLAlchemy URL (SQLite or PostgreSQL)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        url = normalize_database_url(host or Settings.load().database_url)
        prepare_database(url)
        logger.info("Tracker store: %s", redact(url))
        # SQLTrackerStore uses `host` as the complete URL when it contains "://".
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        # The project's engine: for SQLite WAL and pooled connections, for PostgreSQL a
        # ping before a pooled connection is reused (after a database restart, the first
        # turn does not fail on a dead connection).
        import sqlalchemy as sa

        self.engine.dispose()  # type: ignore[has-type]
        self.engine = create_engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        create_outbox(self.engine)
        deliver = getattr(event_broker, "deliver", None)
        self.relay = EventRelay(self.engine, deliver) if callable(deliver) else None
        # sender → (tracker, its number of events when saved, id of the newest event)
        self._recent: OrderedDict[str, tuple[DialogueStateTracker, int, int]] = OrderedDict()
        self._recent_lock = threading.Lock()
        global _latest
        _latest = weakref.ref(self)

    def kept(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker saved last for `sender_id`, if kept, as it is: for reading ahead
        of a turn (the channels prepare the turn's context with it), never for a turn."""
        with self._recent_lock:
            kept = self._recent.get(sender_id)
        return kept[0] if kept is not None else None

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """A new model's domain (Rasa sets it when it loads one): kept trackers were
        built with the old one's slots, so they are dropped."""
        self._domain = domain or Domain.empty()
        lock = getattr(self, "_recent_lock", None)
        if lock is not None:
            with lock:
                self._recent.clear()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session: the tracker saved last when still current
        (see the module's docstring), else loaded from the database."""
        with self._recent_lock:
            kept = self._recent.pop(sender_id, None)
        if kept is not None:
            tracker, saved_events, newest_id = kept
            if (
                len(tracker.events) == saved_events
                and self._newest_event_id(sender_id) == newest_id
            ):
                return tracker
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, STORED_ATTRIBUTE, len(tracker.events))
            for slot, label in PERSONAL_SLOTS.items():
                if tracker.get_slot(slot) == placeholder(label):
                    tracker.update(SlotSet(slot, None))  # the value was never stored
        return tracker

    async def create_tracker(
        self, sender_id: str, append_action_listen: bool = True
    ) -> DialogueStateTracker:
        """A new conversation's tracker (as Rasa's), known to this store from the start
        when the database holds no event of it."""
        tracker = self.init_tracker(sender_id)
        if self._newest_event_id(sender_id) is None:
            setattr(tracker, STORED_ATTRIBUTE, 0)
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await self.save(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet (one INSERT), then keep the
        tracker for the conversation's next turn."""
        sender_id = tracker.sender_id
        stored = getattr(tracker, STORED_ATTRIBUTE, None)
        # Only a tracker this store loaded or saved is known to match the database up to
        # `stored` events; any other (a replaced tracker of the HTTP API, one built by a
        # tool) is saved Rasa's way and not kept.
        known = isinstance(stored, int) and stored <= len(tracker.events)
        if known:
            new_events = list(itertools.islice(tracker.events, stored, None))
            # Personal data never reaches the database (privacy.redact: a few ms of CPU
            # per text, off the event loop).
            redacted = await asyncio.to_thread(redact_events, [e.as_dict() for e in new_events])
        with self.session_scope() as session:
            if not known:
                new_events = list(self._additional_events(session, tracker))
                redacted = redact_events([e.as_dict() for e in new_events])
            rows = []
            published = []
            outbox = []
            now = time.time()
            for event, data in zip(new_events, redacted, strict=True):
                published.append(data)
                row_data = data
                if self.relay is not None:
                    event_id = new_event_id()
                    row_data = {**data, "event_id": event_id}  # the same id as published
                    body = {"sender_id": sender_id, "event_id": event_id, **data}
                    outbox.append(
                        {
                            "event_id": event_id,
                            "sender_id": sender_id,
                            "body": json.dumps(body, default=str),
                            "created_at": now,
                        }
                    )
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(row_data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            if outbox:
                session.execute(event_outbox.insert(), outbox)
            newest_id = self._newest_event_id(sender_id, session)
            session.commit()
        if self.relay is not None:
            if outbox:
                self.relay.nudge()
        elif self.event_broker is not None:
            # A broker without `deliver`: the events just stored, as Rasa streams them
            # (after the commit; without reading the tracker back).
            for data in published:
                self.event_broker.publish({"sender_id": sender_id, **data})
        with self._recent_lock:
            self._recent.pop(sender_id, None)
        if not known:
            return
        setattr(tracker, STORED_ATTRIBUTE, len(tracker.events))
        kept = self.as_reloaded(tracker)
        with self._recent_lock:
            if newest_id is not None:
                self._recent[sender_id] = (kept, len(kept.events), newest_id)
                while len(self._recent) > RECENT_TRACKERS:
                    self._recent.popitem(last=False)

    def _newest_event_id(self, sender_id: str, session: Any = None) -> int | None:
        import sqlalchemy as sa

        query = sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == sender_id)
        if session is not None:
            return session.execute(query).scalar()
        with self.session_scope() as own:
            return own.execute(query).scalar()

    def as_reloaded(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """The tracker as `retrieve` would load it from the database: the tracker itself,
        or, after a turn that started a new session, a tracker of the events from that
        session's start on (what Rasa's query keeps), replayed."""
        started = None
        for event in tracker.events:
            if isinstance(event, SessionStarted):
                started = event.timestamp
        if started is None or all(event.timestamp >= started for event in tracker.events):
            return tracker
        slots = self.domain.slots if self.domain else []
        kept = DialogueStateTracker.from_events(
            tracker.sender_id, [e for e in tracker.events if e.timestamp >= started], slots
        )
        setattr(kept, STORED_ATTRIBUTE, len(kept.events))
        return kept
