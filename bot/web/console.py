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
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.web.live import LiveFeed
from bot.web.rasa_client import (
    RasaConversations,
    RasaUnavailable,
    agent_message,
    bot_message,
    handoff_change,
    slot,
)
from core.constants import SLOT_FAILED_ANSWERS, SLOT_HANDOFF_STATUS, SLOT_TONE
from core.json_body import JSONBodyError, read_json
from core.paths import PROJECT_ROOT
from core.settings import Settings
from routing.accounts import LEAD, Accounts, User
from routing.decision import RoutingConfig
from routing.handoff import (
    CLAIMED,
    HANDED_BACK,
    RESOLVED,
    CustomerMessage,
    HandoffError,
    HandoffRequest,
    UnknownHandoff,
)
from routing.queue import FROM_AGENT, FROM_NOTE, Handoff, HandoffMessage, HandoffQueue
from routing.skills import QUEUE_TITLES

SESSION_COOKIE = "bb_console"
RASA_CONFIG = PROJECT_ROOT / "bot" / "config.yml"  # RoutingPolicy's thresholds
MAX_AGENT_MESSAGE_CHARS = 4000

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


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
    ) -> None:
        self.settings = settings
        # The thresholds the routing policy runs with, so the chart cannot drift from them.
        self.routing = routing or RoutingConfig.from_rasa_config(RASA_CONFIG)
        self.queue = queue
        self.accounts = accounts
        self.rasa = rasa
        self.render = render
        self.live = LiveFeed()

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
    async def json_body(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            # Not request.json(): deep nesting raised RecursionError there (a 500), and a
            # lone surrogate in a name or reply reached the database and failed there.
            body = read_json(await request.body(), allow_surrogates=False)
        except JSONBodyError as e:
            return error(400, e.code, f"The request body must be a JSON object. {e.message}")
        if not isinstance(body, dict):
            return error(400, "invalid_body", "The request body must be a JSON object.")
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

    def broadcast_queue(self) -> None:
        self.live.publish("queue", self._queue_payload())

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
        user = await run_in_threadpool(self.accounts.authenticate, username, password)
        if user is None:
            return error(401, "bad_credentials", "Wrong username or password.")
        token = await run_in_threadpool(self.accounts.start_session, user)
        reply = JSONResponse({"user": user.__dict__})
        reply.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", path="/", max_age=12 * 3600
        )
        return reply

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await run_in_threadpool(self.accounts.end_session, token)
        reply = JSONResponse({"status": "signed out"})
        reply.delete_cookie(SESSION_COOKIE, path="/")
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
        snapshot = await run_in_threadpool(self._queue_payload)

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
            self.live.stream(("queue", snapshot), allowed),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # --- One conversation ---------------------------------------------------------------
    async def _handoff(self, request: Request) -> Handoff | JSONResponse:
        try:
            return await run_in_threadpool(self.queue.get, int(request.path_params["id"]))
        except UnknownHandoff as e:
            return error(404, "unknown_handoff", str(e))

    async def conversation(self, request: Request, user: User) -> Response:
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        if handoff.agent not in (None, user.username) and not user.can(LEAD):
            return error(403, "held_by_another_agent", f"{handoff.agent} holds this conversation.")
        found = await run_in_threadpool(self.queue.messages, handoff.id)
        return JSONResponse(
            {
                "handoff": handoff.as_dict(),
                "messages": [m.as_dict() for m in found],
                "queue_title": QUEUE_TITLES.get(handoff.queue, handoff.queue),
            }
        )

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
        await run_in_threadpool(self.broadcast_queue)
        return JSONResponse({"handoff": claimed.as_dict(), "customer_notified": notified})

    async def _held(self, request: Request, user: User) -> Handoff | JSONResponse:
        handoff = await self._handoff(request)
        if isinstance(handoff, JSONResponse):
            return handoff
        if handoff.status != CLAIMED or (handoff.agent != user.username and not user.can(LEAD)):
            return error(
                409,
                "not_held",
                f"Claim the conversation first (it is {handoff.status}"
                + (f", held by {handoff.agent})." if handoff.agent else ")."),
            )
        return handoff

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
            return error(503, "not_delivered", str(e))
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
        handoff = await self._held(request, user)
        if isinstance(handoff, JSONResponse):
            return handoff
        if status == RESOLVED:
            events = [
                slot(SLOT_HANDOFF_STATUS, RESOLVED),
                slot(SLOT_TONE, None),
                slot(SLOT_FAILED_ANSWERS, 0),
                bot_message(
                    f"{user.display_name} has marked this conversation as resolved. If you "
                    "need anything else, just write — I'm here.",
                    handoff_change(RESOLVED, user.display_name),
                ),
            ]
        else:
            events = [
                slot(SLOT_HANDOFF_STATUS, HANDED_BACK),
                slot(SLOT_TONE, None),
                slot(SLOT_FAILED_ANSWERS, 0),
                bot_message(
                    f"{user.display_name} handed our conversation back to me, the virtual "
                    "assistant. I still have the details — what else can I help with?",
                    handoff_change(HANDED_BACK, user.display_name),
                ),
            ]
        try:
            await self.rasa.append(handoff.conversation_id, events)
        except RasaUnavailable as e:
            return error(
                503,
                "rasa_unavailable",
                f"{e} The conversation stays with you until the bot can take it back.",
            )
        try:
            finished = await run_in_threadpool(
                self.queue.finish, handoff.id, user.username, status, user.can(LEAD)
            )
        except HandoffError as e:
            return error(409, "not_held", str(e))
        self.live.publish("handoff", {"id": handoff.id, "status": status, "agent": user.username})
        await run_in_threadpool(self.publish_latest, handoff.id)
        await run_in_threadpool(self.broadcast_queue)
        return JSONResponse({"handoff": finished.as_dict()})

    # --- Internal API (action server) ---------------------------------------------------
    async def open_handoff(self, request: Request) -> Response:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            handoff_request = HandoffRequest.from_dict(body)
            placement = await run_in_threadpool(self.queue.open, handoff_request)
        except (HandoffError, TypeError, ValueError) as e:
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
        await run_in_threadpool(self.broadcast_queue)
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
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        text = body.get("text")
        if not isinstance(text, str):
            return error(400, "missing_text", 'Send {"text": ..., "timestamp": ...}.')
        raw_emotion = body.get("emotion")
        emotion: dict[str, Any] = raw_emotion if isinstance(raw_emotion, dict) else {}
        message = CustomerMessage(text, float(body.get("timestamp") or 0) or time.time(), emotion)
        try:
            stored = await run_in_threadpool(
                self.queue.relay, int(request.path_params["id"]), message
            )
            handoff = await run_in_threadpool(self.queue.get, stored.handoff_id)
        except UnknownHandoff as e:
            return error(404, "unknown_handoff", str(e))
        self.publish_message(handoff, stored)
        return JSONResponse({"message": stored.as_dict()}, status_code=201)
