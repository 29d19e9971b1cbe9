"""What a handoff to a person is, and the `HandoffBackend` protocol every target implements.

The router decides *that* a conversation goes to a person (`routing.decide`); a backend
decides *where*: the project's own agent console (`ConsoleBackend`, the default) or an
external help desk such as Chatwoot (`ChatwootBackend`). The action server builds a
`HandoffRequest` from the tracker and calls `backend.open(request)`; while the customer
waits, each new customer message goes to `backend.relay(...)`, so nothing they write is
lost. Every backend passes the same contract tests (tests/routing/test_backends.py).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.constants import (
    HANDOFF_CLAIMED,
    HANDOFF_HANDED_BACK,
    HANDOFF_RESOLVED,
    HANDOFF_STATUSES,
    HANDOFF_WAITING,
    SILENT_STATUSES,
)
from core.errors import SupportError

# Status of a conversation's handoff, kept in the tracker slot `handoff_status`.
WAITING, CLAIMED, RESOLVED, HANDED_BACK = (
    HANDOFF_WAITING,
    HANDOFF_CLAIMED,
    HANDOFF_RESOLVED,
    HANDOFF_HANDED_BACK,
)
STATUSES = HANDOFF_STATUSES
__all__ = [
    "CLAIMED",
    "HANDED_BACK",
    "RESOLVED",
    "SILENT_STATUSES",
    "STATUSES",
    "WAITING",
    "CustomerMessage",
    "HandoffBackend",
    "HandoffError",
    "HandoffRequest",
    "HandoffTicket",
    "HandoffUnavailable",
    "UnknownHandoff",
]


class HandoffError(SupportError):
    """A handoff could not be opened or updated; the message says why and what to do."""


class HandoffUnavailable(HandoffError):
    """The backend cannot be reached or answered with a server error (retry later)."""


class UnknownHandoff(HandoffError):
    """The backend has no open handoff under that reference."""


@dataclass(frozen=True)
class CustomerMessage:
    """Something the customer wrote, with its emotion scores when they were computed."""

    text: str
    timestamp: float
    emotion: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HandoffRequest:
    """Everything a person needs to take over one conversation."""

    conversation_id: str  # Rasa's sender id
    channel: str  # the input channel the customer is on ("socketio", "rest", ...)
    queue: str  # routing.skills queue
    priority: str  # urgent, high, normal
    reason: str  # the decision's explanation
    distress: float
    wait_target_seconds: int
    summary: dict[str, Any]  # routing.summary.HandoffSummary.as_dict()
    summary_text: str  # the same, as plain text (for notes in other tools)
    customer_key: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)  # messages so far

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandoffRequest:
        known = set(cls.__dataclass_fields__)
        missing = sorted(
            name
            for name, f in cls.__dataclass_fields__.items()
            if name not in data and f.default is MISSING and f.default_factory is MISSING
        )
        if missing:
            raise HandoffError(f"Handoff request is missing {', '.join(missing)}.")
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class HandoffTicket:
    """Where the handoff went: the backend's reference, and what to tell the customer."""

    backend: str
    reference: str
    position: int | None = None  # place in the queue, 1 = next; None if unknown
    estimated_wait_seconds: int | None = None
    created: bool = True  # False when an open handoff of this conversation was updated

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class HandoffBackend(Protocol):
    """A place conversations are handed to. Implementations are cheap to construct."""

    name: str

    async def open(self, request: HandoffRequest) -> HandoffTicket:
        """Create the handoff, or update the open one of the same conversation."""
        ...

    async def relay(self, reference: str, message: CustomerMessage) -> None:
        """Add a customer message that arrived while the conversation waits or is held."""
        ...
