"""The agent console: sign-in, live queue, conversation view, replies, notes, closing.

Pages and JSON API, served by the web front next to the customer chat:

    GET  /console                               the console (one page)
    POST /api/console/login  {username, password} → session cookie
    POST /api/console/logout
    GET  /api/console/me
    GET  /api/console/settings                  what the page draws with: the routing
                                                thresholds {"thresholds": {"escalate_at",
                                                "urgent_at"}}, RoutingPolicy's options in
                                                bot/config.yml (`RoutingConfig`)
    GET  /api/console/queue                     open handoffs, queue order
    GET  /api/console/stream                    server-sent events: queue, message, handoff
    GET  /api/console/handoffs/{id}             summary, transcript, messages, notes
    GET  /api/console/handoffs/{id}/history     the customer's conversations on every
                                                channel, when the handoff proves who the
                                                customer is (`HistoryAnswer`)
    POST /api/console/handoffs/{id}/claim       exactly one agent wins (409 for the others)
    POST /api/console/handoffs/{id}/messages {text}   reply: reaches the customer's channel
    POST /api/console/handoffs/{id}/notes    {text}   internal note
    POST /api/console/handoffs/{id}/resolve | /handback

and the internal API the action server's `ConsoleBackend` calls (bearer RASA_API_TOKEN):

    POST /internal/handoffs                     open or update a handoff → ticket
    POST /internal/handoffs/{id}/messages       a customer message while waiting

Every error is `{"error": code, "message": explanation}`. Customer text is only ever
inserted into the page as text (the ES modules under static/console/ use textContent),
never as HTML.

The live stream starts with a snapshot of the queue (`queue` event, the same JSON as
GET /api/console/queue); after that, each change is a `queue` event with `"delta": true`
and one handoff: `{"delta": true, "handoffs": [entry], "removed": []}` when it was added
or changed, `{"delta": true, "handoffs": [], "removed": [id]}` when it left the queue.
A stream ends with a `signed_out` event when its session does (bot/web/live.py).

Abuse limits and hardening (see also bot/web/security.py): JSON bodies must be sent as
`application/json` (415) and are read up to 64 KB (413; 1 MB on the internal API);
every field is checked for type and length before it is stored (bot/web/payloads.py);
failed sign-ins are throttled per account and per address (429 with Retry-After,
bot/web/throttle.py); the session cookie is `HttpOnly`, `SameSite=Strict`, and `Secure`
whenever the console is reached over https. Resolve and hand-back close the handoff
first, with one conditional UPDATE, and only the call that closed it messages the
customer: a double click sends one closing message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypedDict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.errors import StoreError
from bot.rating import rating_event
from bot.store import SupportStore
from bot.web.live import LiveFeed
from bot.web.payloads import PayloadError, customer_message, handoff_request
from bot.web.rasa_client import (
    RasaConversations,
    RasaUnavailable,
    agent_message,
    bot_message,
    handoff_change,
    slot,
)
from bot.web.security import MAX_INTERNAL_BODY_BYTES, WebPolicy
from bot.web.throttle import SignInThrottle
from core.constants import (
    SIGNED_IN_KEY_PREFIX,
    SLOT_FAILED_ANSWERS,
    SLOT_HANDOFF_STATUS,
    SLOT_TONE,
)
from core.json_body import (
    MAX_BODY_BYTES,
    JSONBodyError,
    any_string,
    check_content_type,
    read_body,
    read_json,
)
from core.paths import PROJECT_ROOT
from core.settings import Settings
from insights.facts import ConversationFacts, FactsStore
from privacy.audit import OPENED, AuditLog
from routing.accounts import (
    LEAD,
    MAX_PASSWORD_CHARS,
    MAX_USERNAME_CHARS,
    SESSION_SECONDS,
    Accounts,
    User,
)
from routing.decision import RoutingConfig
from routing.handoff import (
    CLAIMED,
    HANDED_BACK,
    RESOLVED,
    HandoffError,
    UnknownHandoff,
)
from routing.queue import FROM_AGENT, FROM_NOTE, Handoff, HandoffMessage, HandoffQueue
from routing.skills import QUEUE_TITLES

logger = logging.getLogger(__name__)
SESSION_COOKIE = "bb_console"
RASA_CONFIG = PROJECT_ROOT / "bot" / "config.yml"  # RoutingPolicy's thresholds
MAX_AGENT_MESSAGE_CHARS = 4000
MAX_HANDOFF_ID = 2**31 - 1  # larger ids cannot exist (and overflow SQLite's integers)
CONCURRENT_PASSWORD_CHECKS = 2  # each scrypt check holds 128 MB for ~0.3 s
HISTORY_LIMIT = 20  # conversations the history panel lists, newest first

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class HistoryEntry(TypedDict):
    """One conversation of the customer's, as GET .../history lists it. Never its
    sender id, customer key or pseudonym: what a channel knows a customer by is not an
    agent's business (see `Handoff.as_dict`)."""

    channel: str  # "socketio", "telegram", "sms", "whatsapp", "facebook", ...
    started_at: float  # epoch seconds
    last_event_at: float  # epoch seconds
    turns: int  # the customer's messages
    outcome: str  # "bot" | "person" | "abandoned" (as if it ended now)
    escalated: bool  # handed to a person
    first_intent: str | None  # the first request that was not small talk
    csat: int | None  # the customer's 1-5 rating, if they gave one
    current: bool  # the conversation of this handoff


class HistoryAnswer(TypedDict):
    identified: bool  # False: nothing on the handoff proves who the customer is
    conversations: list[HistoryEntry]  # newest first; empty when not identified


class Console:
    """The console's routes over one queue, one set of accounts and one live feed."""

    def __init__(
        self,
        settings: Settings,
        queue: HandoffQueue,
        accounts: Accounts,
        rasa: RasaConversations,
        render: Callable[[str, dict[str, Any]], str],
        routing: RoutingConfig | None = None,
        policy: WebPolicy | None = None,
        facts: FactsStore | None = None,
        store: SupportStore | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or WebPolicy(settings.rasa_port, settings.public_host)
        # The thresholds the routing policy runs with, so the chart cannot drift from them.
        self.routing = routing or RoutingConfig.from_rasa_config(RASA_CONFIG)
        self.queue = queue
        self.accounts = accounts
        self.rasa = rasa
        self.render = render
        # Conversation facts (the history panel) and the sample store (customers by e-mail).
        self.facts = facts or FactsStore(settings.store_url, settings.identity_secret.encode())
        self.store = store or SupportStore(settings.store_url)
        self.audit = audit or AuditLog(settings.store_url)  # who opened which conversation
        self.live = LiveFeed()
        self.throttle = SignInThrottle()
        self._password_checks = asyncio.Semaphore(CONCURRENT_PASSWORD_CHECKS)

    # --- Plumbing ---------------------------------------------------------------------
    def routes(self) -> list[Route]:
        a = self.signed_in
        return [
            Route("/console", self.page),
            Route("/api/console/login", self.login, methods=["POST"]),
            Route("/api/console/logout", self.logout, methods=["POST"]),
            Route("/api/console/me", a(self.me)),
            Route("/api/console/settings", a(self.page_settings)),
            Route("/api/console/queue", a(self.queue_snapshot)),
            Route("/api/console/stream", a(self.stream)),
            Route("/api/console/handoffs/{id:int}", a(self.conversation)),
            Route("/api/console/handoffs/{id:int}/history", a(self.history)),
            Route("/api/console/audit", a(self.audit_entries)),
            Route("/api/console/handoffs/{id:int}/claim", a(self.claim), methods=["POST"]),
            Route("/api/console/handoffs/{id:int}/messages", a(self.reply), methods=["POST"]),
            Route("/api/console/handoffs/{id:int}/notes", a(self.note), methods=["POST"]),
            Route("/api/console/handoffs/{id:int}/resolve", a(self.resolve), methods=["POST"]),
            Route("/api/console/handoffs/{id:int}/handback", a(self.handback), methods=["POST"]),
            Route("/internal/handoffs", self.internal(self.open_handoff), methods=["POST"]),
            Route(
                "/internal/handoffs/{id:int}/messages",
                self.internal(self.relay),
                methods=["POST"],
            ),
        ]

    def signed_in(self, handler: Callable[[Request, User], Awaitable[Response]]) -> Handler:
        async def wrapped(request: Request) -> Response:
            token = request.cookies.get(SESSION_COOKIE)
            user = await run_in_threadpool(self.accounts.user_for_session, token)
            if user is None:
                return error(401, "not_signed_in", "Sign in at /console first.")
            return await handler(request, user)

        return wrapped

    def internal(self, handler: Handler) -> Handler:
        expected = f"Bearer {self.settings.rasa_api_token}".encode()

        async def wrapped(request: Request) -> Response:
            given = (request.headers.get("authorization") or "").encode()
            if not hmac.compare_digest(given, expected):
                return error(
                    401,
                    "bad_token",
                    "The internal API needs `Authorization: Bearer <RASA_API_TOKEN>`.",
                )
            return await handler(request)

        return wrapped

    @staticmethod
    async def json_body(
        request: Request, limit: int = MAX_BODY_BYTES
    ) -> dict[str, Any] | JSONResponse:
        """The JSON object of the request: declared as application/json (415), at most
        `limit` bytes, read in chunks and no further (413), no NUL in any text (400)."""
        try:
            check_content_type(request.headers.get("content-type"))
            # Not request.json(): deep nesting raised RecursionError there (a 500), and a
            # lone surrogate in a name or reply reached the database and failed there.
            body = read_json(await read_body(request.stream(), limit), allow_surrogates=False)
        except JSONBodyError as e:
            if e.status != 400:
                return error(e.status, e.code, e.message)
            return error(400, e.code, f"The request body must be a JSON object. {e.message}")
        if not isinstance(body, dict):
            return error(400, "invalid_body", "The request body must be a JSON object.")
        if any_string(body, lambda text: "\x00" in text):
            # PostgreSQL cannot store NUL in a text column: it would fail there, as a 500.
            return error(400, "invalid_text", "A text in the body holds a NUL character.")
        return body

    def publish_message(self, handoff: Handoff, message: HandoffMessage) -> None:
        self.live.publish(
            "message",
            {"handoff_id": handoff.id, "agent": handoff.agent, "message": message.as_dict()},
        )

    def publish_latest(self, handoff_id: int) -> None:
        """Publish the newest line of a handoff (the system line of a claim or close)."""
        handoff = self.queue.get(handoff_id)
        lines = self.queue.messages(handoff_id)
        if lines:
            self.publish_message(handoff, lines[-1])

    def publish_change(self, handoff_id: int) -> None:
        """One queue delta: the handoff as it is now, or its removal once it is closed.
        Each change costs one row read and one small event per tab, whatever the size of
        the queue (a full snapshot per change made the work grow with its square)."""
        try:
            handoff: Handoff | None = self.queue.get(handoff_id)
        except UnknownHandoff:
            handoff = None
        if handoff is not None and handoff.is_open:
            delta = {"delta": True, "handoffs": [handoff.queue_entry()], "removed": []}
        else:
            delta = {"delta": True, "handoffs": [], "removed": [handoff_id]}
        self.live.publish("queue", delta)

    def _queue_payload(self) -> dict[str, Any]:
        return {
            "handoffs": [h.queue_entry() for h in self.queue.waiting_and_held()],
            "queues": QUEUE_TITLES,
        }

    # --- Pages and sessions -------------------------------------------------------------
    async def page(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self.render("console.html", {"queues": QUEUE_TITLES}))

    async def login(self, request: Request) -> Response:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return error(400, "missing_credentials", "Send a username and a password.")
        if len(username) > MAX_USERNAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
            return error(
                400,
                "invalid_credentials",
                f"Usernames have at most {MAX_USERNAME_CHARS} characters and passwords at "
                f"most {MAX_PASSWORD_CHARS:,}.",
            )
        address = request.client.host if request.client else "unknown"
        # Checked before and again after waiting for a turn: attempts queued behind a
        # failure must not each get a guess.
        wait = self.throttle.retry_after(username, address)
        if wait:
            return self.too_many_attempts(wait)
        async with self._password_checks:
            wait = self.throttle.retry_after(username, address)
            if wait:
                return self.too_many_attempts(wait)
            user = await run_in_threadpool(self.accounts.authenticate, username, password)
            if user is None:
                self.throttle.failed(username, address)
            else:
                self.throttle.succeeded(username)
        if user is None:
            return error(401, "bad_credentials", "Wrong username or password.")
        token = await run_in_threadpool(self.accounts.start_session, user)
        reply = JSONResponse({"user": user.__dict__})
        reply.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.policy.is_https(request.scope),
            path="/",
            max_age=SESSION_SECONDS,
        )
        return reply

    @staticmethod
    def too_many_attempts(wait: float) -> Response:
        seconds = max(1, math.ceil(wait))
        reply = error(
            429,
            "too_many_attempts",
            "Too many failed sign-ins for this account or from this address. "
            f"Try again in {seconds} second{'s' if seconds != 1 else ''}.",
        )
        reply.headers["Retry-After"] = str(seconds)
        return reply

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await run_in_threadpool(self.accounts.end_session, token)
            self.live.end_session(session_key(token))
        reply = JSONResponse({"status": "signed out"})
        reply.delete_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.policy.is_https(request.scope),
        )
        return reply

    async def me(self, request: Request, user: User) -> Response:
        return JSONResponse({"user": user.__dict__})

    async def page_settings(self, request: Request, user: User) -> Response:
        thresholds = {"escalate_at": self.routing.escalate_at, "urgent_at": self.routing.urgent_at}
        return JSONResponse({"thresholds": thresholds})

    # --- Queue and live feed ------------------------------------------------------------
    async def queue_snapshot(self, request: Request, user: User) -> Response:
        return JSONResponse(await run_in_threadpool(self._queue_payload))

    async def stream(self, request: Request, user: User) -> Response:
        token = request.cookies.get(SESSION_COOKIE) or ""

        async def snapshot() -> tuple[str, dict[str, Any]]:
            return "queue", await run_in_threadpool(self._queue_payload)

        async def alive() -> bool:
            return await run_in_threadpool(self.accounts.user_for_session, token) == user

        def allowed(event: str, data: dict[str, Any]) -> bool:
            # Messages and notes only reach those who may open the conversation.
            return (
                event != "message"
                or user.can(LEAD)
                or data.get("agent")
                in (
                    None,
                    user.username,
                )
            )

        return StreamingResponse(
            self.live.stream(snapshot, allowed, session_key(token), alive),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # --- One conversation ---------------------------------------------------------------
    async def _handoff(self, request: Request) -> Handoff | JSONResponse:
        handoff_id = int(request.path_params["id"])
        if handoff_id > MAX_HANDOFF_ID:
            return error(404, "unknown_handoff", f"There is no handoff {handoff_id}.")
        try:
            return await run_in_threadpool(self.queue.get, handoff_id)
        except UnknownHandoff as e:
            return error(404, "unknown_handoff", str(e))

    async def _readable(self, request: Request, user: User) -> Handoff | JSONResponse:
        """The handoff, if `user` may open it: nobody holds it, they do, or they lead."""
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        if handoff.agent not in (None, user.username) and not user.can(LEAD):
            return error(403, "held_by_another_agent", f"{handoff.agent} holds this conversation.")
        return handoff

    async def conversation(self, request: Request, user: User) -> Response:
        handoff = await self._readable(request, user)
        if isinstance(handoff, JSONResponse):
            return handoff
        found = await run_in_threadpool(self.queue.messages, handoff.id)
        await run_in_threadpool(
            self.audit.record, user.username, user.role, OPENED, f"handoff:{handoff.id}"
        )
        return JSONResponse(
            {
                "handoff": handoff.as_dict(),
                "messages": [m.as_dict() for m in found],
                "queue_title": QUEUE_TITLES.get(handoff.queue, handoff.queue),
            }
        )

    async def audit_entries(self, request: Request, user: User) -> Response:
        """The audit log, newest first (`?before=<id>` pages back): leads and admins."""
        if not user.can(LEAD):
            return error(403, "leads_only", "The audit log is for leads and admins.")
        raw = request.query_params.get("before")
        if raw is not None and not (raw.isdigit() and len(raw) <= 12):
            return error(400, "invalid_before", "?before= takes an entry id (a number).")
        entries = await run_in_threadpool(self.audit.entries, int(raw) if raw else None)
        return JSONResponse({"entries": [e.as_dict() for e in entries]})

    async def history(self, request: Request, user: User) -> Response:
        """The customer's conversations on every channel, newest first: for whoever may
        open the handoff, and only when the handoff itself proves who the customer is."""
        handoff = await self._readable(request, user)
        if isinstance(handoff, JSONResponse):
            return handoff
        try:
            customer_id = await run_in_threadpool(self._proven_customer, handoff)
        except StoreError as e:
            return error(503, "store_unavailable", str(e))
        answer: HistoryAnswer = {"identified": customer_id is not None, "conversations": []}
        if customer_id is not None:
            found = await run_in_threadpool(self.facts.for_customer, customer_id, HISTORY_LIMIT)
            current = current_conversation(found, handoff)
            answer["conversations"] = [history_entry(f, f is current) for f in found]
        return JSONResponse(answer)

    def _proven_customer(self, handoff: Handoff) -> str | None:
        """The store id of the handoff's customer, from proof only: a customer key set
        from a verified identity (the website's token, a verified phone number), else a
        conversation the store links to a customer because it once proved the e-mail on
        file with a one-time code. An e-mail merely typed in the chat (which reads an
        order's status) is no proof. None: not identified; nothing is guessed."""
        key = handoff.customer_key or ""
        if key.startswith(SIGNED_IN_KEY_PREFIX) and key[len(SIGNED_IN_KEY_PREFIX) :]:
            return key[len(SIGNED_IN_KEY_PREFIX) :]
        customer = self.store.customer_for_key(key) if key else None
        return customer.id if customer is not None else None

    async def claim(self, request: Request, user: User) -> Response:
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        won = await run_in_threadpool(self.queue.claim, handoff.id, user.username)
        if not won:
            current = await run_in_threadpool(self.queue.get, handoff.id)
            who = current.agent or "nobody"
            return error(
                409,
                "already_claimed",
                f"{who} already holds this conversation (status {current.status}).",
            )
        notified = True
        try:
            await self.rasa.append(
                handoff.conversation_id,
                [
                    slot(SLOT_HANDOFF_STATUS, CLAIMED),
                    bot_message(
                        f"{user.display_name} from our support team has joined.",
                        handoff_change(CLAIMED, user.display_name, "support"),
                    ),
                ],
            )
        except RasaUnavailable:
            notified = False  # the claim stands; the customer sees the agent's first reply
        claimed = await run_in_threadpool(self.queue.get, handoff.id)
        self.live.publish("handoff", {"id": handoff.id, "status": CLAIMED, "agent": user.username})
        await run_in_threadpool(self.publish_latest, handoff.id)
        await run_in_threadpool(self.publish_change, handoff.id)
        return JSONResponse({"handoff": claimed.as_dict(), "customer_notified": notified})

    async def _held(self, request: Request, user: User) -> Handoff | JSONResponse:
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        return not_held(handoff, user) or handoff

    async def _text(self, request: Request) -> str | JSONResponse:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return error(400, "empty_message", 'Send {"text": "..."} with the message.')
        if len(text) > MAX_AGENT_MESSAGE_CHARS:
            return error(
                413,
                "message_too_long",
                f"The message has {len(text):,} characters; the limit is "
                f"{MAX_AGENT_MESSAGE_CHARS:,}.",
            )
        return text.strip()

    async def reply(self, request: Request, user: User) -> Response:
        handoff = await self._held(request, user)
        if isinstance(handoff, JSONResponse):
            return handoff
        text = await self._text(request)
        if isinstance(text, JSONResponse):
            return text
        try:
            await self.rasa.append(
                handoff.conversation_id, [agent_message(text, user.display_name)]
            )
        except RasaUnavailable as e:
            # The detail names the conversation (a phone number on SMS): the log has it.
            logger.error("console: handoff %s: a reply was not delivered: %s", handoff.id, e)
            return error(
                503,
                "not_delivered",
                "The reply was not delivered: the customer's channel or the assistant did "
                "not take it (the reason is in the log). Try again in a moment.",
            )
        message = await run_in_threadpool(
            self.queue.add_message, handoff.id, FROM_AGENT, text, user.display_name
        )
        self.publish_message(handoff, message)
        return JSONResponse({"message": message.as_dict()}, status_code=201)

    async def note(self, request: Request, user: User) -> Response:
        """An internal note: by the agent holding the conversation, or a lead (any time)."""
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        if not user.can(LEAD) and (handoff.status != CLAIMED or handoff.agent != user.username):
            return error(409, "not_held", "Claim the conversation before adding notes.")
        text = await self._text(request)
        if isinstance(text, JSONResponse):
            return text
        message = await run_in_threadpool(
            self.queue.add_message, handoff.id, FROM_NOTE, text, user.display_name
        )
        self.publish_message(handoff, message)
        return JSONResponse({"message": message.as_dict()}, status_code=201)

    async def resolve(self, request: Request, user: User) -> Response:
        return await self._finish(request, user, RESOLVED)

    async def handback(self, request: Request, user: User) -> Response:
        return await self._finish(request, user, HANDED_BACK)

    async def _finish(self, request: Request, user: User, status: str) -> Response:
        """Resolve or hand back, idempotently: the queue is updated first, with one
        conditional UPDATE, and only the call that changed it tells the customer. A
        second click (or a second tab) gets the closed handoff back and sends nothing."""
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        if handoff.status == status and (handoff.agent == user.username or user.can(LEAD)):
            return JSONResponse({"handoff": handoff.as_dict(), "changed": False})
        refusal = not_held(handoff, user)
        if refusal is not None:
            return refusal
        try:
            finished = await run_in_threadpool(
                self.queue.finish, handoff.id, user.username, status, user.can(LEAD)
            )
        except HandoffError as e:
            # Someone else's call closed it between the read and the update.
            current = await run_in_threadpool(self.queue.get, handoff.id)
            if current.status == status:
                return JSONResponse({"handoff": current.as_dict(), "changed": False})
            return error(409, "not_held", str(e))
        try:
            await self.rasa.append(handoff.conversation_id, closing_events(status, user))
        except RasaUnavailable as e:
            # The customer was not told, so the bot would stay silent: undo the close.
            await run_in_threadpool(self.queue.reopen, handoff.id, status)
            return error(
                503,
                "rasa_unavailable",
                f"{e} The conversation stays with you until the bot can take it back.",
            )
        self.live.publish("handoff", {"id": handoff.id, "status": status, "agent": user.username})
        await run_in_threadpool(self.publish_latest, handoff.id)
        await run_in_threadpool(self.publish_change, handoff.id)
        return JSONResponse({"handoff": finished.as_dict(), "changed": True})

    # --- Internal API (action server) ---------------------------------------------------
    async def open_handoff(self, request: Request) -> Response:
        body = await self.json_body(request, MAX_INTERNAL_BODY_BYTES)
        if isinstance(body, JSONResponse):
            return body
        try:
            placement = await run_in_threadpool(self.queue.open, handoff_request(body))
        except PayloadError as e:
            return error(400, e.code, e.message)
        except HandoffError as e:
            return error(400, "invalid_handoff", str(e))
        self.live.publish(
            "handoff",
            {
                "id": placement.handoff.id,
                "status": placement.handoff.status,
                "created": placement.created,
                "priority": placement.handoff.priority,
            },
        )
        await run_in_threadpool(self.publish_change, placement.handoff.id)
        return JSONResponse(
            {
                "reference": str(placement.handoff.id),
                "position": placement.position,
                "estimated_wait_seconds": placement.estimated_wait_seconds,
                "created": placement.created,
            },
            status_code=201 if placement.created else 200,
        )

    async def relay(self, request: Request) -> Response:
        body = await self.json_body(request, MAX_INTERNAL_BODY_BYTES)
        if isinstance(body, JSONResponse):
            return body
        try:
            message = customer_message(body, time.time())
        except PayloadError as e:
            return error(400, e.code, e.message)
        handoff_id = int(request.path_params["id"])
        try:
            if handoff_id > MAX_HANDOFF_ID:
                raise UnknownHandoff(f"There is no open handoff {handoff_id}.")
            stored = await run_in_threadpool(self.queue.relay, handoff_id, message)
            handoff = await run_in_threadpool(self.queue.get, stored.handoff_id)
        except UnknownHandoff as e:
            return error(404, "unknown_handoff", str(e))
        self.publish_message(handoff, stored)
        return JSONResponse({"message": stored.as_dict()}, status_code=201)


def not_held(handoff: Handoff, user: User) -> JSONResponse | None:
    """The 409 for a user who may not act on `handoff` as its holder (a lead may)."""
    if handoff.status == CLAIMED and (handoff.agent == user.username or user.can(LEAD)):
        return None
    return error(
        409,
        "not_held",
        f"Claim the conversation first (it is {handoff.status}"
        + (f", held by {handoff.agent})." if handoff.agent else ")."),
    )


def current_conversation(
    found: Sequence[ConversationFacts], handoff: Handoff
) -> ConversationFacts | None:
    """Which of `found` is the handoff's conversation: of its sender's sessions, the
    last one that started by the time the handoff opened (a channel's sender id, a
    Telegram chat, lasts many sessions)."""
    same = [f for f in found if f.sender_id == handoff.conversation_id]
    before = [f for f in same if f.started_at <= handoff.created_at]
    if before:
        return max(before, key=lambda f: f.started_at)
    return min(same, key=lambda f: f.started_at) if same else None


def history_entry(found: ConversationFacts, current: bool) -> HistoryEntry:
    return {
        "channel": found.channel,
        "started_at": found.started_at,
        "last_event_at": found.last_event_at,
        "turns": found.turns,
        "outcome": found.outcome,
        "escalated": bool(found.escalated),
        "first_intent": found.first_intent,
        "csat": found.csat,
        "current": current,
    }


def session_key(token: str) -> str:
    """How the live feed names a session: the token's SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def closing_events(status: str, user: User) -> list[dict[str, Any]]:
    """What Rasa records when a person ends a handoff: the bot answers again, with a
    fresh tone, and the customer is told who closed it and how; after a resolve, the
    rating question (CSAT)."""
    if status == RESOLVED:
        text = (
            f"{user.display_name} has marked this conversation as resolved. If you need "
            "anything else, just write — I'm here."
        )
    else:
        text = (
            f"{user.display_name} handed our conversation back to me, the virtual "
            "assistant. I still have the details — what else can I help with?"
        )
    events = [
        slot(SLOT_HANDOFF_STATUS, status),
        slot(SLOT_TONE, None),
        slot(SLOT_FAILED_ANSWERS, 0),
        bot_message(text, handoff_change(status, user.display_name)),
    ]
    if status == RESOLVED:
        events.append(rating_event())  # CSAT: how did the person do?
    return events
