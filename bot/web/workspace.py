"""The lead workspace's JSON API (console roles lead and admin), over the conversation facts.

    GET  /api/insights/dashboard?since&until&channel&queue     numbers, charts' data, definitions
    GET  /api/insights/conversations?since&until&…&cursor       transcript search, one page
    GET  /api/insights/conversations/{id}                       facts, timeline, annotations,
                                                                the help-center articles
    POST /api/insights/conversations/{id}/annotations {kind, turn, …}
    GET  /api/insights/export?format=csv|jsonl&since&until&…    one row per conversation

Dates are UTC days (YYYY-MM-DD; default: the last 30 days). An agent gets 403: the
workspace shows every customer's conversations. Errors are `{"error", "message"}` as
in the console. The timeline's messages come from the conversation's tracker (one
tracker, read when the conversation is opened); everything else from the facts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.web.console import error
from bot.web.rasa_client import RasaConversations, RasaUnavailable
from core.constants import (
    CUSTOM_AGENT_NAME,
    CUSTOM_SENDER,
    EMOTION,
    EMOTION_IN_CONTEXT,
    INTENT_RATE,
    SENDER_AGENT,
    SLOT_ROUTING_DECISION,
)
from core.emotion import EmotionScores
from insights import annotations as notes
from insights.dashboard import dashboard
from insights.export import csv_lines, jsonl_lines, records
from insights.facts import TRANSIENT, FactsStore
from insights.metrics import FilterError, Filters
from insights.review import Query, conversation, search, session_end
from privacy.audit import OPENED, AuditLog
from routing.accounts import LEAD, User

DEFAULT_DAYS = 30
MAX_TIMELINE = 500
TITLE = re.compile(r"^title:\s*(.+)$")

Handler = Callable[[Request, User], Awaitable[Response]]


def filters_from(params: Mapping[str, str], today: date | None = None) -> Filters:
    today = today or datetime.now(timezone.utc).date()

    def day(name: str, default: date) -> date:
        value = params.get(name)
        if not value:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FilterError(
                f"{name} must be a date like 2026-12-01, not {value[:20]!r}."
            ) from None

    until = day("until", today)
    since = day("since", until - timedelta(days=DEFAULT_DAYS - 1))
    return Filters.days(since, until, params.get("channel") or None, params.get("queue") or None)


class LeadWorkspace:
    def __init__(
        self,
        store: FactsStore,
        rasa: RasaConversations,
        signed_in: Callable[[Handler], Callable[[Request], Awaitable[Response]]],
        json_body: Callable[[Request], Awaitable[dict[str, Any] | JSONResponse]],
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.rasa = rasa
        self.signed_in = signed_in
        self.json_body = json_body

    def routes(self) -> list[Route]:
        a = self.signed_in
        return [
            Route("/api/insights/dashboard", a(self.lead(self.dashboard))),
            Route("/api/insights/conversations", a(self.lead(self.conversations))),
            Route("/api/insights/conversations/{id:int}", a(self.lead(self.conversation))),
            Route(
                "/api/insights/conversations/{id:int}/annotations",
                a(self.lead(self.annotate)),
                methods=["POST"],
            ),
            Route("/api/insights/export", a(self.lead(self.export))),
        ]

    @staticmethod
    def lead(handler: Handler) -> Handler:
        async def wrapped(request: Request, user: User) -> Response:
            if not user.can(LEAD):
                return error(403, "leads_only", "The lead workspace is for leads and admins.")
            try:
                return await handler(request, user)
            except FilterError as e:
                return error(400, "invalid_filter", str(e))

        return wrapped

    def _read(self, work: Callable[[Any], Any]) -> Awaitable[Any]:
        def run() -> Any:
            with self.store.db.begin() as c:
                return work(c)

        return run_in_threadpool(run)

    async def dashboard(self, request: Request, user: User) -> Response:
        import time

        filters = filters_from(request.query_params)
        data = await self._read(lambda c: dashboard(c, filters, time.time()))
        return JSONResponse(data)

    async def conversations(self, request: Request, user: User) -> Response:
        query = Query.from_params(filters_from(request.query_params), request.query_params)
        return JSONResponse(await self._read(lambda c: search(c, query)))

    async def conversation(self, request: Request, user: User) -> Response:
        conversation_id = int(request.path_params["id"])
        found = await self._read(
            lambda c: (
                (f := conversation(c, conversation_id)),
                session_end(c, f) if f else None,
                notes.for_conversation(c, conversation_id) if f else [],
            )
        )
        f, until, annotations = found
        articles = await run_in_threadpool(article_choices)
        if f is None:
            return error(
                404, "unknown_conversation", f"There is no conversation {conversation_id}."
            )
        if self.audit is not None:
            await run_in_threadpool(
                self.audit.record, user.username, user.role, OPENED, f"conversation:{f.id}"
            )
        timeline, note = None, None
        try:
            tracker = await self.rasa.tracker(f.sender_id)
            timeline = transcript(tracker.get("events") or [], f.started_at, until)
        except RasaUnavailable as e:
            note = f"The messages are not available now: {e}"
        facts = {k: v for k, v in f.__dict__.items() if k not in TRANSIENT}
        return JSONResponse(
            {
                "conversation": {**facts, "frustration_mean": round(f.frustration_mean, 4)},
                "customer_turns": notes.customer_turns(f),
                "timeline": timeline,
                "timeline_note": note,
                "annotations": [a.as_dict() for a in annotations],
                "kinds": list(notes.KINDS),
                "articles": articles,
            }
        )

    async def annotate(self, request: Request, user: User) -> Response:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        conversation_id = int(request.path_params["id"])

        def work(c: Any) -> Any:
            f = conversation(c, conversation_id)
            if f is None:
                return None
            kind, turn, detail, note = notes.validate(body, f)
            return notes.add(c, f, kind, turn, detail, note, user.username)

        try:
            added = await self._read(work)
        except notes.AnnotationError as e:
            return error(400, "invalid_annotation", str(e))
        if added is None:
            return error(
                404, "unknown_conversation", f"There is no conversation {conversation_id}."
            )
        return JSONResponse({"annotation": added.as_dict()}, status_code=201)

    async def export(self, request: Request, user: User) -> Response:
        kind = request.query_params.get("format") or "csv"
        if kind not in ("csv", "jsonl"):
            return error(400, "invalid_format", "format must be csv or jsonl.")
        filters = filters_from(request.query_params)
        lines = csv_lines if kind == "csv" else jsonl_lines

        def produce() -> Iterator[str]:
            # A sync generator: Starlette runs it in a thread, a batch at a time.
            with self.store.db.begin() as c:
                yield from lines(records(c, filters))

        name = f"conversations-{datetime.now(timezone.utc).date().isoformat()}.{kind}"
        return StreamingResponse(
            produce(),
            media_type="text/csv" if kind == "csv" else "application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def article_choices(directory: Path = notes.ARTICLES_DIR) -> list[dict[str, str]]:
    """The help-center articles a `wrong_answer` annotation may name: `{id, title}` from
    each article's front matter (the title is the id when it has none), by title."""
    known = notes.known_articles(directory)
    choices = []
    for article in sorted(known):
        title = article
        with (directory / f"{article}.md").open(encoding="utf-8") as text:
            for number, line in enumerate(text):
                if number and line.strip() == "---":
                    break  # the end of the front matter
                match = TITLE.match(line)
                if match:
                    title = match.group(1).strip().strip("\"'") or article
                    break
        choices.append({"id": article, "title": title})
    return sorted(choices, key=lambda c: c["title"].lower())


def transcript(
    events: list[Mapping[str, Any]], since: float, until: float | None
) -> list[dict[str, Any]]:
    """The conversation's messages and routing decisions, in order: customer (with the
    emotion scores and the customer turn number annotations use), bot, agent."""
    out: list[dict[str, Any]] = []
    turn = 0
    for e in events:
        t = e.get("timestamp")
        if not isinstance(t, int | float) or t < since - 1 or (until is not None and t >= until):
            continue
        kind = e.get("event")
        if kind == "user":
            text = str(e.get("text") or "")
            parse = e.get("parse_data") or {}
            item: dict[str, Any] = {"t": t, "sender": "customer", "text": text}
            intent = (parse.get("intent") or {}).get("name")
            # Numbered as the facts number the customer's turns (typed, not a rating).
            if not text.startswith("/") and " ".join(text.split()) and intent != INTENT_RATE:
                scores = EmotionScores.from_stored(
                    parse.get(EMOTION_IN_CONTEXT) or parse.get(EMOTION)
                )
                item |= {"turn": turn, "emotion": scores.as_dict()}
                turn += 1
            item["intent"] = intent
            out.append(item)
        elif kind == "bot":
            custom = ((e.get("data") or {}).get("custom") or {}).get("data") or {}
            if custom.get(CUSTOM_SENDER) == SENDER_AGENT:
                out.append(
                    {
                        "t": t,
                        "sender": "agent",
                        "author": custom.get(CUSTOM_AGENT_NAME),
                        "text": custom.get("text"),
                    }
                )
            elif e.get("text"):
                out.append({"t": t, "sender": "bot", "text": e.get("text")})
        elif kind == "slot" and e.get("name") == SLOT_ROUTING_DECISION:
            value = e.get("value") or {}
            if isinstance(value, Mapping) and value.get("action") not in (None, "continue"):
                out.append(
                    {
                        "t": t,
                        "sender": "routing",
                        "action": value.get("action"),
                        "reasons": value.get("reasons") or [],
                        "distress": value.get("distress"),
                        "priority": value.get("priority"),
                        "queue": value.get("queue"),
                    }
                )
        if len(out) >= MAX_TIMELINE:
            break
    return json.loads(json.dumps(out, default=str))
