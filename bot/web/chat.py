"""`ChatFront`: the customer's side of the web front.

- `/` is the chat page; `/chat.json` its configuration.
- `POST /api/chat/session` gives the page its conversation: a session id and the token
  that binds it (`core.tokens.SessionTokens`). With `{"token": ...}` of a conversation
  still valid, the same conversation comes back with a fresh token; with `{"new": true}`
  or nothing valid, a new one. New conversations are rate-limited per client address.
- `GET /api/conversations/{id}/messages` is the transcript a reloaded page shows. It
  needs that conversation's token (`Authorization: Bearer`), or a signed-in lead, or the
  agent who holds (or may claim) its handoff.
- `GET /api/chat/consent` is the customer's consent choices in the conversation that the
  token (`Authorization: Bearer`) binds: the question, and per purpose the words shown,
  `granted` (true, false, or null: never decided) and `decided_at`. `PUT` with
  `{"remember_conversations": bool, "use_order_history": bool}` (one or both) records
  each choice that changed, with the time and the server's words, and answers as `GET`.
- `/demo` (only while DEMO_SIGN_IN is true) plays the company's website: pick a sample
  customer and the chat opens signed in as them, with an identity token signed by
  IDENTITY_SECRET, as a real website would sign one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypedDict
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.errors import StoreError
from bot.store import Consent, SupportStore, load_seed
from bot.web.console import SESSION_COOKIE
from bot.web.rasa_client import RasaConversations, RasaUnavailable
from core.constants import CHANNEL_WEB_CHAT, CONSENT_PURPOSES, CONSENT_QUESTION, CONSENT_TEXTS
from core.conversation import Conversation
from core.json_body import JSONBodyError, check_content_type, read_body, read_json
from core.rate_limit import RateLimiter
from core.settings import Settings
from core.tokens import IdentityTokens, SessionTokens
from routing.accounts import LEAD, Accounts
from routing.handoff import WAITING
from routing.queue import HandoffQueue

MAX_SESSION_BODY_BYTES = 4096
DEMO_IDENTITY_TTL_SECONDS = 3600
MAX_CONSENT_BODY_BYTES = 1024  # two booleans and their names: about 60 bytes
CONSENT_CHANNEL = CHANNEL_WEB_CHAT  # the channel stored with a choice made in the web chat
# Consent changes per conversation: a customer clicks Save a few times at most.
CONSENT_CHANGES_PER_MINUTE = 20
CONSENT_CHANGES_BURST = 10


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class ConsentChoice(TypedDict):
    """One purpose in `GET /api/chat/consent`."""

    purpose: str  # core.constants.CONSENT_PURPOSES
    text: str  # the words the chat shows for it (CONSENT_TEXTS), stored with a choice
    granted: bool | None  # None: never decided (not granted)
    decided_at: str | None  # ISO 8601, UTC, of the choice in force


class ConsentChoices(TypedDict):
    """The body of `GET` and `PUT /api/chat/consent`."""

    question: str  # CONSENT_QUESTION, shown above the choices
    choices: list[ConsentChoice]  # in CONSENT_PURPOSES order


class ConsentBodyError(ValueError):
    """A `PUT /api/chat/consent` body that is not a set of choices; `code` and the
    message go to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def consent_changes(data: Any) -> dict[str, bool]:
    """The choices in a `PUT /api/chat/consent` body: purpose -> granted.

    >>> consent_changes({"use_order_history": True})
    {'use_order_history': True}
    """
    allowed = " and/or ".join(f'"{p}"' for p in CONSENT_PURPOSES)
    if not isinstance(data, dict) or not data:
        raise ConsentBodyError(
            "invalid_consent",
            f"Send a JSON object with {allowed}, each true or false, e.g. "
            f'{{"{CONSENT_PURPOSES[0]}": true}}.',
        )
    changes: dict[str, bool] = {}
    for key, value in data.items():
        if key not in CONSENT_PURPOSES:
            shown = key if len(key) <= 40 else key[:40] + "…"
            raise ConsentBodyError(
                "unknown_purpose", f"{shown!r} is not a consent choice; send {allowed}."
            )
        if not isinstance(value, bool):
            seen = "null" if value is None else type(value).__name__
            raise ConsentBodyError("invalid_consent", f'"{key}" must be true or false, got {seen}.')
        changes[key] = value
    return changes


def consent_choices(consents: Mapping[str, Consent]) -> ConsentChoices:
    """What the chat shows: every purpose with the choice in force, if any."""
    choices: list[ConsentChoice] = []
    for purpose in CONSENT_PURPOSES:
        consent = consents.get(purpose)
        choices.append(
            {
                "purpose": purpose,
                "text": CONSENT_TEXTS[purpose],
                "granted": consent.granted if consent else None,
                "decided_at": utc_iso(consent.decided_at) if consent else None,
            }
        )
    return {"question": CONSENT_QUESTION, "choices": choices}


def utc_iso(moment: datetime) -> str:
    """`moment` (naive: UTC, as the store keeps it) in ISO 8601 with its offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


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
        self.consent_limit = RateLimiter(CONSENT_CHANGES_PER_MINUTE / 60.0, CONSENT_CHANGES_BURST)
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
            Route("/api/chat/consent", self.consent, methods=["GET"]),
            Route("/api/chat/consent", self.change_consent, methods=["PUT"]),
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
        if self.sessions.session_of(bearer_token(request)) == session_id:
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

    # --- Consent ------------------------------------------------------------------------
    def consent_session(self, request: Request) -> str | None:
        """The conversation whose consent this is: the one the bearer token binds."""
        return self.sessions.session_of(bearer_token(request))

    @staticmethod
    def consent_needs_token() -> JSONResponse:
        return error_response(
            401,
            "not_your_conversation",
            "Consent choices need their conversation's token (Authorization: Bearer "
            "<token> from POST /api/chat/session); it is missing, expired or not valid.",
        )

    async def consent(self, request: Request) -> Response:
        """The consent question and this conversation's choices."""
        session_id = self.consent_session(request)
        if session_id is None:
            return self.consent_needs_token()
        try:
            consents = await run_in_threadpool(self.store.consents, session_id)
        except StoreError as e:
            return error_response(
                503, "store_unavailable", f"Consent choices are unavailable right now. ({e})"
            )
        return JSONResponse(consent_choices(consents))

    async def change_consent(self, request: Request) -> Response:
        """Record the choices sent that differ from those in force (or were never made),
        each with the server's words for it; answer with the choices as `consent` does."""
        session_id = self.consent_session(request)
        if session_id is None:
            return self.consent_needs_token()
        if not self.consent_limit.allow(session_id):
            wait = max(1, round(self.consent_limit.retry_after(session_id)))
            return JSONResponse(
                {
                    "error": "too_many_changes",
                    "message": f"Too many consent changes in a short time; try again in {wait} s.",
                },
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        try:
            check_content_type(request.headers.get("content-type"))
            body = await read_body(request.stream(), MAX_CONSENT_BODY_BYTES)
            changes = consent_changes(read_json(body))
        except JSONBodyError as e:
            return error_response(e.status, e.code, e.message)
        except ConsentBodyError as e:
            return error_response(400, e.code, e.message)
        try:
            consents = await run_in_threadpool(self.record_consents, session_id, changes)
        except StoreError as e:
            return error_response(
                503,
                "store_unavailable",
                f"Your choices were not saved; try again in a moment. ({e})",
            )
        return JSONResponse(consent_choices(consents))

    def record_consents(self, session_id: str, changes: Mapping[str, bool]) -> dict[str, Consent]:
        current = self.store.consents(session_id)
        for purpose in CONSENT_PURPOSES:
            if purpose not in changes:
                continue
            granted, text = changes[purpose], CONSENT_TEXTS[purpose]
            before = current.get(purpose)
            # The same choice to the same words is no new decision: no second row.
            if before is not None and before.granted == granted and before.text == text:
                continue
            current[purpose] = self.store.record_consent(
                session_id, purpose, granted, text, channel=CONSENT_CHANNEL
            )
        return current

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
