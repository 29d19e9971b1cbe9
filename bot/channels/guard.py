"""`MessageGuard`: the checks every incoming customer message passes before Rasa sees it.

A rejected message never reaches the tracker, so malformed input cannot corrupt a stored
conversation. Channels turn a `Rejection` into their own answer: the REST channel into a
4xx JSON error, the socket.io channel into a polite chat message.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from core.json_body import any_string, has_lone_surrogate, json_depth

DEFAULT_MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 200
# A message's id, for sending it again without running it twice (bot.replayed_turns):
# a UUID, a ULID or a client's counter fits; anything printable up to this length does.
MAX_MESSAGE_ID_CHARS = 128
# Metadata is a flat object in practice ({"customer_id": ...}); a channel's extras may
# nest a little. Deeper nesting is refused before Rasa stores it with every user event.
MAX_METADATA_DEPTH = 32
# Characters `clean` keeps although Unicode files them as controls or format characters:
# newlines and tabs shape a message; the zero-width (non-)joiners hold emoji sequences
# (👩‍💻) and Indic and Persian words together.
KEPT_CONTROLS = frozenset("\n\t\u200c\u200d")
# Unicode categories with nothing to read: controls (NUL, BEL...), format characters
# (zero-width space U+200B, word joiner U+2060, BOM U+FEFF, bidi overrides) and lone
# surrogates ("\ud800" in JSON decodes to one; no database stores it).
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# What `clean` trims from both ends: whitespace, and joiners with nothing to join.
LEADING_OR_TRAILING_BLANK = re.compile(r"^[\s\u200c\u200d]+|[\s\u200c\u200d]+$")


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

    @staticmethod
    def check_message_id(message_id: Any) -> Rejection | None:
        """Refuse a message id that is not a printable string of at most
        MAX_MESSAGE_ID_CHARS characters (None: the message has no id of the client's)."""
        if message_id is None:
            return None
        if (
            isinstance(message_id, str)
            and 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS
            and message_id.isprintable()
        ):
            return None
        return Rejection(
            400,
            "invalid_message_id",
            f'"message_id" must be a string of 1 to {MAX_MESSAGE_ID_CHARS} printable '
            "characters, the same each time one message is sent again (a UUID, say); or "
            "leave it out.",
            "",
        )

    def check_text(self, text: Any) -> Rejection | None:
        """Refuse a message that is missing, not a string, too long, or has nothing to
        read once invisible characters are gone (`clean`)."""
        if text is None:
            return EMPTY_MESSAGE
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
        if not has_content(self.clean(text)):
            return EMPTY_MESSAGE
        return None

    def check_metadata(self, metadata: Any) -> Rejection | None:
        """Refuse metadata that is not an object, nests deeper than MAX_METADATA_DEPTH, or
        holds text no database stores (a lone surrogate, a NUL character)."""
        if metadata is None:
            return None
        problem = None
        if not isinstance(metadata, dict):
            problem = f"must be a JSON object, got {type(metadata).__name__}"
        elif json_depth(metadata, stop_after=MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
            problem = f"is nested more than {MAX_METADATA_DEPTH} levels deep"
        elif has_lone_surrogate(metadata) or has_nul(metadata):
            problem = "has a lone UTF-16 surrogate (like \\ud800) or a NUL character in a text"
        if problem is None:
            return None
        return Rejection(
            400,
            "invalid_metadata",
            f'"metadata" {problem}. Send a flat object of printable values, '
            'e.g. {"customer_id": "c-1"}.',
            "Sorry, I couldn't read that message. Please reload the page and try again.",
        )

    @staticmethod
    def clean(text: str) -> str:
        """Drop invisible characters (controls, zero-width and bidi format characters, lone
        surrogates; newlines, tabs and zero-width joiners stay) and trim whitespace."""
        kept = "".join(
            ch
            for ch in text
            if ch in KEPT_CONTROLS or unicodedata.category(ch) not in INVISIBLE_CATEGORIES
        )
        return LEADING_OR_TRAILING_BLANK.sub("", kept)


def has_content(text: str) -> bool:
    """Whether `text` has a character to read: not whitespace, not invisible."""
    return any(
        not ch.isspace() and unicodedata.category(ch) not in INVISIBLE_CATEGORIES for ch in text
    )


def has_nul(value: Any) -> bool:
    """Whether a string or key anywhere in `value` holds NUL (PostgreSQL refuses it)."""
    return any_string(value, lambda s: "\x00" in s)


EMPTY_MESSAGE = Rejection(
    400,
    "empty_message",
    'The "message" field is empty (or only invisible characters): send the customer\'s '
    'text, e.g. {"sender": "customer-42", "message": "where is my order?"}.',
    "I didn't receive any text. What can I help you with?",
)
