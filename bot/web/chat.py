"""`ChatFront`: the customer's side of the web front.

- `/` is the chat page; `/chat.json` its configuration.
- `POST /api/chat/session` gives the page its conversation: a session id and the token
  that binds it (`core.tokens.SessionTokens`). With `{"token": ...}` of a conversation
  still valid, the same conversation comes back with a fresh token; with `{"new": true}`
  or nothing valid, a new one. New conversations are rate-limited per client address.
- `GET /api/conversations/{id}/messages` is the transcript a reloaded page shows. It
  needs that conversation's token (`Authorization: Bearer`), or a signed-in lead, or the
  agent who holds (or may claim) its handoff.
- `/demo` (only while DEMO_SIGN_IN is true) plays the company's website: pick a sample
  customer and the chat opens signed in as them, with an identity token signed by
  IDENTITY_SECRET, as a real website would sign one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.errors import StoreError
from bot.store import SupportStore, load_seed
from bot.web.console import SESSION_COOKIE
from bot.web.rasa_client import RasaConversations, RasaUnavailable
from core.conversation import Conversation
from core.json_body import JSONBodyError, read_body, read_json
from core.rate_limit import RateLimiter
from core.settings import Settings
from core.tokens import IdentityTokens, SessionTokens
from routing.accounts import LEAD, Accounts
from routing.handoff import WAITING
from routing.queue import HandoffQueue

MAX_SESSION_BODY_BYTES = 4096
DEMO_IDENTITY_TTL_SECONDS = 3600


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class ChatFront:
    """The chat page, its session tokens, its transcript and the demo sign-in."""

    def __init__(
        self,
        settings: Settings,
        rasa: RasaConversations,
        queue: HandoffQueue,
        accounts: Accounts,
        render: Callable[[str, dict[str, Any]], str],
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.queue = queue
        self.accounts = accounts
        self.render = render
        self.sessions = SessionTokens(settings.session_secret)
        self.identities = IdentityTokens(settings.identity_secret)
        rate = settings.chat_sessions_per_hour
        self.new_sessions = RateLimiter(rate / 3600.0, max(1, rate // 4))
        self._store: SupportStore | None = None
        self.website_origins = frozenset(
            o.lower() for o in (*settings.rasa_cors_origins, settings.public_url) if o
        ) | frozenset(f"http://{host}:{settings.web_port}" for host in ("127.0.0.1", "localhost"))
        # The demo signs in only the sample store's customers, never a real one.
        self.sample_customers = frozenset(str(c["id"]) for c in load_seed()["customers"])

    def routes(self) -> list[Route]:
        routes = [
            Route("/", self.page),
            Route("/chat.json", self.config),
            Route("/api/chat/session", self.session, methods=["POST"]),
            Route("/api/conversations/{session_id}/messages", self.messages),
        ]
        routes.append(Route("/sign-in", self.sign_in, methods=["POST"]))
        if self.settings.demo_sign_in:
            routes += [
                Route("/demo", self.demo),
                Route("/demo/sign-in/{customer_id}", self.demo_sign_in),
            ]
        return routes

    # --- The page ---------------------------------------------------------------------
    def client_config(self, **extra: Any) -> dict[str, Any]:
        return {
            "rasa_port": self.settings.rasa_port,
            "rasa_host": self.settings.public_host or None,
            "socket_path": "/socket.io",
            "max_message_chars": self.settings.max_message_chars,
            **extra,
        }

    async def page(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self.render("chat.html", {"config": self.client_config()}))

    async def config(self, request: Request) -> JSONResponse:
        return JSONResponse(self.client_config())

    # --- Sessions -----------------------------------------------------------------------
    async def session(self, request: Request) -> Response:
        try:
            body = await read_body(request.stream(), MAX_SESSION_BODY_BYTES)
            data = read_json(body) if body.strip() else {}
        except JSONBodyError as e:
            return error_response(e.status, e.code, e.message)
        if not isinstance(data, dict):
            return error_response(
                400, "invalid_body", 'Send {"token": "<your token>"} or {"new": true}.'
            )
        existing = None if data.get("new") is True else self.sessions.session_of(data.get("token"))
        if existing is not None:
            session_id, token = self.sessions.issue(existing)
            return JSONResponse({"session_id": session_id, "token": token, "new": False})
        if not self.new_sessions.allow(client_address(request)):
            return JSONResponse(
                {
                    "error": "too_many_sessions",
                    "message": "Too many new conversations from this address; try again in "
                    "a few minutes.",
                },
                status_code=429,
                headers={"Retry-After": "60"},
            )
        session_id, token = self.sessions.issue()
        return JSONResponse({"session_id": session_id, "token": token, "new": True})

    # --- The transcript -----------------------------------------------------------------
    async def may_read(self, request: Request, session_id: str) -> bool:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and self.sessions.session_of(token.strip()) == session_id:
            return True
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return False
        user = await run_in_threadpool(self.accounts.user_for_session, cookie)
        if user is None:
            return False
        if user.can(LEAD):
            return True
        handoff = await run_in_threadpool(self.queue.open_for_conversation, session_id)
        return handoff is not None and (
            handoff.agent == user.username or (handoff.agent is None and handoff.status == WAITING)
        )

    async def messages(self, request: Request) -> Response:
        """The messages of one web chat conversation, so a reloaded page shows them."""
        session_id = request.path_params["session_id"]
        if not (8 <= len(session_id) <= 64 and session_id.isalnum()):
            return error_response(
                400, "invalid_session_id", "Session ids are 8-64 letters or digits."
            )
        if not await self.may_read(request, session_id):
            return error_response(
                401,
                "not_your_conversation",
                "A transcript needs its conversation's token (Authorization: Bearer <token> "
                "from POST /api/chat/session), or a console sign-in that may open it.",
            )
        try:
            tracker = await self.rasa.tracker(session_id)
        except RasaUnavailable as e:
            return error_response(503, "rasa_unavailable", str(e))
        return JSONResponse(
            {"messages": Conversation.from_events(tracker.get("events", [])).transcript()},
            headers={"Cache-Control": "no-store"},
        )

    # --- The demo website ---------------------------------------------------------------
    @property
    def store(self) -> SupportStore:
        if self._store is None:
            self._store = SupportStore(self.settings.store_url)
        return self._store

    async def demo(self, request: Request) -> Response:
        try:
            customers = await run_in_threadpool(self.store.customers)
        except StoreError as e:
            return error_response(503, "store_unavailable", str(e))
        customers = [c for c in customers if c.id in self.sample_customers]
        return HTMLResponse(self.render("demo.html", {"customers": customers}))

    async def demo_sign_in(self, request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        if customer_id not in self.sample_customers:
            return error_response(404, "unknown_customer", "No such sample customer; see /demo.")
        try:
            customer = await run_in_threadpool(self.store.get_customer, customer_id)
        except StoreError as e:
            return error_response(503, "store_unavailable", str(e))
        if customer is None:
            return error_response(
                404, "unknown_customer", f"No sample customer {customer_id}; see /demo."
            )
        token = self.identities.issue(customer.id, ttl_seconds=DEMO_IDENTITY_TTL_SECONDS)
        return self.signed_in_page(token, customer.name)

    async def sign_in(self, request: Request) -> Response:
        """The company's website posts a form with `identity_token` (a top-level form
        POST, so the token is in no URL); the chat opens signed in as that customer."""
        origin = (request.headers.get("origin") or "").lower().rstrip("/")
        if origin and origin not in self.website_origins:
            # Only the company's website signs customers in (no "login CSRF" from others).
            return error_response(
                403,
                "unknown_website",
                f"Sign-ins are accepted from the website's origins only (RASA_CORS_ORIGINS or "
                f"PUBLIC_URL), not from {origin}.",
            )
        try:
            body = await read_body(request.stream(), MAX_SESSION_BODY_BYTES)
        except JSONBodyError as e:
            return error_response(e.status, e.code, e.message)
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
        token = (fields.get("identity_token") or [""])[0]
        identity = self.identities.verify(token)
        if identity is None:
            return error_response(
                401,
                "invalid_identity_token",
                "The identity token is missing, expired or not signed with IDENTITY_SECRET "
                "(HS256, aud brightbasket-chat-identity, at most 24 h between iat and exp).",
            )
        try:
            customer = await run_in_threadpool(self.store.get_customer, identity.customer_id)
        except StoreError as e:
            return error_response(503, "store_unavailable", str(e))
        return self.signed_in_page(token, customer.name if customer else "")

    def signed_in_page(self, token: str, name: str) -> HTMLResponse:
        config = self.client_config(identity_token=token, signed_in_as=name, fresh_session=True)
        return HTMLResponse(
            self.render("chat.html", {"config": config}),
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
