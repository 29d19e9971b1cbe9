"""`ChannelTrust`: what the chat channels believe about a client, and what they refuse.

- **Which conversation.** A conversation id counts only with the session token issued
  for it (`core.tokens.SessionTokens`): nobody else can write to it or join its room.
- **Which customer.** Metadata keys that claim an identity (`customer_id`,
  `identity_verified`) are dropped from whatever the client sends. They are set again
  only from a valid identity token signed by the company's website
  (`core.tokens.IdentityTokens`); the token itself is never stored.
- **How much.** New sessions per client address, and messages per address and per
  conversation, are rate-limited (`core.rate_limit.RateLimiter`), so a flood from
  random senders cannot bury real customers: each conversation needs a session, and
  each conversation holds at most one handoff at a time.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.guard import Rejection
from core.constants import (
    METADATA_CUSTOMER_ID,
    METADATA_IDENTITY_PROOF,
    METADATA_IDENTITY_TOKEN,
    METADATA_IDENTITY_VERIFIED,
    METADATA_MESSAGE_IDS,
)
from core.rate_limit import RateLimiter
from core.settings import Settings
from core.tokens import IdentityTokens, SessionTokens

logger = logging.getLogger(__name__)

CLAIMS = (
    METADATA_CUSTOMER_ID,
    METADATA_IDENTITY_VERIFIED,
    METADATA_IDENTITY_TOKEN,
    METADATA_IDENTITY_PROOF,
    METADATA_MESSAGE_IDS,
)
MESSAGES_PER_CONVERSATION_PER_MINUTE = 30
CONVERSATION_BURST = 30

TOO_MANY_MESSAGES = Rejection(
    429,
    "too_many_messages",
    "Too many messages in a short time; wait a few seconds and send again.",
    "You're sending messages faster than I can read them — give me a few seconds, then "
    "send your message again.",
)
TOO_MANY_SESSIONS = Rejection(
    429,
    "too_many_sessions",
    "Too many new conversations from this address; try again in a few minutes.",
    "",
)


class ChannelTrust:
    """Session tokens, identity tokens and rate limits, as the channels apply them."""

    def __init__(
        self,
        sessions: SessionTokens,
        identities: IdentityTokens,
        messages_per_minute_per_address: int,
        sessions_per_hour_per_address: int,
    ) -> None:
        self.sessions = sessions
        self.identities = identities
        self.by_address = RateLimiter(
            messages_per_minute_per_address / 60.0, max(1, messages_per_minute_per_address)
        )
        self.by_conversation = RateLimiter(
            MESSAGES_PER_CONVERSATION_PER_MINUTE / 60.0, CONVERSATION_BURST
        )
        self.new_sessions = RateLimiter(
            sessions_per_hour_per_address / 3600.0, max(1, sessions_per_hour_per_address // 4)
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ChannelTrust:
        settings = settings or Settings.load()
        return cls(
            SessionTokens(settings.session_secret),
            IdentityTokens(settings.identity_secret),
            settings.chat_messages_per_minute,
            settings.chat_sessions_per_hour,
        )

    def new_session(self, address: str) -> tuple[str, str] | Rejection:
        """A new conversation id and its token, unless `address` opened too many."""
        if not self.new_sessions.allow(address):
            return TOO_MANY_SESSIONS
        return self.sessions.issue()

    def check_rate(self, address: str, conversation_id: str) -> Rejection | None:
        if not self.by_conversation.allow(conversation_id):
            return TOO_MANY_MESSAGES
        if not self.by_address.allow(address):
            return TOO_MANY_MESSAGES
        return None

    def vouched(self, metadata: Any) -> dict[str, Any] | None:
        """The metadata with identity claims only where a valid identity token makes them."""
        if not isinstance(metadata, dict):
            return metadata  # the guard refuses it
        kept = {k: v for k, v in metadata.items() if k not in CLAIMS}
        token = metadata.get(METADATA_IDENTITY_TOKEN)
        if token is None:
            return kept
        identity = self.identities.verify(token)
        if identity is None:
            logger.warning("channel: an identity token that does not verify; anonymous")
            return kept
        kept[METADATA_CUSTOMER_ID] = identity.customer_id
        kept[METADATA_IDENTITY_VERIFIED] = True
        return kept


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
