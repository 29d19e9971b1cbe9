"""A message sent again is answered from its stored turn, not run twice.

A client that got no answer sends its message again: the connection broke, a Rasa
server was killed mid-turn, or the load balancer retried it on another server. When the
first try's turn was stored (the server died after saving, before answering), running it
again would store the customer's message twice and run its actions twice (a second
refund request, a second handoff). Each message therefore carries an id (the REST
channel's `message_id`, else the load balancer's request id; a messaging platform's own
id), and the turn stores it with the user event (`UserUttered.message_id`, and for a
merged turn every id in its metadata, `METADATA_MESSAGE_IDS`).

`install()` makes Rasa's `MessageProcessor` look for the message's id in the
conversation's stored events before it reads the message, inside the conversation's
lock (so a first try still running on another server has finished and stored its turn,
or died storing nothing). Found: the replies stored after that user event are sent
again, and nothing is stored or run. Not found: the turn runs as usual. The check reads
the tracker Rasa loads for the turn anyway (no extra query) before NLU, so a replayed
message costs no model time.

Replies are sent as stored: with the personal data the store redacts ("[EMAIL]") in
placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, Event, UserUttered

from core.constants import METADATA_MESSAGE_IDS

INSTALLED = "_brightbasket_replays_turns"


def message_ids(message: UserMessage) -> set[str]:
    """The ids of the customer messages `message` answers: its own, and those merged into
    it."""
    ids = {message.message_id} if message.message_id else set()
    merged = (message.metadata or {}).get(METADATA_MESSAGE_IDS)
    if isinstance(merged, list):
        ids.update(i for i in merged if isinstance(i, str) and i)
    return ids


def stored_ids(event: UserUttered) -> set[str]:
    ids = {event.message_id} if event.message_id else set()
    merged = (event.metadata or {}).get(METADATA_MESSAGE_IDS)
    if isinstance(merged, list):
        ids.update(i for i in merged if isinstance(i, str))
    return ids


def stored_replies(events: Iterable[Event], ids: Iterable[str]) -> list[dict[str, Any]] | None:
    """The bot messages that answered the user event holding one of `ids` (possibly
    none: a conversation an agent holds), as Rasa sends them; None when no stored user
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
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


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
        replies = stored_replies(tracker.events, message_ids(message))
        if replies is not None:
            raise AlreadyAnswered(replies)
        await log_with_tracker(self, message, tracker)

    async def handle_message(
        self: MessageProcessor, message: UserMessage
    ) -> list[dict[str, Any]] | None:
        try:
            return await handle(self, message)
        except AlreadyAnswered as answered:
            import logging

            logging.getLogger(__name__).info(
                "a message of %s was answered before; sending its %d stored replies",
                message.sender_id,
                len(answered.replies),
            )
            output = message.output_channel
            for reply in answered.replies:
                await output.send_response(message.sender_id, dict(reply))
            return output.messages if isinstance(output, CollectingOutputChannel) else None

    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    MessageProcessor.handle_message = handle_message
    setattr(MessageProcessor, INSTALLED, True)
