"""`MessageCoalescer`: one turn at a time per conversation, without a queue of turns.

Rasa runs the turns of one conversation one after another (its lock store), about a
second each here. Twenty messages sent at once to one conversation therefore waited for
all those before them: the last one about twenty seconds. The coalescer sits in front:
while a turn of a conversation runs, the messages that arrive for it wait; when the turn
ends, all of them become ONE user message, their texts joined by newlines in arrival
order, and ONE turn. A conversation thus runs at most two turns' time behind, however
many messages arrive at once, and its tracker keeps every text, in order.

Every message of a merged turn resolves with the merged `UserMessage`: its output
channel (the last caller's) holds the reply of that turn, which each caller then sends
back. A message that arrives while no turn runs is handled alone and at once, as before.

A message sent again while its first try waits or runs (same sender, same
`message_id`) is not queued again: it resolves with the first try's turn. The ids of a
merged turn's messages go with it (`METADATA_MESSAGE_IDS`), so each of them is known as
answered later (`bot.replayed_turns`).

Intent payloads (`/request_human`, a clicked button) are never merged: Rasa reads them
only as a whole message, so each is a turn of its own.

Before a turn runs, `prepare` (when given) gets its message: the channels pass
`prepare_turn`, which has the shared encoder encode the text on its worker thread,
batched with other conversations' texts (nlu/encoder.py), so the model work of the turn
is done off Rasa's event loop.

The state is per Rasa server process, in memory, and bounded: at most
`MAX_QUEUED_MESSAGES` messages, and `max_chars` characters joined, wait per
conversation; a message beyond that is refused with `TOO_MANY_MESSAGES` (429).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX

from bot.channels.guard import Rejection
from bot.replayed_turns import PARTS_ATTRIBUTE
from core.constants import MERGE_SEPARATOR, METADATA_MESSAGE_IDS

logger = logging.getLogger(__name__)

# Messages of one conversation that may wait for the running turn. Beyond it the sender
# is refused (429) rather than queued without bound.
MAX_QUEUED_MESSAGES = 20
# How long a turn waits for `prepare` before it runs anyway.
PREPARE_TIMEOUT_S = 10.0

TOO_MANY_MESSAGES = Rejection(
    429,
    "too_many_messages",
    f"Too many messages to this conversation are waiting for the assistant's answer "
    f"(at most {MAX_QUEUED_MESSAGES}, and MAX_MESSAGE_CHARS characters in all). "
    "Wait for the reply to those, then send this one again.",
    "You're sending messages faster than I can read them. Give me a moment to answer "
    "what you've sent so far.",
)


@dataclass
class _Waiting:
    message: UserMessage
    answered: asyncio.Future[UserMessage]


class MessageCoalescer:
    """Run the messages of each sender one turn at a time, merging those that wait.

    `handle` runs one turn (the channel's `on_new_message`). `submit` returns a future
    that resolves with the `UserMessage` that was handled for this message (itself, or
    the merge it became part of), or `TOO_MANY_MESSAGES` when the sender's queue is
    full. Must be used from one event loop (Sanic's).

        coalescer = MessageCoalescer(on_new_message, max_chars=5000)
        turn = coalescer.submit(message)
        if isinstance(turn, Rejection): ...        # 429
        handled = await asyncio.shield(turn)
        reply = handled.output_channel.messages    # CollectingOutputChannel
    """

    def __init__(
        self,
        handle: Callable[[UserMessage], Awaitable[Any]],
        *,
        max_chars: int,
        max_queued: int = MAX_QUEUED_MESSAGES,
        prepare: Callable[[UserMessage], Awaitable[None]] | None = None,
    ) -> None:
        self.handle = handle
        self.prepare = prepare
        self.max_chars = max_chars
        self.max_queued = max_queued
        self._waiting: dict[str, deque[_Waiting]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        # (sender, message id) -> the future of that message, while it waits or runs
        self._pending: dict[tuple[str, str], asyncio.Future[UserMessage]] = {}

    def submit(self, message: UserMessage) -> asyncio.Future[UserMessage] | Rejection:
        sender = message.sender_id
        key = (sender, message.message_id)
        if key in self._pending:  # sent again while its first try waits or runs
            return self._pending[key]
        queue = self._waiting.setdefault(sender, deque())
        queued_chars = sum(len(w.message.text or "") + 1 for w in queue)
        if len(queue) >= self.max_queued or (
            queue and queued_chars + len(message.text or "") > self.max_chars
        ):
            logger.warning(
                "%d messages of %s are already waiting for its turn; refusing one more",
                len(queue),
                sender,
            )
            return TOO_MANY_MESSAGES
        answered: asyncio.Future[UserMessage] = asyncio.get_running_loop().create_future()
        # A caller that went away (client disconnected) never reads its future; reading
        # the outcome here keeps asyncio from logging "exception was never retrieved".
        answered.add_done_callback(_consume)
        self._pending[key] = answered
        answered.add_done_callback(lambda _: self._pending.pop(key, None))
        queue.append(_Waiting(message, answered))
        if sender not in self._workers:
            self._workers[sender] = asyncio.create_task(self._run(sender))
        return answered

    def waiting(self, sender: str) -> int:
        """How many messages of `sender` wait for a turn (not counting the running one)."""
        return len(self._waiting.get(sender, ()))

    async def _run(self, sender: str) -> None:
        queue = self._waiting[sender]
        batch: list[_Waiting] = []
        try:
            while queue:
                batch = self._next_batch(queue)
                handled = batch[0].message if len(batch) == 1 else merge(batch)
                if len(batch) > 1:
                    logger.info(
                        "merged %d waiting messages of %s into one turn", len(batch), sender
                    )
                await self._prepare(handled)
                try:
                    await self.handle(handled)
                except Exception as e:  # every caller of the turn reports it
                    for waiting in batch:
                        if not waiting.answered.done():
                            waiting.answered.set_exception(e)
                else:
                    for waiting in batch:
                        if not waiting.answered.done():
                            waiting.answered.set_result(handled)
                batch = []
        finally:  # also on cancellation (server shutdown): no caller waits forever
            for waiting in [*batch, *queue]:
                waiting.answered.cancel()
            queue.clear()
            del self._workers[sender]
            del self._waiting[sender]

    async def _prepare(self, message: UserMessage) -> None:
        """Run `prepare`; whatever happens there, the turn runs (it then computes what
        was not prepared)."""
        if self.prepare is None:
            return
        try:
            await asyncio.wait_for(self.prepare(message), PREPARE_TIMEOUT_S)
        except Exception:
            logger.warning("preparing the turn of %s failed", message.sender_id, exc_info=True)

    def _next_batch(self, queue: deque[_Waiting]) -> list[_Waiting]:
        """The next turn: the first waiting message, and the plain-text messages after it
        while their joined text stays within `max_chars`."""
        batch = [queue.popleft()]
        if is_payload(batch[0].message):
            return batch
        chars = len(batch[0].message.text or "")
        while queue and not is_payload(queue[0].message):
            more = len(MERGE_SEPARATOR) + len(queue[0].message.text or "")
            if chars + more > self.max_chars:
                break
            chars += more
            batch.append(queue.popleft())
        return batch


async def prepare_turn(message: UserMessage) -> None:
    """Encode the turn's text ahead of its turn, off the event loop (never raises); and
    the texts the emotion scorer reads as its context (the customer's previous message,
    the replies since) when the tracker saved last is at hand and the scorer has not
    seen them: a help-center answer or an agent's message is new text every time."""
    if message.text and not is_payload(message):
        from bot.tracker_store import kept_tracker
        from nlu.emotion_component import turn_context
        from nlu.encoder import prepare_text
        from nlu.scorer import remembered
        from nlu.text import normalise

        tracker = kept_tracker(message.sender_id)
        context = turn_context(tracker) if tracker is not None else None
        extra = [context.previous_customer, context.last_reply] if context else []
        unseen = [t for t in extra if t and not remembered(normalise(t))]
        await prepare_text(message.text, unseen)


def is_payload(message: UserMessage) -> bool:
    """Whether the message is an intent payload (`/greet`, a button), read only whole."""
    return (message.text or "").startswith(INTENT_MESSAGE_PREFIX)


def merge(batch: list[_Waiting]) -> UserMessage:
    """One user message from several of one sender: texts joined in order, metadata
    merged (later keys win) with the ids of all of them, replies to the last message's
    output channel."""
    last = batch[-1].message
    metadata: dict[str, Any] = {}
    for waiting in batch:
        metadata.update(waiting.message.metadata or {})
    metadata[METADATA_MESSAGE_IDS] = [w.message.message_id for w in batch]
    merged = UserMessage(
        MERGE_SEPARATOR.join(w.message.text or "" for w in batch),
        last.output_channel,
        last.sender_id,
        input_channel=last.input_channel,
        metadata=metadata,
    )
    # Which text is whose: a message of it answered before is left out of the turn.
    setattr(merged, PARTS_ATTRIBUTE, [(w.message.message_id, w.message.text or "") for w in batch])
    return merged


def _consume(future: asyncio.Future[UserMessage]) -> None:
    if not future.cancelled():
        future.exception()
