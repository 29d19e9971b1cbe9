"""`ChannelInbox`: the durable inbox of the messaging channels — acknowledge fast, answer
once, survive a restart.

A platform's webhook (Telegram, Slack, Twilio, Messenger) is answered as soon as its
verified messages are written here, in one transaction; the work happens after. Each
message is keyed by the platform's own id (Telegram's `update_id`, Slack's `event_id`,
Twilio's `MessageSid`, Messenger's `mid`): a redelivery hits the unique key and is
dropped, however often and however late the platform retries.

A worker in the Rasa server (`bot.channels.messaging`) takes the messages in order, one
conversation at a time: it *leases* the oldest pending message of a conversation whose
earlier messages are done (`lease_until`), so two servers never run the same one, and a
server that dies mid-turn leaves a lease that runs out and a message another server (or
itself, restarted) takes again. A message's text is kept only until it is answered.

The table lives in the store database (STORE_URL, else DATA_DIR/store.db), created by
migration 0004.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.database import Database

PENDING = "pending"
DONE = "done"  # answered (or its reply failed to send: see `error`)
FAILED = "failed"  # handling failed MAX_ATTEMPTS times; the customer was told
# A worker holds a message this long, renewing it while the turn runs; a worker that died
# leaves a lease that runs out, and the message is taken again within this time.
LEASE_SECONDS = 15.0
MAX_ATTEMPTS = 3
KEEP_DONE_SECONDS = 7 * 24 * 3600  # duplicates are recognised this long after the first
BATCH = 64

metadata = sa.MetaData()

inbox = sa.Table(
    "channel_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("payload", sa.Text),  # JSON of InboundMessage; NULL once answered
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("lease_until", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.String(500)),
    sa.UniqueConstraint("channel", "external_id", name="uq_channel_inbox_external"),
    sa.Index("ix_channel_inbox_pending", "status", "conversation_id", "id"),
)


@dataclass(frozen=True)
class InboundMessage:
    """One verified customer message, as a channel parsed it from a platform's request."""

    external_id: str  # the platform's id of it: the dedupe key
    conversation_id: str  # Rasa's sender id, e.g. "telegram-123456"
    text: str
    metadata: dict[str, Any]

    def payload(self) -> str:
        return json.dumps({"text": self.text, "metadata": self.metadata})


@dataclass(frozen=True)
class Leased:
    """A message this process now holds: handle it, then `finish` it."""

    id: int
    channel: str
    external_id: str
    conversation_id: str
    text: str
    metadata: dict[str, Any]
    attempts: int

    @property
    def message_id(self) -> str:
        """The id Rasa stores with the user event: channel and platform id."""
        return f"{self.channel}:{self.external_id}"


class ChannelInbox:
    """The inbox of one database. Cheap to construct; the database opens on first use."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, metadata)

    def accept(self, channel: str, messages: list[InboundMessage]) -> int:
        """Store the messages of one platform request, all or none; those already there
        (a redelivery) are skipped. Returns how many are new."""
        if not messages:
            return 0
        try:
            return self._accept(channel, messages)
        except sa.exc.IntegrityError:
            # The same delivery, stored by a concurrent request between our read and our
            # write: read again, and what is there now is skipped.
            return self._accept(channel, messages)

    def _accept(self, channel: str, messages: list[InboundMessage]) -> int:
        now = time.time()
        new = 0
        with self.db.begin() as connection:
            known = {
                row.external_id
                for row in connection.execute(
                    sa.select(inbox.c.external_id).where(
                        inbox.c.channel == channel,
                        inbox.c.external_id.in_([m.external_id for m in messages]),
                    )
                )
            }
            for message in messages:
                if message.external_id in known:
                    continue
                known.add(message.external_id)  # twice in one delivery: once
                connection.execute(
                    inbox.insert().values(
                        channel=channel,
                        external_id=message.external_id,
                        conversation_id=message.conversation_id,
                        payload=message.payload(),
                        status=PENDING,
                        attempts=0,
                        received_at=now,
                    )
                )
                new += 1
        return new

    def lease(
        self, channel: str, busy: set[str], now: float | None = None, limit: int = BATCH
    ) -> list[Leased]:
        """Take up to `limit` messages of `channel`: the oldest pending message of each
        conversation that has no earlier one pending, is not held by a live lease, and
        is not in `busy` (this process's conversations in flight). A message taken
        MAX_ATTEMPTS times without finishing (its worker died, or it kills workers) is
        given up instead."""
        now = time.time() if now is None else now
        earlier = inbox.alias("earlier")
        query = (
            sa.select(inbox)
            .where(
                inbox.c.channel == channel,
                inbox.c.status == PENDING,
                sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until <= now),
                ~sa.exists().where(
                    earlier.c.channel == inbox.c.channel,
                    earlier.c.conversation_id == inbox.c.conversation_id,
                    earlier.c.status == PENDING,
                    earlier.c.id < inbox.c.id,
                ),
            )
            .order_by(inbox.c.id)
            .limit(max(limit, 0))
        )
        if busy:
            query = query.where(inbox.c.conversation_id.not_in(sorted(busy)))
        if limit <= 0:
            return []
        with self.db.begin() as connection:
            rows = connection.execute(query).all()
        taken: list[Leased] = []
        for row in rows:
            if row.attempts >= MAX_ATTEMPTS:
                self._close(row.id, FAILED, f"given up after {row.attempts} attempts")
                continue
            with self.db.begin() as connection:
                won = connection.execute(
                    inbox.update()
                    .where(
                        inbox.c.id == row.id,
                        inbox.c.status == PENDING,
                        sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until <= now),
                    )
                    .values(lease_until=now + LEASE_SECONDS, attempts=row.attempts + 1)
                ).rowcount
            if not won:
                continue
            body = json.loads(row.payload or "{}")
            taken.append(
                Leased(
                    id=row.id,
                    channel=row.channel,
                    external_id=row.external_id,
                    conversation_id=row.conversation_id,
                    text=str(body.get("text", "")),
                    metadata=dict(body.get("metadata") or {}),
                    attempts=row.attempts + 1,
                )
            )
        return taken

    def renew(self, message: Leased) -> None:
        """Hold `message` for another LEASE_SECONDS: its turn is still running."""
        with self.db.begin() as connection:
            connection.execute(
                inbox.update()
                .where(inbox.c.id == message.id, inbox.c.status == PENDING)
                .values(lease_until=time.time() + LEASE_SECONDS)
            )

    def finish(self, message: Leased, error: str | None = None) -> None:
        """Mark it answered; its text is dropped. `error`: its reply could not be sent."""
        self._close(message.id, DONE, error)

    def fail(self, message: Leased, error: str, retry_in: float) -> bool:
        """Handling it failed: retry after `retry_in` seconds, or after MAX_ATTEMPTS give
        up (returns False)."""
        if message.attempts >= MAX_ATTEMPTS:
            self._close(message.id, FAILED, error)
            return False
        with self.db.begin() as connection:
            connection.execute(
                inbox.update()
                .where(inbox.c.id == message.id)
                .values(lease_until=time.time() + retry_in, error=error[:500])
            )
        return True

    def _close(self, row_id: int, status: str, error: str | None) -> None:
        with self.db.begin() as connection:
            connection.execute(
                inbox.update()
                .where(inbox.c.id == row_id)
                .values(
                    status=status,
                    payload=None,
                    lease_until=None,
                    finished_at=time.time(),
                    error=None if error is None else error[:500],
                )
            )

    def pending(self, channel: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.status == PENDING)
        if channel is not None:
            query = query.where(inbox.c.channel == channel)
        with self.db.begin() as connection:
            return int(connection.execute(query).scalar_one())

    def counts(self, channel: str) -> dict[str, int]:
        """Messages by status, and those whose reply failed to send."""
        with self.db.begin() as connection:
            rows = connection.execute(
                sa.select(inbox.c.status, sa.func.count())
                .where(inbox.c.channel == channel)
                .group_by(inbox.c.status)
            ).all()
            undelivered = connection.execute(
                sa.select(sa.func.count())
                .select_from(inbox)
                .where(
                    inbox.c.channel == channel,
                    inbox.c.status == DONE,
                    inbox.c.error.is_not(None),
                )
            ).scalar_one()
        counts = {status: 0 for status in (PENDING, DONE, FAILED)}
        counts.update({str(status): int(n) for status, n in rows})
        counts["undelivered"] = int(undelivered)
        return counts

    def forget_done(self, older_than: float = KEEP_DONE_SECONDS) -> int:
        """Delete finished rows older than `older_than` seconds (their ids stop guarding
        against redeliveries, which platforms stop long before)."""
        with self.db.begin() as connection:
            return int(
                connection.execute(
                    inbox.delete().where(
                        inbox.c.status != PENDING,
                        inbox.c.finished_at < time.time() - older_than,
                    )
                ).rowcount
            )

    def close(self) -> None:
        self.db.close()
