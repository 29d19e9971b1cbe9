"""`SupportRestInput`: Rasa's REST channel with request validation.

Same URL and payloads as Rasa's `rest` channel (`POST /webhooks/rest/webhook` with
`{"sender": ..., "message": ..., "metadata": {...}}`), but malformed requests get a 4xx
JSON error `{"error": code, "message": explanation}` instead of a 500 or a silent reply.

Messages to one conversation that arrive while its previous turn runs are answered
together, as one turn (`bot.channels.coalescer`): each of those requests gets that
turn's reply.

A conversation belongs to its session (`bot.channels.trust`): `POST
/webhooks/rest/session` answers `{"session_id": ..., "token": ...}`, and every message
carries `Authorization: Bearer <token>`; its `sender` is that session id (or left out).
Identity comes only from `metadata.identity_token`, signed by the company's website.

A message may carry an id (`"message_id"`, else the `Idempotency-Key` header, which
the production profile's HAProxy sets when a request has none, and keeps when it
retries the request on another server): a message sent again with the id of one whose
turn is stored gets that turn's replies, and is not stored or run again
(`bot.replayed_turns`). A client that got no answer (a broken connection, a 502, a 503
with `Retry-After`) sends its message again with the same id.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.coalescer import MessageCoalescer, prepare_turn
from bot.channels.guard import MessageGuard, Rejection
from bot.channels.trust import ChannelTrust, bearer
from core.constants import MESSAGING_CHANNELS, RETRY_PROMPT
from core.json_body import JSONBodyError, read_json

logger = logging.getLogger(__name__)
EXAMPLE_BODY = '{"sender": "customer-42", "message": "hi"}'
IDEMPOTENCY_HEADER = "idempotency-key"  # the message's id when the body names none
RETRY_AFTER_S = 2


class SupportRestInput(RestInput):
    """REST input channel that validates content type, JSON, sender, text and metadata."""

    def __init__(
        self, guard: MessageGuard | None = None, trust: ChannelTrust | None = None
    ) -> None:
        self.guard = guard or MessageGuard()
        self._trust = trust

    @property
    def trust(self) -> ChannelTrust:
        if self._trust is None:
            self._trust = ChannelTrust.from_settings()
        return self._trust

    @classmethod
    def name(cls) -> str:
        return "rest"

    def parse(self, request: Request) -> tuple[dict[str, Any] | None, Rejection | None]:
        session_id = self.trust.sessions.session_of(bearer(request.headers.get("authorization")))
        if session_id is None:
            return None, MISSING_SESSION
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
        if content_type != "application/json":
            return None, Rejection(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {content_type or 'none'!r}. "
                f"Send e.g. {EXAMPLE_BODY} as JSON.",
                "",
            )
        try:
            # Lone surrogates are allowed here: the guard drops them from the text and
            # refuses metadata that holds one.
            body = read_json(request.body or b"")
        except JSONBodyError as e:
            return None, Rejection(
                400,
                e.code,  # invalid_json, json_too_deep
                f"{e.message} A request looks like {EXAMPLE_BODY}.",
                "",
            )
        if not isinstance(body, dict):
            return None, Rejection(
                400,
                "invalid_body",
                f"The JSON body must be an object, got {type(body).__name__}.",
                "",
            )
        body.setdefault("sender", session_id)
        body.setdefault("message_id", request.headers.get(IDEMPOTENCY_HEADER))
        rejection = (
            self.guard.check_sender(body.get("sender"))
            or self.guard.check_message_id(body.get("message_id"))
            or self.guard.check_text(body.get("message"))
            or self.guard.check_metadata(body.get("metadata"))
        )
        if rejection is None and body["sender"] != session_id:
            rejection = NOT_YOUR_CONVERSATION
        if rejection is None:
            rejection = self.trust.check_rate(client_address(request), session_id)
        body["metadata"] = self.trust.vouched(body.get("metadata"))
        return body, rejection

    def input_channel_of(self, body: dict[str, Any]) -> str:
        """The channel name the body gives (as Rasa's REST channel allows), else ours; never
        a messaging channel's (agents' replies would go out through that platform)."""
        given = body.get("input_channel")
        if not isinstance(given, str) or not given.isprintable() or not given:
            return self.name()
        return self.name() if given in MESSAGING_CHANNELS else given

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        turns = MessageCoalescer(
            on_new_message, max_chars=self.guard.max_chars, prepare=prepare_turn
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            issued = self.trust.new_session(client_address(request))
            if isinstance(issued, Rejection):
                return response.json(issued.as_json(), status=issued.status)
            session_id, token = issued
            return response.json({"session_id": session_id, "token": token})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body, rejection = self.parse(request)
            if rejection is not None or body is None:
                assert rejection is not None
                return response.json(rejection.as_json(), status=rejection.status)
            collector = CollectingOutputChannel()
            message = UserMessage(
                self.guard.clean(body["message"]),
                collector,
                body["sender"],
                input_channel=self.input_channel_of(body),
                message_id=body.get("message_id"),
                metadata=body.get("metadata"),
            )
            turn = turns.submit(message)
            if isinstance(turn, Rejection):
                return response.json(turn.as_json(), status=turn.status)
            try:
                # Shielded: the turn also answers the other messages merged into it, so a
                # caller that goes away must not cancel it.
                handled = await asyncio.shield(turn)
            except CancelledError:
                logger.error("rest: handling the message of %s timed out", body["sender"])
                if not collector.messages:  # nothing to show: say so, and how to go on
                    return response.json(
                        {
                            "error": "timed_out",
                            "message": "The assistant took too long with this message. "
                            "Please send it again.",
                        },
                        status=503,
                    )
                return response.json(collector.messages)
            except Exception as e:
                logger.exception("rest: handling the message of %s failed", body["sender"])
                if is_outage(e):  # a database or Redis restarting: nothing was stored
                    return response.json(
                        {"error": "unavailable", "message": RETRY_PROMPT},
                        status=503,
                        headers={"Retry-After": str(RETRY_AFTER_S)},
                    )
                return response.json(
                    {
                        "error": "internal_error",
                        "message": "The assistant failed to handle this message; it was "
                        "logged. Try again in a moment.",
                    },
                    status=500,
                )
            output = handled.output_channel
            assert isinstance(output, CollectingOutputChannel)
            return response.json(output.messages)

        return webhook


def is_outage(error: BaseException) -> bool:
    """Whether a turn failed because a server it needs is unreachable for now (the
    tracker store's database, the lock store's Redis): the turn stored nothing, and the
    same message sent again in a moment goes through."""
    import sqlalchemy as sa
    from rasa.core.lock_store import LockError

    return isinstance(error, (LockError, sa.exc.OperationalError, sa.exc.InterfaceError)) or (
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    )


def client_address(request: Request) -> str:
    """The client's address: Sanic's forwarded address when a proxy is configured
    (FORWARDED_SECRET, REAL_IP_HEADER or PROXIES_COUNT), else the socket's peer."""
    return str(request.remote_addr or request.ip or "unknown")


MISSING_SESSION = Rejection(
    401,
    "missing_session_token",
    "Each message needs `Authorization: Bearer <token>` for its conversation: "
    'POST /webhooks/rest/session answers {"session_id": ..., "token": ...}; send '
    'the session id as "sender" (or leave it out) and the token with every message.',
    "",
)
NOT_YOUR_CONVERSATION = Rejection(
    403,
    "wrong_conversation",
    'The "sender" is not the conversation this session token was issued for; leave '
    '"sender" out, or send the session id the token came with.',
    "",
)
