"""`SupportSocketIOInput`: Rasa's socket.io channel with the project's input checks.

The web chat (bot/web/) talks to this channel. Empty or over-long messages get a polite
reply on the socket and never reach the tracker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.channels.guard import MessageGuard


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

        async def checked(message: UserMessage) -> None:
            rejection = guard.check_text(message.text) or guard.check_metadata(message.metadata)
            if rejection is not None:
                await message.output_channel.send_text_message(
                    message.sender_id, rejection.reply or "Sorry, I couldn't read that message."
                )
                return
            message.text = guard.clean(message.text or "")
            await on_new_message(message)

        return super().blueprint(checked)
