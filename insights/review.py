"""Transcript review: find conversations in the facts, a page at a time.

`search(c, query)` filters on text (the customer's words), dates, channel, queue,
escalated or contained, CSAT, an emotion peak above a value, a help-center miss and the
agent, newest first. Pages are keyset pages (`cursor` is where the last page ended), so
the thousandth page costs what the first does, at 100,000 conversations as at 100.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.facts import ConversationFacts
from insights.metrics import FilterError, Filters
from insights.schema import facts

PAGE = 25
MAX_PAGE = 100
MAX_TEXT = 200
COUNT_LIMIT = 10_000  # counted up to this; more reads as "10,000+"

LIST_COLUMNS = (
    facts.c.id,
    facts.c.sender_id,
    facts.c.session,
    facts.c.channel,
    facts.c.started_at,
    facts.c.last_event_at,
    facts.c.turns,
    facts.c.first_intent,
    facts.c.frustration_peak,
    facts.c.escalated,
    facts.c.queue,
    facts.c.priority,
    facts.c.agent,
    facts.c.outcome,
    facts.c.csat,
    facts.c.kb_missed,
    facts.c.escalation_reason,
)


@dataclass(frozen=True)
class Query:
    filters: Filters
    text: str | None = None
    escalated: bool | None = None
    csat_min: int | None = None
    csat_max: int | None = None
    peak_above: float | None = None
    kb_miss: bool | None = None
    agent: str | None = None
    cursor: str | None = None
    limit: int = PAGE

    @classmethod
    def from_params(cls, filters: Filters, params: Mapping[str, str]) -> Query:
        """From a request's query string; `FilterError` names the bad parameter."""
        known = {"text", "escalated", "csat_min", "csat_max", "peak_above", "kb_miss", "agent"}
        known |= {"cursor", "limit", "since", "until", "channel", "queue"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise FilterError(
                f"Unknown filter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )

        def flag(name: str) -> bool | None:
            value = params.get(name)
            if value in (None, ""):
                return None
            if value not in ("true", "false"):
                raise FilterError(f"{name} must be true or false, not {value[:20]!r}.")
            return value == "true"

        def number(name: str, low: float, high: float, kind: type = float) -> Any:
            value = params.get(name)
            if value in (None, ""):
                return None
            try:
                parsed = kind(value)
            except ValueError:
                raise FilterError(f"{name} must be a number, not {value[:20]!r}.") from None
            if not low <= parsed <= high:
                raise FilterError(f"{name} must be between {low:g} and {high:g}.")
            return parsed

        text = (params.get("text") or "").strip()
        if len(text) > MAX_TEXT:
            raise FilterError(
                f"The search text is {len(text)} characters; the limit is {MAX_TEXT}."
            )
        return cls(
            filters=filters,
            text=text or None,
            escalated=flag("escalated"),
            csat_min=number("csat_min", 1, 5, int),
            csat_max=number("csat_max", 1, 5, int),
            peak_above=number("peak_above", 0, 1),
            kb_miss=flag("kb_miss"),
            agent=(params.get("agent") or "").strip()[:120] or None,
            cursor=params.get("cursor") or None,
            limit=number("limit", 1, MAX_PAGE, int) or PAGE,
        )

    def where(self) -> list[Any]:
        clauses = self.filters.where()
        if self.text:
            escaped = (
                self.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            clauses.append(sa.func.lower(facts.c.customer_text).like(f"%{escaped}%", escape="\\"))
        if self.escalated is not None:
            clauses.append(facts.c.escalated == self.escalated)
        if self.csat_min is not None:
            clauses.append(facts.c.csat >= self.csat_min)
        if self.csat_max is not None:
            clauses.append(facts.c.csat <= self.csat_max)
        if self.peak_above is not None:
            clauses.append(facts.c.frustration_peak > self.peak_above)
        if self.kb_miss is not None:
            clauses.append(facts.c.kb_missed > 0 if self.kb_miss else facts.c.kb_missed == 0)
        if self.agent:
            clauses.append(facts.c.agent == self.agent)
        return clauses


def encode_cursor(started_at: float, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{started_at!r}:{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        started, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return float(started), int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise FilterError(
            "The page cursor is not one this server gave; start again from the first page."
        ) from None


def search(c: Connection, query: Query) -> dict[str, Any]:
    """A page of conversations, newest first, the cursor of the next page, and how many
    match (up to `COUNT_LIMIT`)."""
    where = query.where()
    page_where = list(where)
    if query.cursor:
        started, row_id = decode_cursor(query.cursor)
        page_where.append(
            sa.or_(
                facts.c.started_at < started,
                sa.and_(facts.c.started_at == started, facts.c.id < row_id),
            )
        )
    rows = (
        c.execute(
            sa.select(*LIST_COLUMNS)
            .where(*page_where)
            .order_by(facts.c.started_at.desc(), facts.c.id.desc())
            .limit(query.limit + 1)
        )
        .mappings()
        .all()
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if not query.cursor and not more:
        counted = len(rows)  # the first page holds every match: no second pass to count them
    else:
        counted = c.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(facts.c.id).where(*where).limit(COUNT_LIMIT + 1).subquery()
            )
        ).scalar_one()
    return {
        "conversations": [dict(r) for r in rows],
        "next": encode_cursor(rows[-1]["started_at"], rows[-1]["id"]) if more and rows else None,
        "matches": min(int(counted), COUNT_LIMIT),
        "more_than": int(counted) > COUNT_LIMIT,
    }


def conversation(c: Connection, conversation_id: int) -> ConversationFacts | None:
    row = c.execute(sa.select(facts).where(facts.c.id == conversation_id)).mappings().first()
    return ConversationFacts.from_row(row) if row is not None else None


def session_end(c: Connection, f: ConversationFacts) -> float | None:
    """When the sender's next conversation started (the end of this one's events)."""
    return c.execute(
        sa.select(facts.c.started_at).where(
            facts.c.sender_id == f.sender_id, facts.c.session == f.session + 1
        )
    ).scalar()
