"""`HandoffQueue`: the human queues behind the agent console, in SQL.

One row per handoff (a conversation waiting for, or held by, a person) and one row per
message or note in it. SQLite by default, PostgreSQL by URL (the same STORE_URL as the
support store). Claiming is one conditional UPDATE (`... WHERE status = 'waiting'`), so
exactly one agent wins even when two click at the same instant, in one process or many.

Queue order: priority (urgent, high, normal), then waiting time. A customer's place is
counted within their skill queue; the estimated wait is that place times the median time
to claim of the queue's recent handoffs (`DEFAULT_SECONDS_PER_PLACE` before there is any).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.database import Database
from privacy import redact_formatted, redact_json, redact_text
from routing.decision import PRIORITIES
from routing.handoff import (
    CLAIMED,
    HANDED_BACK,
    RESOLVED,
    SILENT_STATUSES,
    WAITING,
    CustomerMessage,
    HandoffError,
    HandoffRequest,
    UnknownHandoff,
)
from routing.summary import HandoffSummary

DEFAULT_SECONDS_PER_PLACE = 120
RECENT_CLAIMS = 20

# Who wrote a message in a handoff.
FROM_CUSTOMER = "customer"
FROM_AGENT = "agent"
FROM_NOTE = "note"  # internal note: agents and leads only, never sent to the customer
FROM_SYSTEM = "system"  # claimed, handed back, resolved

metadata = sa.MetaData()

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("customer_key", sa.String(200)),
    sa.Column("customer_name", sa.String(200)),
    sa.Column("customer_email", sa.String(320)),
    sa.Column("queue", sa.String(40), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("priority_rank", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("distress", sa.Float, nullable=False),
    sa.Column("wait_target_seconds", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),  # JSON of HandoffSummary
    sa.Column("summary_text", sa.Text, nullable=False),
    sa.Column("transcript", sa.Text, nullable=False),  # JSON: messages before the handoff
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("agent", sa.String(80)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("claimed_at", sa.Float),
    sa.Column("closed_at", sa.Float),
)

messages = sa.Table(
    "handoff_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False, index=True),
    sa.Column("sender", sa.String(20), nullable=False),
    sa.Column("author", sa.String(80)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("emotion", sa.Text),  # JSON scores of a customer message
    sa.Column("created_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    channel: str
    customer_key: str | None
    customer_name: str | None
    customer_email: str | None
    queue: str
    priority: str
    reason: str
    distress: float
    wait_target_seconds: int
    summary: dict[str, Any]
    summary_text: str
    transcript: list[dict[str, Any]]
    status: str
    agent: str | None
    created_at: float
    claimed_at: float | None
    closed_at: float | None

    @property
    def is_open(self) -> bool:
        return self.status in SILENT_STATUSES

    def waited_seconds(self, now: float | None = None) -> float:
        end = self.claimed_at or self.closed_at or (now or time.time())
        return max(0.0, end - self.created_at)

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Everything the console shows of one conversation to whoever may open it: no
        customer key and no conversation id (what a channel knows a customer and a
        conversation by is not an agent's business)."""
        data = asdict(self)
        data.pop("customer_key", None)
        data.pop("conversation_id", None)
        data["waited_seconds"] = round(self.waited_seconds(now), 1)
        data["over_target"] = data["waited_seconds"] > self.wait_target_seconds
        return data

    def queue_entry(self, now: float | None = None) -> dict[str, Any]:
        """The fields the live queue shows (no transcript, no summary body)."""
        waited = round(self.waited_seconds(now), 1)
        return {
            "id": self.id,
            "customer_name": self.customer_name,
            "channel": self.channel,
            "queue": self.queue,
            "priority": self.priority,
            "reason": self.reason,
            "issue": self.summary.get("issue", ""),
            "status": self.status,
            "agent": self.agent,
            "created_at": self.created_at,
            "waited_seconds": waited,
            "wait_target_seconds": self.wait_target_seconds,
            "over_target": waited > self.wait_target_seconds,
        }


@dataclass(frozen=True)
class HandoffMessage:
    id: int
    handoff_id: int
    sender: str
    author: str | None
    text: str
    emotion: dict[str, Any] | None
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Placement:
    """Where a handoff stands: its place in its queue (1 = next) and the estimated wait."""

    handoff: Handoff
    position: int
    estimated_wait_seconds: int
    created: bool


class HandoffQueue:
    """Open, list, claim, answer and close handoffs. Thread-safe; cheap to construct."""

    def __init__(
        self,
        url: str,
        redact: Callable[[str], str] = redact_text,
        redact_formatted: Callable[[str], str] = redact_formatted,
    ) -> None:
        self.db = Database(url, metadata)
        # What stored texts go through (privacy): people's words entirely; the summary's
        # own sentences for formatted data only (its names are the verified customer's).
        self.redact = redact
        self.redact_formatted = redact_formatted

    def close(self) -> None:
        self.db.close()

    # --- Opening and relaying ---------------------------------------------------------
    def open(self, request: HandoffRequest, now: float | None = None) -> Placement:
        """Queue the conversation, or update its open handoff (same conversation id). The
        summary and the transcript are stored without personal data (`privacy.redact`);
        the verified customer's name and e-mail on file stay, for the agent."""
        if request.priority not in PRIORITIES:
            raise HandoffError(
                f"Unknown priority {request.priority!r}; use one of {', '.join(PRIORITIES)}."
            )
        at = now or time.time()
        summary = self.redacted_summary(request.summary)
        values = {
            "channel": request.channel,
            "customer_key": request.customer_key,
            "customer_name": request.customer_name,
            "customer_email": request.customer_email,
            "queue": request.queue,
            "reason": request.reason,
            "distress": float(request.distress),
            "summary": json.dumps(summary),
            "summary_text": summary_text(summary) or self.redact(request.summary_text),
        }
        with self.db.begin() as c:
            existing = c.execute(
                sa.select(handoffs).where(
                    handoffs.c.conversation_id == request.conversation_id,
                    handoffs.c.status.in_(SILENT_STATUSES),
                )
            ).first()
            if existing is not None:
                # Priority only goes up while a conversation waits.
                rank = min(existing.priority_rank, PRIORITIES.index(request.priority))
                c.execute(
                    handoffs.update()
                    .where(handoffs.c.id == existing.id)
                    .values(
                        **values,
                        priority=PRIORITIES[rank],
                        priority_rank=rank,
                        wait_target_seconds=min(
                            existing.wait_target_seconds, request.wait_target_seconds
                        ),
                    )
                )
                handoff_id, created = int(existing.id), False
            else:
                handoff_id = int(
                    c.execute(
                        handoffs.insert().values(
                            **values,
                            conversation_id=request.conversation_id,
                            priority=request.priority,
                            priority_rank=PRIORITIES.index(request.priority),
                            wait_target_seconds=int(request.wait_target_seconds),
                            transcript=json.dumps(redact_json(request.transcript, self.redact)),
                            status=WAITING,
                            created_at=at,
                        )
                    ).inserted_primary_key[0]
                )
                created = True
            handoff = _handoff(c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)))
            position, wait = self._placement(c, handoff)
        return Placement(handoff, position, wait, created)

    def redacted_summary(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary as stored: the customer's quoted words without personal data, the
        rest without formatted personal data."""
        stored = redact_json(summary, self.redact_formatted)
        if isinstance(summary.get("quotes"), list):
            stored["quotes"] = redact_json(summary["quotes"], self.redact)
        return stored

    def add_message(
        self,
        handoff_id: int,
        sender: str,
        text: str,
        author: str | None = None,
        emotion: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> HandoffMessage:
        with self.db.begin() as c:
            if (
                c.execute(sa.select(handoffs.c.id).where(handoffs.c.id == handoff_id)).first()
                is None
            ):
                raise UnknownHandoff(f"There is no handoff {handoff_id}.")
            return self._add_message(c, handoff_id, sender, self.redact(text), author, emotion, now)

    def relay(self, handoff_id: int, message: CustomerMessage) -> HandoffMessage:
        """A customer message that arrived while the conversation waits or is held."""
        with self.db.begin() as c:
            row = c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)).first()
            if row is None or row.status not in SILENT_STATUSES:
                raise UnknownHandoff(f"There is no open handoff {handoff_id}.")
            return self._add_message(
                c,
                handoff_id,
                FROM_CUSTOMER,
                self.redact(message.text),
                None,
                message.emotion,
                message.timestamp,
            )

    @staticmethod
    def _add_message(
        c: Connection,
        handoff_id: int,
        sender: str,
        text: str,
        author: str | None,
        emotion: dict[str, Any] | None,
        now: float | None,
    ) -> HandoffMessage:
        at = now or time.time()
        new_id = c.execute(
            messages.insert().values(
                handoff_id=handoff_id,
                sender=sender,
                author=author,
                text=text,
                emotion=json.dumps(emotion) if emotion else None,
                created_at=at,
            )
        ).inserted_primary_key[0]
        return HandoffMessage(int(new_id), handoff_id, sender, author, text, emotion, at)

    # --- Reading ----------------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff:
        with self.db.begin() as c:
            row = c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)).first()
        if row is None:
            raise UnknownHandoff(f"There is no handoff {handoff_id}.")
        return _handoff_from_row(row)

    def open_for_conversation(self, conversation_id: str) -> Handoff | None:
        with self.db.begin() as c:
            row = c.execute(
                sa.select(handoffs).where(
                    handoffs.c.conversation_id == conversation_id,
                    handoffs.c.status.in_(SILENT_STATUSES),
                )
            ).first()
        return _handoff_from_row(row) if row is not None else None

    def messages(self, handoff_id: int, include_notes: bool = True) -> list[HandoffMessage]:
        query = sa.select(messages).where(messages.c.handoff_id == handoff_id)
        if not include_notes:
            query = query.where(messages.c.sender != FROM_NOTE)
        with self.db.begin() as c:
            rows = c.execute(query.order_by(messages.c.id)).fetchall()
        return [
            HandoffMessage(
                r.id,
                r.handoff_id,
                r.sender,
                r.author,
                r.text,
                json.loads(r.emotion) if r.emotion else None,
                r.created_at,
            )
            for r in rows
        ]

    def waiting_and_held(self) -> list[Handoff]:
        """Open handoffs in queue order: priority, then the longest waiting first."""
        with self.db.begin() as c:
            rows = c.execute(
                sa.select(handoffs)
                .where(handoffs.c.status.in_(SILENT_STATUSES))
                .order_by(handoffs.c.priority_rank, handoffs.c.created_at, handoffs.c.id)
            ).fetchall()
        return [_handoff_from_row(r) for r in rows]

    def recent(self, limit: int = 100) -> list[Handoff]:
        with self.db.begin() as c:
            rows = c.execute(
                sa.select(handoffs).order_by(handoffs.c.id.desc()).limit(limit)
            ).fetchall()
        return [_handoff_from_row(r) for r in rows]

    def placement(self, handoff_id: int) -> tuple[int, int]:
        """(place in its queue, estimated wait in seconds) of a waiting handoff."""
        with self.db.begin() as c:
            handoff = _handoff(c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)))
            return self._placement(c, handoff)

    def _placement(self, c: Connection, handoff: Handoff) -> tuple[int, int]:
        rank = PRIORITIES.index(handoff.priority)
        ahead = c.execute(
            sa.select(sa.func.count())
            .select_from(handoffs)
            .where(
                handoffs.c.status == WAITING,
                handoffs.c.queue == handoff.queue,
                handoffs.c.id != handoff.id,
                sa.or_(
                    handoffs.c.priority_rank < rank,
                    sa.and_(
                        handoffs.c.priority_rank == rank,
                        handoffs.c.created_at <= handoff.created_at,
                    ),
                ),
            )
        ).scalar_one()
        recent = c.execute(
            sa.select(handoffs.c.claimed_at - handoffs.c.created_at)
            .where(handoffs.c.queue == handoff.queue, handoffs.c.claimed_at.isnot(None))
            .order_by(handoffs.c.claimed_at.desc())
            .limit(RECENT_CLAIMS)
        ).fetchall()
        per_place = (
            statistics.median(float(r[0]) for r in recent) if recent else DEFAULT_SECONDS_PER_PLACE
        )
        position = int(ahead) + 1
        return position, round(position * max(per_place, 10.0))

    # --- Agent actions ----------------------------------------------------------------
    def claim(self, handoff_id: int, agent: str, now: float | None = None) -> bool:
        """Give the handoff to `agent` if it is still waiting; True for exactly one caller."""
        at = now or time.time()
        with self.db.begin() as c:
            won = c.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.status == WAITING)
                .values(status=CLAIMED, agent=agent, claimed_at=at)
            ).rowcount
            if won:
                self._add_message(c, handoff_id, FROM_SYSTEM, f"{agent} joined", agent, None, at)
        return bool(won)

    def finish(self, handoff_id: int, agent: str, status: str, force: bool = False) -> Handoff:
        """Resolve or hand back a handoff held by `agent` (`force`: a lead or admin)."""
        if status not in (RESOLVED, HANDED_BACK):
            raise HandoffError(f"A handoff ends as {RESOLVED} or {HANDED_BACK}, not {status!r}.")
        at = time.time()
        with self.db.begin() as c:
            query = handoffs.update().where(
                handoffs.c.id == handoff_id, handoffs.c.status.in_(SILENT_STATUSES)
            )
            if not force:
                query = query.where(handoffs.c.agent == agent)
            done = c.execute(query.values(status=status, closed_at=at)).rowcount
            if not done:
                raise HandoffError(
                    f"Handoff {handoff_id} is not open and held by {agent}; claim it first."
                )
            verb = "resolved the conversation" if status == RESOLVED else "handed back to the bot"
            self._add_message(c, handoff_id, FROM_SYSTEM, f"{agent} {verb}", agent, None, at)
            return _handoff(c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)))

    def reopen(self, handoff_id: int, status: str) -> bool:
        """Undo a `finish` that ended as `status`: the handoff is held again by the same
        agent and its closing line is gone. For a close whose message could not reach
        the customer; True if this call reopened it (the handoff was still `status`)."""
        with self.db.begin() as c:
            row = c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)).first()
            if row is None or row.status != status or row.closed_at is None:
                return False
            done = c.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status == status,
                    handoffs.c.closed_at == row.closed_at,
                )
                .values(status=CLAIMED, closed_at=None)
            ).rowcount
            if done:
                c.execute(
                    messages.delete().where(
                        messages.c.handoff_id == handoff_id,
                        messages.c.sender == FROM_SYSTEM,
                        messages.c.created_at == row.closed_at,
                    )
                )
        return bool(done)


def _handoff(result: Any) -> Handoff:
    row = result.first()
    if row is None:
        raise UnknownHandoff("That handoff does not exist.")
    return _handoff_from_row(row)


def _handoff_from_row(row: Any) -> Handoff:
    return Handoff(
        id=int(row.id),
        conversation_id=row.conversation_id,
        channel=row.channel,
        customer_key=row.customer_key,
        customer_name=row.customer_name,
        customer_email=row.customer_email,
        queue=row.queue,
        priority=row.priority,
        reason=row.reason,
        distress=float(row.distress),
        wait_target_seconds=int(row.wait_target_seconds),
        summary=json.loads(row.summary),
        summary_text=row.summary_text,
        transcript=json.loads(row.transcript),
        status=row.status,
        agent=row.agent,
        created_at=float(row.created_at),
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
    )


def summary_text(summary: dict[str, Any]) -> str | None:
    """The plain-text form of a stored summary (as `HandoffSummary.as_text`), or None
    when it is not one."""
    try:
        return HandoffSummary(**summary).as_text()
    except TypeError:
        return None
