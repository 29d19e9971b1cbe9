"""A message sent again is answered from its stored turn, not run twice.

A client that got no answer sends its message again: the connection broke, a Rasa
server was killed mid-turn, or the load balancer retried it on another server. When the
first try's turn was stored (the server died after saving, before answering), running it
again would store the customer's message twice and run its actions twice (a second
refund request, a second handoff). Each message therefore carries an id (the REST
channel's `message_id`, else its `Idempotency-Key` header, which the load balancer
sets; a messaging platform's own
id), and the turn stores it with the user event (`UserUttered.message_id`, and for a
merged turn every id in its metadata, `METADATA_MESSAGE_IDS`).

`install()` makes Rasa's `MessageProcessor` look for the message's ids in the
conversation's stored events before it reads the message, inside the conversation's
lock (so a first try still running on another server has finished and stored its turn,
or died storing nothing). All found: the bot messages of that turn (up to its
`action_listen`; an agent's messages after it are not part of it) are sent again, and
nothing is stored or run. None found: the turn runs as usual. Some found (a merged
message, one of whose messages was answered before): the turn runs with the others only.
The check reads the tracker Rasa loads for the turn anyway (no extra query) before NLU,
so a replayed message costs no model time. Only the conversation's current session is
read: a message sent again after its session ended runs again.

Replies are sent as the tracker holds them: on a server that loaded it from the
database, with the personal data the store redacts as placeholders ("[EMAIL]").
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered

from core.constants import MERGE_SEPARATOR, METADATA_MESSAGE_IDS

logger = logging.getLogger(__name__)

INSTALLED = "_brightbasket_replays_turns"
# On a merged message (bot.channels.coalescer): [(id, text), ...] of the messages in it,
# in order; not stored, only read here.
PARTS_ATTRIBUTE = "_brightbasket_parts"
# Set while our `handle_message` runs: only a customer's message is checked (Rasa's
# HTTP API logs messages through the same method, and has no replies to send).
_checking: contextvars.ContextVar[bool] = contextvars.ContextVar("replay_check", default=False)


def message_ids(message: UserMessage) -> list[str]:
    """The ids of the customer messages `message` answers, in order: those merged into
    it, else its own."""
    parts = getattr(message, PARTS_ATTRIBUTE, None)
    if parts:
        return [message_id for message_id, _ in parts]
    merged = (message.metadata or {}).get(METADATA_MESSAGE_IDS)
    if isinstance(merged, list) and merged:
        return [i for i in merged if isinstance(i, str) and i]
    return [message.message_id] if message.message_id else []


def stored_ids(event: UserUttered) -> set[str]:
    ids = {event.message_id} if event.message_id else set()
    merged = (event.metadata or {}).get(METADATA_MESSAGE_IDS)
    if isinstance(merged, list):
        ids.update(i for i in merged if isinstance(i, str))
    return ids


def stored_replies(events: Iterable[Event], ids: Iterable[str]) -> list[dict[str, Any]] | None:
    """The bot messages of the turn that answered the (latest) user event holding one of
    `ids`, as Rasa sent them (possibly none: a conversation an agent holds); what came
    after that turn (an agent's messages) is not part of it. None when no stored user
    event holds one of them."""
    wanted = set(ids)
    if not wanted:
        return None
    events = list(events)  # a tracker's are a deque
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and wanted & stored_ids(event):
            replies = []
            for later in events[index + 1 :]:
                if isinstance(later, UserUttered) or (
                    isinstance(later, ActionExecuted) and later.action_name == ACTION_LISTEN_NAME
                ):
                    break  # the turn ended
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


def unanswered(message: UserMessage, events: Sequence[Event]) -> list[str] | None:
    """Which of the message's ids the stored events do not hold: all of them (a new
    message), none (answered before: `[]`), or some, of a merged message. None: the
    message has no id."""
    ids = message_ids(message)
    if not ids:
        return None
    stored: set[str] = set()
    for event in events:
        if isinstance(event, UserUttered):
            stored |= stored_ids(event)
    return [i for i in ids if i not in stored]


def keep_only(message: UserMessage, ids: list[str]) -> None:
    """Make a merged message the messages `ids` only (the others were answered before),
    when it knows its parts; else leave it whole (their texts are then stored twice,
    rather than a new one lost)."""
    parts = getattr(message, PARTS_ATTRIBUTE, None)
    if not parts:
        return
    kept = [(i, text) for i, text in parts if i in ids]
    message.text = MERGE_SEPARATOR.join(text for _, text in kept)
    message.metadata = {**(message.metadata or {}), METADATA_MESSAGE_IDS: [i for i, _ in kept]}
    setattr(message, PARTS_ATTRIBUTE, kept)


class AlreadyAnswered(Exception):
    """The message's turn is stored: `replies` answered it."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        super().__init__("this message was answered before")
        self.replies = replies


def install() -> None:
    """Have Rasa's `MessageProcessor` answer a message whose turn is stored from that
    turn (once per process)."""
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor, INSTALLED, False):
        return
    log_with_tracker = MessageProcessor._handle_message_with_tracker
    handle = MessageProcessor.handle_message

    async def _handle_message_with_tracker(
        self: MessageProcessor, message: UserMessage, tracker: Any
    ) -> None:
        if _checking.get():
            events = list(tracker.events)
            left = unanswered(message, events)
            if left == []:
                replies = stored_replies(events, message_ids(message)[-1:])
                raise AlreadyAnswered(replies or [])
            if left and len(left) < len(message_ids(message)):
                keep_only(message, left)
        await log_with_tracker(self, message, tracker)

    async def handle_message(
        self: MessageProcessor, message: UserMessage
    ) -> list[dict[str, Any]] | None:
        checking = _checking.set(True)
        try:
            return await handle(self, message)
        except AlreadyAnswered as answered:
            logger.info(
                "a message of %s was answered before; sending its %d stored replies",
                message.sender_id,
                len(answered.replies),
            )
            output = message.output_channel
            for reply in answered.replies:
                await output.send_response(message.sender_id, dict(reply))
            return output.messages if isinstance(output, CollectingOutputChannel) else None
        finally:
            _checking.reset(checking)

    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    MessageProcessor.handle_message = handle_message
    setattr(MessageProcessor, INSTALLED, True)
