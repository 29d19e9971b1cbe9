"""Rasa input channels with the project's input checks in front of them."""

from bot.channels.guard import MessageGuard, Rejection
from bot.channels.rest import SupportRestInput
from bot.channels.socketio import SupportSocketIOInput

__all__ = ["MessageGuard", "Rejection", "SupportRestInput", "SupportSocketIOInput"]
