"""Emotion-aware routing: when to change tone and when to hand a conversation to a person.

    >>> from routing import decide, Customer
    >>> decide(turns, Customer(tier="plus", contacts_7d=3)).explanation

The decision reads the turns `core.conversation.Conversation` reads from a tracker.
"""

from routing.decision import (
    CONTINUE,
    EMPATHIZE,
    ESCALATE,
    Customer,
    Decision,
    RoutingConfig,
    decide,
)
from routing.skills import QUEUES, queue_for

__all__ = [
    "CONTINUE",
    "EMPATHIZE",
    "ESCALATE",
    "QUEUES",
    "Customer",
    "Decision",
    "RoutingConfig",
    "decide",
    "queue_for",
]
