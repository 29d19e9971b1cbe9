"""`MessagingInput` and `MessagingOutput`: what the four messaging channels share.

Rasa's own connectors for Telegram, Slack, Twilio and Messenger cannot face the internet
as they are (no or weak signature checks, redeliveries processed again, blocking API
clients; see docs/channels.md). Ours keep their names, webhook paths
(`/webhooks/<name>/webhook`) and `credentials.yml` keys, and do each request the same way:

1. **Verify** it (`verify`): the platform's signature or secret, compared in constant
   time. A request that fails gets 401 or 403, and nothing is stored.
2. **Parse** it into `InboundMessage`s (`parse`), each with the platform's id of it.
3. **Store** them in the durable inbox (`bot.channels.inbox`), all of a request or none,
   a redelivery skipped; **acknowledge** (200) at once.
4. A worker in the Rasa server then runs each message through Rasa, one conversation at
   a time and in order, and sends the replies through the platform's API
   (`MessagingOutput`, `bot.channels.platform_api`). A message acknowledged before a
   restart is answered after it; one whose turn Rasa already stored before a crash is
   not run again, only its replies are sent (`bot.replayed_turns`, by the message's id).

Agents' replies reach the customer the same way: the web front appends them to the
conversation through Rasa's HTTP API with `output_channel=latest`, and Rasa sends them
with this channel's `get_output_channel()`. A reply the platform does not take makes
that call fail, so the console tells the agent it was not delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import jwt
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import MessageGuard
from bot.channels.inbox import LEASE_SECONDS, ChannelInbox, InboundMessage, Leased
from bot.channels.platform_api import PlatformAPI
from bot.channels.trust import bearer
from bot.rasa_server import JWT_METHOD
from core.constants import (
    CUSTOM_AGENT_NAME,
    CUSTOM_SENDER,
    CUSTOM_TEXT,
    EVENT_BOT,
    EVENT_USER,
    SENDER_AGENT,
)
from core.json_body import JSONBodyError
from core.rate_limit import RateLimiter
from core.settings import Settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a platform's webhook request; real ones are a few KB
POLL_SECONDS = 1.0  # the worker looks for messages left by another process this often
CLEANUP_SECONDS = 3600.0  # answered messages past KEEP_DONE_SECONDS are deleted this often
MAX_IN_FLIGHT = 16  # conversations one server runs at once
MESSAGES_PER_CONVERSATION_PER_MINUTE = 30
AGENT_ATTEMPTS = 2  # an agent's reply: the console waits at most 15 s for Rasa
AGENT_MAX_WAIT_SECONDS = 2.0
AGENT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SLOW_DOWN_SECONDS = 60.0  # "slow down" at most this often per conversation
CHARGED_IDS = 10_000
SORRY = (
    "Sorry — something went wrong on our side and I couldn't answer that. Please send "
    "your message again in a minute."
)
SLOW_DOWN = (
    "You're sending messages faster than I can read them — give me a few seconds, then "
    "send your message again."
)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One bot or agent message, as every platform can show it."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    from_agent: bool = False  # a person's message (Messenger tags it HUMAN_AGENT)


def reply_of(message: dict[str, Any]) -> Reply | None:
    """What to send for one of Rasa's bot messages (`text`, `buttons`, `quick_replies`,
    `image`, `custom`); None when it has nothing for a messaging app (a web chat's status
    payload without text)."""
    text = str(message.get("text") or "")
    custom = message.get("custom")
    from_agent = False
    if isinstance(custom, dict):
        data = custom.get("data", custom)
        if isinstance(data, dict) and data.get(CUSTOM_SENDER) == SENDER_AGENT:
            name = str(data.get(CUSTOM_AGENT_NAME) or "Support")
            text = f"{name}: {data.get(CUSTOM_TEXT) or text}"
            from_agent = True
    image = message.get("image")
    if isinstance(image, str) and image:
        text = f"{text}\n{image}" if text else image
    buttons = [
        Button(str(b.get("title") or b.get("payload")), str(b.get("payload") or b.get("title")))
        for b in (message.get("buttons") or message.get("quick_replies") or [])
        if isinstance(b, dict) and (b.get("title") or b.get("payload"))
    ]
    if not text.strip() and not buttons:
        return None
    return Reply(text.strip(), buttons, from_agent)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at a paragraph, line, sentence
    or word end where there is one in the second half of a part."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", ". ", "! ", "? ", " "):
            found = window.rfind(separator)
            if found >= limit // 2:
                cut = found + len(separator.rstrip(" ")) if separator != " " else found
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class MessagingOutput(OutputChannel):
    """Sends Rasa's responses through a platform's API; each platform renders a `Reply`
    its own way (`send_reply`)."""

    def __init__(self, api: PlatformAPI) -> None:
        self.api = api

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = reply_of(message)
        if reply is not None:
            await self.send_reply(self.recipient(recipient_id), reply)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_reply(self.recipient(recipient_id), Reply(text))

    async def send_reply(self, recipient: str, reply: Reply) -> None:
        raise NotImplementedError

    def recipient(self, conversation_id: str) -> str:
        """The platform's address of a conversation: its id after the channel's prefix."""
        return conversation_id.split("-", 1)[1] if "-" in conversation_id else conversation_id


class Refused(Exception):
    """A request that failed verification: `status` 401 (no credentials) or 403 (wrong)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class MessagingInput(InputChannel):
    """A platform's webhook: verify, parse, store, acknowledge; then answer, in order."""

    settings: Settings

    def __init__(self, settings: Settings, guard: MessageGuard | None = None) -> None:
        self.settings = settings
        self.guard = guard or MessageGuard(settings.max_message_chars)
        self.inbox = ChannelInbox(settings.store_url)
        self.per_conversation = RateLimiter(
            MESSAGES_PER_CONVERSATION_PER_MINUTE / 60.0, MESSAGES_PER_CONVERSATION_PER_MINUTE
        )
        self._output: MessagingOutput | None = None
        self._agent_output: MessagingOutput | None = None
        self._wake: asyncio.Event | None = None
        # Platform ids already counted against the rate, and when each conversation was
        # last asked to slow down.
        self._charged: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._warned: dict[str, float] = {}

    # -- what each platform provides ----------------------------------------------------
    def verify(self, request: Request) -> None:
        """Raise `Refused` unless the request provably comes from the platform."""
        raise NotImplementedError

    def parse(self, request: Request) -> list[InboundMessage] | HTTPResponse:
        """The customer messages of a verified request, or a response of its own (a
        platform's URL check)."""
        raise NotImplementedError

    def make_output(self) -> MessagingOutput:
        raise NotImplementedError

    async def interpret(self, message: Leased, app: Any) -> str:
        """The text Rasa reads for `message` (a platform without buttons maps "2" to the
        second button of the last question here)."""
        return message.text

    def identify(self, message: Leased) -> dict[str, Any]:
        """Metadata about who wrote it, from proof only (the Twilio channel: the sender's
        verified phone number)."""
        return {}

    def subscription(self, request: Request) -> HTTPResponse:
        """GET on the webhook: a platform's subscription check (Messenger's)."""
        return error(405, "method_not_allowed", "POST the platform's updates here.")

    def confirm_receipt(self, request: Request) -> HTTPResponse:
        """What the platform is answered once its messages are stored."""
        return response.json({"ok": True})

    # -- shared ---------------------------------------------------------------------------
    def get_output_channel(self) -> OutputChannel:
        """What Rasa sends with outside a turn of ours: an agent's reply from the console
        (Rasa's HTTP API with output_channel=latest). Two quick tries: the agent is
        waiting, and is told when it did not go out."""
        if self._agent_output is None:
            self._agent_output = self.make_output()
            self._agent_output.api.attempts = AGENT_ATTEMPTS
            self._agent_output.api.max_wait_seconds = AGENT_MAX_WAIT_SECONDS
            self._agent_output.api.timeout = AGENT_TIMEOUT
        return self._agent_output

    def worker_output(self) -> MessagingOutput:
        """What the worker sends the bot's replies with: patient retries."""
        if self._output is None:
            self._output = self.make_output()
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel = self.name()
        webhook = Blueprint(f"messaging_webhook_{channel}", __name__)
        state: dict[str, Any] = {}

        @webhook.listener("after_server_start")
        async def start_worker(app: Any, _: Any) -> None:
            self._wake = asyncio.Event()
            state["app"] = app
            state["worker"] = asyncio.create_task(self.work(on_new_message, app))
            logger.info("%s: channel on; answering from the inbox", channel)

        @webhook.listener("before_server_stop")
        async def stop_worker(app: Any, _: Any) -> None:
            worker = state.get("worker")
            if worker is not None:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            """Public: up or not. With Rasa's API token (`bot.rasa_server.api_headers`):
            the inbox's counts, undelivered replies included."""
            if not self.operator(request):
                return response.json({"status": "ok"})
            counts = await asyncio.to_thread(self.inbox.counts, channel)
            return response.json({"status": "ok", "channel": channel, "inbox": counts})

        @webhook.route("/webhook", methods=["GET"])
        async def subscribe(request: Request) -> HTTPResponse:
            return self.subscription(request)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return error(413, "body_too_large", f"The body exceeds {MAX_BODY_BYTES} bytes.")
            try:
                self.verify(request)
            except Refused as refused:
                logger.warning("%s: refused a webhook request: %s", channel, refused.message)
                return error(refused.status, refused.code, refused.message)
            try:
                parsed = self.parse(request)
            except (Refused, JSONBodyError) as bad:
                status = bad.status if isinstance(bad, Refused) else 400
                logger.warning("%s: a verified request it cannot read: %s", channel, bad)
                return error(status, bad.code, str(bad))
            if isinstance(parsed, HTTPResponse):
                return parsed
            messages = [self.checked(m) for m in parsed if fits(m)]
            try:
                new = await asyncio.to_thread(self.inbox.accept, channel, messages)
            except Exception:
                logger.exception("%s: could not store a delivery; the platform retries", channel)
                return error(503, "unavailable", "Could not store the messages; retry.")
            if new and self._wake is not None:
                self._wake.set()
            return self.confirm_receipt(request)

        return webhook

    def operator(self, request: Request) -> bool:
        """Whether the request carries a valid JWT for Rasa's HTTP API."""
        token = bearer(request.headers.get("authorization"))
        if not token or not self.settings.rasa_api_token:
            return False
        try:
            jwt.decode(token, self.settings.rasa_api_token, algorithms=[JWT_METHOD])
        except jwt.PyJWTError:
            return False
        return True

    def checked(self, message: InboundMessage) -> InboundMessage:
        """The message with the guard's cleaning, or with what to tell the customer
        instead of running it (empty, too long, too many). A platform's redelivery is not
        counted against the rate again; past the rate, the customer is asked to slow down
        once a minute, and what else they send meanwhile is dropped silently."""
        refusal = self.guard.check_text(message.text)
        if refusal is not None:
            return with_refusal(message, refusal.reply or SORRY)
        key = (message.conversation_id, message.external_id)
        first_time = key not in self._charged
        self._charged[key] = None
        while len(self._charged) > CHARGED_IDS:
            self._charged.popitem(last=False)
        if first_time and not self.per_conversation.allow(message.conversation_id):
            now = time.monotonic()
            if now - self._warned.get(message.conversation_id, -SLOW_DOWN_SECONDS) < (
                SLOW_DOWN_SECONDS
            ):
                return with_refusal(message, "")
            self._warned[message.conversation_id] = now
            return with_refusal(message, SLOW_DOWN)
        return InboundMessage(
            message.external_id,
            message.conversation_id,
            self.guard.clean(message.text),
            message.metadata,
        )

    async def work(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> None:
        """Answer the inbox's messages until cancelled: each conversation in order, up to
        MAX_IN_FLIGHT conversations at once."""
        channel = self.name()
        busy: dict[str, asyncio.Task[None]] = {}
        assert self._wake is not None
        next_cleanup = time.monotonic()
        while True:
            self._wake.clear()  # before looking: a message stored from now on wakes us
            free = MAX_IN_FLIGHT - len(busy)
            try:
                taken = (
                    await asyncio.to_thread(self.inbox.lease, channel, set(busy), None, free)
                    if free > 0
                    else []
                )
                if time.monotonic() >= next_cleanup:
                    next_cleanup = time.monotonic() + CLEANUP_SECONDS
                    await asyncio.to_thread(self.inbox.forget_done)
            except Exception:
                logger.exception("%s: the inbox cannot be read; trying again", channel)
                taken = []
            for message in taken:
                task = asyncio.create_task(self.answer(message, on_new_message, app))
                busy[message.conversation_id] = task
                task.add_done_callback(partial(self._done, busy, message.conversation_id))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    def _done(self, busy: dict[str, asyncio.Task[None]], conversation: str, _: Any) -> None:
        busy.pop(conversation, None)
        if self._wake is not None:
            self._wake.set()  # its next message may be waiting

    async def answer(
        self,
        message: Leased,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any,
    ) -> None:
        """Run one message through Rasa and send the replies; never raises."""
        output = self.worker_output()
        started = time.monotonic()
        holding = asyncio.create_task(self.hold(message))
        try:
            await self._answer(message, output, on_new_message, app)
        except Exception as e:
            logger.exception("%s: answering %s failed", self.name(), message.message_id)
            with contextlib.suppress(Exception):  # else its lease runs out: taken again
                await asyncio.to_thread(
                    self.inbox.fail, message, f"{type(e).__name__}: {e}", 5.0 * message.attempts
                )
        finally:
            holding.cancel()
        logger.debug(
            "%s: answered %s in %.2f s", self.name(), message.message_id, time.monotonic() - started
        )

    async def hold(self, message: Leased) -> None:
        """Renew the message's lease while its turn runs."""
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                await asyncio.to_thread(self.inbox.renew, message)
            except Exception:
                logger.exception("%s: could not renew the lease of %s", self.name(), message.id)

    async def _answer(
        self,
        message: Leased,
        output: MessagingOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any,
    ) -> None:
        try:
            if REFUSAL_KEY in message.metadata:
                refusal = str(message.metadata[REFUSAL_KEY] or "")
                replies: list[dict[str, Any]] = [{"text": refusal}] if refusal else []
            else:
                # A message whose turn was stored before a restart is answered from
                # that turn (bot.replayed_turns), by its id.
                replies = await self.run_turn(message, on_new_message, app)
        except Exception as e:
            logger.exception("%s: handling %s failed", self.name(), message.message_id)
            again = await asyncio.to_thread(
                self.inbox.fail, message, f"{type(e).__name__}: {e}", 5.0 * message.attempts
            )
            if not again:
                await self.deliver(output, message, [{"text": SORRY}])
            return
        problem = await self.deliver(output, message, replies)
        await asyncio.to_thread(self.inbox.finish, message, problem)

    async def run_turn(
        self,
        message: Leased,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any,
    ) -> list[dict[str, Any]]:
        collector = CollectingOutputChannel()
        metadata = dict(message.metadata)
        metadata.update(await asyncio.to_thread(self.identify, message))
        await on_new_message(
            UserMessage(
                await self.interpret(message, app),
                collector,
                message.conversation_id,
                input_channel=self.name(),
                message_id=message.message_id,
                metadata=metadata,
            )
        )
        return collector.messages

    async def deliver(
        self, output: MessagingOutput, message: Leased, replies: Iterable[dict[str, Any]]
    ) -> str | None:
        """Send the replies in order; the first failure is logged and returned (the rest
        are still tried: a later message may go through)."""
        problem = None
        for reply in replies:
            try:
                await output.send_response(message.conversation_id, dict(reply))
            except Exception as e:  # DeliveryFailed, or a platform answer we cannot read
                logger.error(
                    "%s: a reply to %s was not delivered: %s", self.name(), message.message_id, e
                )
                problem = problem or f"{type(e).__name__}: {e}"
        return problem


def fits(message: InboundMessage) -> bool:
    """Whether the platform's ids fit the inbox (200 characters; real ones are short)."""
    if len(message.external_id) <= MAX_ID_CHARS and len(message.conversation_id) <= MAX_ID_CHARS:
        return True
    logger.warning("a message with an over-long platform id was dropped")
    return False


MAX_ID_CHARS = 200
REFUSAL_KEY = "_refusal"  # inbox metadata: what to tell the customer instead of a turn


def with_refusal(message: InboundMessage, reply: str) -> InboundMessage:
    return InboundMessage(message.external_id, message.conversation_id, "", {REFUSAL_KEY: reply})


async def tracker_events(app: Any, conversation_id: str) -> list[dict[str, Any]]:
    tracker = await app.ctx.agent.tracker_store.retrieve(conversation_id)
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]


def last_buttons(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons of the bot's latest message, if the customer has not answered since."""
    for event in reversed(events):
        if event.get("event") == EVENT_USER:
            return []
        if event.get("event") == EVENT_BOT:
            buttons = (event.get("data") or {}).get("buttons") or []
            return [b for b in buttons if isinstance(b, dict)]
    return []


NUMBER_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)
