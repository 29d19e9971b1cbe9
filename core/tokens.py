"""Signed tokens: who a chat session is, and who the host website says the customer is.

Two kinds, each an HS256 JWT (PyJWT) with its own secret and audience, so one can never
stand in for the other:

- **Session tokens** (`SessionTokens`, secret SESSION_SECRET) bind a conversation id to
  the browser or client that started it. The web front and the REST channel issue them;
  the socket.io and REST channels, and the transcript API, accept a conversation id only
  with its token.
- **Identity tokens** (`IdentityTokens`, secret IDENTITY_SECRET, shared with the
  company's website) say "this visitor is our signed-in customer C1001", the way
  Zendesk messaging's JWT or Chatwoot's `identifier_hash` do. Without a valid one a
  visitor is anonymous, whatever else the client sends.

    >>> tokens = SessionTokens("a-secret-of-at-least-32-characters!!")
    >>> session_id, token = tokens.issue()
    >>> tokens.session_of(token) == session_id
    True
    >>> tokens.session_of(token + "x") is None
    True
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from core.errors import ConfigurationError

ALGORITHM = "HS256"
SESSION_AUDIENCE = "brightbasket-chat-session"
IDENTITY_AUDIENCE = "brightbasket-chat-identity"
SESSION_TTL_SECONDS = 30 * 24 * 3600  # a browser keeps its conversation for 30 days
IDENTITY_MAX_TTL_SECONDS = 24 * 3600  # identity tokens are short-lived, as Zendesk's are
MIN_SECRET_CHARS = 32
MAX_TOKEN_CHARS = 2048
MAX_SUBJECT_CHARS = 64
LEEWAY_SECONDS = 30  # clock skew between the host website and us


def _check_secret(name: str, secret: str) -> None:
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigurationError(
            f"{name} has {len(secret)} characters; use at least {MIN_SECRET_CHARS}, e.g. "
            "the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )


def _decode(token: object, secret: str, audience: str) -> dict[str, object] | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        return None
    if not subject.isprintable():
        return None
    return claims


class SessionTokens:
    """Issue and check the tokens that bind a conversation id to its client."""

    def __init__(
        self,
        secret: str,
        ttl_seconds: int = SESSION_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_secret("SESSION_SECRET", secret)
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def issue(self, session_id: str | None = None) -> tuple[str, str]:
        """A token for `session_id` (a new random id when None): (session id, token)."""
        session_id = session_id or secrets.token_hex(16)
        now = int(self.clock())
        token = jwt.encode(
            {"sub": session_id, "aud": SESSION_AUDIENCE, "iat": now, "exp": now + self.ttl_seconds},
            self.secret,
            algorithm=ALGORITHM,
        )
        return session_id, token

    def session_of(self, token: object) -> str | None:
        """The conversation id a valid token names; None for anything else."""
        claims = _decode(token, self.secret, SESSION_AUDIENCE)
        return str(claims["sub"]) if claims is not None else None


@dataclass(frozen=True)
class Identity:
    """A customer the host website vouches for."""

    customer_id: str
    expires_at: int


class IdentityTokens:
    """Check (and, for the demo sign-in and the docs' example, issue) identity tokens.

    The host website signs `{"sub": "<customer id>", "aud": "brightbasket-chat-identity",
    "iat": now, "exp": now + 3600}` with IDENTITY_SECRET (HS256). Tokens that live
    longer than a day are refused: a leaked one must not work for long.
    """

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        _check_secret("IDENTITY_SECRET", secret)
        self.secret = secret
        self.clock = clock

    def issue(self, customer_id: str, ttl_seconds: int = 3600) -> str:
        now = int(self.clock())
        return jwt.encode(
            {"sub": customer_id, "aud": IDENTITY_AUDIENCE, "iat": now, "exp": now + ttl_seconds},
            self.secret,
            algorithm=ALGORITHM,
        )

    def verify(self, token: object) -> Identity | None:
        """The customer a valid, short-lived token names; None for anything else."""
        claims = _decode(token, self.secret, IDENTITY_AUDIENCE)
        if claims is None:
            return None
        expires_at, issued_at = claims.get("exp"), claims.get("iat")
        if not isinstance(expires_at, int) or not isinstance(issued_at, int):
            return None
        if expires_at - issued_at > IDENTITY_MAX_TTL_SECONDS:
            return None
        if issued_at > self.clock() + LEEWAY_SECONDS:
            return None
        return Identity(customer_id=str(claims["sub"]), expires_at=expires_at)
