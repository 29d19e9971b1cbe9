"""`AuditLog`: who opened, exported or erased which conversation or customer, and when.

Append-only: the table refuses UPDATE and DELETE (a trigger on SQLite and on PostgreSQL,
created by migration 0005), so an entry stays as written, even for an administrator with
database access through the application. Leads and admins read it in the console
(`GET /api/console/audit`). Entries name handoffs, conversation facts and store
customers by id, never by a conversation id (a phone number on SMS) or an e-mail.

    >>> AuditLog(url).record("dana", "agent", OPENED, "handoff:12")
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from core.database import Database

OPENED = "opened"
EXPORTED = "exported"
ERASED = "erased"
ACTIONS = (OPENED, EXPORTED, ERASED)
PAGE = 100

metadata = sa.MetaData()

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("actor", sa.String(80), nullable=False),  # a console user, or "<user> (command line)"
    sa.Column("role", sa.String(20), nullable=False),  # agent, lead, admin
    sa.Column("action", sa.String(20), nullable=False),  # ACTIONS
    sa.Column("subject", sa.String(200), nullable=False),  # "handoff:12", "customer:C1001"
    sa.Column("detail", sa.Text, nullable=False),  # JSON
)


@dataclass(frozen=True)
class Entry:
    id: int
    at: float
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditLog:
    """The audit log of one store database. Cheap to construct; thread-safe."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, metadata)

    def record(
        self,
        actor: str,
        role: str,
        action: str,
        subject: str,
        detail: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"Unknown audit action {action!r}; use one of {', '.join(ACTIONS)}.")
        with self.db.begin() as connection:
            connection.execute(
                audit_log.insert().values(
                    at=time.time() if now is None else now,
                    actor=actor[:80],
                    role=role[:20],
                    action=action,
                    subject=subject[:200],
                    detail=json.dumps(detail or {}),
                )
            )

    def entries(self, before: int | None = None, limit: int = PAGE) -> list[Entry]:
        """Newest first; `before`: the id the previous page ended at."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, min(limit, PAGE)))
        if before is not None:
            query = query.where(audit_log.c.id < before)
        with self.db.begin() as connection:
            rows = connection.execute(query).all()
        return [
            Entry(r.id, r.at, r.actor, r.role, r.action, r.subject, json.loads(r.detail or "{}"))
            for r in rows
        ]

    def about(self, subjects: list[str]) -> list[Entry]:
        """Every entry about one of `subjects` ("customer:C1001", "handoff:7", …), oldest
        first (a customer's export holds them)."""
        if not subjects:
            return []
        with self.db.begin() as connection:
            rows = connection.execute(
                sa.select(audit_log)
                .where(audit_log.c.subject.in_(sorted(set(subjects))))
                .order_by(audit_log.c.id)
            ).all()
        return [
            Entry(r.id, r.at, r.actor, r.role, r.action, r.subject, json.loads(r.detail or "{}"))
            for r in rows
        ]

    def close(self) -> None:
        self.db.close()
