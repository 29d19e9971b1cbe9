"""`SupportSocketIOInput`: Rasa's socket.io channel with the project's input checks.

The web chat (bot/web/) and third-party widgets such as rasa-webchat talk to this
channel. Same events and payloads as Rasa's `socketio` channel; what differs:

- Every `user_uttered` gets an answer. Empty, invisible-only, non-text or over-long
  messages, unreadable metadata and packets that are not readable JSON get a polite chat
  reply and never reach the tracker; nothing a client sends raises in a handler.
- An empty first `user_uttered` after `session_request` (a widget opening without an
  `initPayload`) starts the conversation as `/greet` would.
- Messages that arrive while the conversation's previous turn runs are answered
  together, as one turn (`bot.channels.coalescer`).
- A message may carry a `message_id`; a client that asks for socket.io's
  acknowledgement learns whether it was answered, refused, or failed (a server it needs
  restarting): then it sends the message again with the same id, and a message whose
  turn was stored is answered from that turn, never run twice (`bot.replayed_turns`).
  The web chat does so, and sends again what was unanswered when its socket dropped. A
  message without an id that failed, or one that failed for another reason, gets
  "please send it again" as a reply (and is acknowledged as refused).
- A closed websocket ends its request quietly (see `EngineIOBlueprint`).
- A socket connects only with a session token (`auth: {token}`, issued by the web
  front's `POST /api/chat/session`) and is bound to that token's conversation:
  `session_request` confirms it whatever id the client asks for, and messages go to it.
  Identity metadata counts only from a signed identity token (`bot.channels.trust`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.coalescer import MessageCoalescer, prepare_turn
from bot.channels.guard import MessageGuard, Rejection, has_content
from bot.channels.rest import RETRY_AFTER_S, client_address, is_outage
from bot.channels.trust import ChannelTrust
from core.constants import INTENT_GREET, RETRY_PROMPT
from core.json_body import JSONBodyError, read_json

logger = logging.getLogger(__name__)

GREET_PAYLOAD = f"/{INTENT_GREET}"
UNREADABLE_REPLY = "Sorry, I couldn't read that message. Please reload the page and try again."
# The acknowledgement of a `user_uttered` (socket.io's ack, for a client that asks):
# answered (its replies were sent), refused (the reply said why), or failed (nothing was
# stored: send it again, with the same message_id, after `retry_after` seconds).
ANSWERED = {"status": "answered"}
REFUSED = {"status": "refused"}


class EngineIOBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, with the engine.io route marked as a websocket route.

    python-engineio's Sanic driver registers its endpoint as a plain HTTP route. When a
    websocket on it closes (every browser disconnect), the handler returns None, and
    Sanic 21.12 logs `ERROR Exception occurred while handling uri ... Invalid response
    type None (need HTTPResponse)` (sanic-org/sanic#2105, #2572). Sanic expects None
    from handlers that carry `is_websocket`, as its own websocket routes do; this route
    is one, so it says so. Polling requests still return their HTTP responses. The route
    is the one python-engineio 4.5.1's `create_route` adds for Sanic, plus the mark.
    """

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        sio: AsyncServer = self.ctx.sio

        async def engineio_endpoint(request: Request) -> HTTPResponse | None:
            return await sio.handle_request(request)  # type: ignore[no-any-return]

        engineio_endpoint.is_websocket = True  # type: ignore[attr-defined]
        endpoint = f"/{self.ctx.socketio_path.strip('/')}/"
        app.add_route(engineio_endpoint, endpoint, methods=["GET", "POST", "OPTIONS"])
        app.enable_websocket()
        Blueprint.register(self, app, options)  # not SocketBlueprint's: it would attach again


class SupportSocketServer(AsyncServer):
    """python-socketio's server; a packet that is not readable JSON gets a polite reply.

    Without this, a `user_uttered` nested 10,000 levels deep raised RecursionError while
    the packet was decoded, was logged at ERROR by engine.io and was never answered.
    `_handle_eio_message` is python-socketio's (5.8.0, pinned); event handlers run in
    tasks of their own, so what it raises comes from decoding the client's packet.
    """

    def __init__(self, *args: Any, reply_event: str, namespace: str | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reply_event = reply_event
        self.reply_namespace = namespace or "/"

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as e:  # raised by decoding the client's packet
            logger.warning("socketio: unreadable packet from %s dropped (%r)", eio_sid, e)
            sid = self.manager.sid_from_eio_sid(eio_sid, self.reply_namespace)
            if sid is not None:
                await self.emit(
                    self.reply_event,
                    {"text": UNREADABLE_REPLY},
                    room=sid,
                    namespace=self.reply_namespace,
                )


class SupportSocketIOInput(SocketIOInput):
    """socket.io input channel; checks every message before Rasa handles it."""

    guard: MessageGuard

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SupportSocketIOInput:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, SupportSocketIOInput)
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        guard = getattr(self, "guard", None) or MessageGuard()
        trust = getattr(self, "trust", None) or ChannelTrust.from_settings()
        # Rasa's workaround for other origins (python-socketio#205): CORS is left to Sanic.
        sio = SupportSocketServer(
            async_mode="sanic",
            cors_allowed_origins=[],
            reply_event=self.bot_message_evt,
            namespace=self.namespace,
        )
        self.sio = sio  # get_output_channel() sends agent replies through it
        blueprint = EngineIOBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        turns = MessageCoalescer(on_new_message, max_chars=guard.max_chars, prepare=prepare_turn)
        # Sockets that sent a user_uttered since their last session_request.
        spoken: set[str] = set()
        # Each socket's conversation (from its session token) and client address.
        bound: dict[str, tuple[str, str]] = {}

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: Any) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            session_id = trust.sessions.session_of(token)
            if session_id is None:
                logger.info("socketio: a connection without a valid session token refused")
                return False
            request = environ.get("sanic.request")
            address = client_address(request) if request is not None else "unknown"
            bound[sid] = (session_id, address)
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            spoken.discard(sid)
            bound.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            if sid not in bound:
                return
            session_id = bound[sid][0]  # the token's conversation, whatever was asked
            if self.session_persistence:
                sio.enter_room(sid, session_id)
            spoken.discard(sid)
            await sio.emit("session_confirm", session_id, room=sid)

        async def reply(recipient: str, rejection: Rejection | None) -> None:
            text = rejection.reply if rejection is not None and rejection.reply else None
            output = SocketIOOutput(sio, self.bot_message_evt)
            await output.send_text_message(recipient, text or UNREADABLE_REPLY)

        async def receive(sid: str, data: Any) -> dict[str, Any] | None:
            """Handle one `user_uttered`; what the client's acknowledgement gets."""
            if not isinstance(data, dict):
                await reply(sid, None)
                return REFUSED
            if sid not in bound:
                return REFUSED  # not connected with a session token (cannot happen)
            sender, address = bound[sid]
            text = data.get("message")
            first = sid not in spoken
            spoken.add(sid)
            if first and (text is None or (isinstance(text, str) and not has_content(text))):
                text = GREET_PAYLOAD  # a widget opened without an initPayload
            metadata, rejection = read_metadata(data.get(self.metadata_key, {}))
            message_id = data.get("message_id")
            rejection = rejection or guard.check_message_id(message_id)
            rejection = rejection or guard.check_text(text) or guard.check_metadata(metadata)
            rejection = rejection or trust.check_rate(address, sender)
            metadata = trust.vouched(metadata)
            if rejection is not None or not isinstance(text, str):
                await reply(sender, rejection)
                return REFUSED
            message = UserMessage(
                guard.clean(text),
                SocketIOOutput(sio, self.bot_message_evt),
                sender,
                input_channel=self.name(),
                message_id=message_id,
                metadata=metadata,
            )
            turn = turns.submit(message)
            if isinstance(turn, Rejection):
                await reply(sender, turn)
                return REFUSED
            try:
                # Shielded: the turn may answer other messages too (merged, or this one
                # sent again), so this handler's end must not cancel it.
                await asyncio.shield(turn)
            except Exception as e:
                logger.exception("socketio: handling a message of %s failed", sender)
                if message_id is not None and is_outage(e):
                    # Nothing was stored: the client sends it again, with its id
                    # (answered once however often it arrives: bot.replayed_turns).
                    return {"status": "failed", "retry_after": RETRY_AFTER_S}
                output = SocketIOOutput(sio, self.bot_message_evt)
                await output.send_text_message(sender, RETRY_PROMPT)
                return REFUSED
            return ANSWERED

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> dict[str, Any] | None:
            # python-socketio runs each event in a task nobody awaits: an exception here
            # would only surface as "Task exception was never retrieved". What this
            # returns is the acknowledgement, for a client that asked for one.
            try:
                return await receive(sid, data)
            except Exception:
                logger.exception("socketio: handling a message from %s failed", sid)
                return {"status": "failed", "retry_after": RETRY_AFTER_S}

        return blueprint


def read_metadata(raw: Any) -> tuple[Any, Rejection | None]:
    """The message's metadata; Rasa's channel also accepts it as a JSON string."""
    if not isinstance(raw, str):
        return raw, None
    try:
        return read_json(raw), None
    except JSONBodyError as e:
        return None, Rejection(400, "invalid_metadata", e.message, UNREADABLE_REPLY)
