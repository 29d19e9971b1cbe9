"""`MessageGuard`: the checks every incoming customer message passes before Rasa sees it.

A rejected message never reaches the tracker, so malformed input cannot corrupt a stored
conversation. Channels turn a `Rejection` into their own answer: the REST channel into a
4xx JSON error, the socket.io channel into a polite chat message.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 200


@dataclass(frozen=True)
class Rejection:
    """Why a request was refused: an HTTP status, a machine code and a human message."""

    status: int
    code: str
    message: str
    reply: str  # what the customer is told on a chat channel

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class MessageGuard:
    """Validate sender ids, message text and metadata of incoming messages."""

    def __init__(self, max_chars: int | None = None) -> None:
        self.max_chars = max_chars or int(
            os.environ.get("MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)
        )

    def check_sender(self, sender: Any) -> Rejection | None:
        if not isinstance(sender, str) or not sender.strip():
            return Rejection(
                400,
                "missing_sender",
                'The "sender" field is required: a non-empty string that identifies the '
                'conversation, e.g. {"sender": "customer-42", "message": "hi"}.',
                "",
            )
        if len(sender) > MAX_SENDER_CHARS or any(
            unicodedata.category(ch).startswith("C") for ch in sender
        ):
            return Rejection(
                400,
                "invalid_sender",
                f'"sender" must be at most {MAX_SENDER_CHARS} printable characters '
                f"(got {len(sender)} characters).",
                "",
            )
        return None

    def check_text(self, text: Any) -> Rejection | None:
        if text is None or (isinstance(text, str) and not text.strip()):
            return Rejection(
                400,
                "empty_message",
                'The "message" field is empty: send the customer\'s text, '
                'e.g. {"sender": "customer-42", "message": "where is my order?"}.',
                "I didn't receive any text. What can I help you with?",
            )
        if not isinstance(text, str):
            return Rejection(
                400,
                "invalid_message",
                f'"message" must be a string, got {type(text).__name__}.',
                "Sorry, I can only read text messages. What can I help you with?",
            )
        if len(text) > self.max_chars:
            return Rejection(
                413,
                "message_too_long",
                f"The message has {len(text):,} characters; the limit is {self.max_chars:,} "
                "(MAX_MESSAGE_CHARS). Send the key details in a shorter message.",
                f"That message is too long for me ({len(text):,} characters). Could you send "
                f"the key details in under {self.max_chars:,} characters?",
            )
        return None

    def check_metadata(self, metadata: Any) -> Rejection | None:
        if metadata is not None and not isinstance(metadata, dict):
            return Rejection(
                400,
                "invalid_metadata",
                f'"metadata" must be a JSON object, got {type(metadata).__name__}.',
                "",
            )
        return None

    @staticmethod
    def clean(text: str) -> str:
        """Drop control characters (except newlines and tabs) and trim whitespace."""
        return "".join(
            ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
        ).strip()
