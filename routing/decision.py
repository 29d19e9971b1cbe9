"""`decide`: after every customer turn, keep going, change tone, or hand over to a person.

Evidence (all read from the tracker):

- per-turn emotion scores and the conversation's distress estimate (`nlu.distress`:
  frustration level and trend, repeated requests, failed answers);
- an explicit request for a person;
- urgency (fraud, account takeover, safety, deadlines) on the latest turn;
- the customer: tier and contacts in the last 7 days.

Rules, with thresholds from `RoutingConfig`:

1. a request for a person escalates at once (priority from urgency and distress);
2. an urgent turn (urgency ≥ `urgent_at`) escalates at once with `urgent` priority,
   unless its issue or request is one the bot settles itself (`self_service_issues`: a
   duplicate charge is refunded in the chat; fraud, takeover and safety are not on that
   list; `self_service_intents`: a subscription is cancelled in the chat);
3. distress (adjusted for tier and recent contacts) ≥ `escalate_at` escalates, but only
   with at least `min_turns` customer turns — one sarcastic line is not a trend;
4. `max_failed_answers` failed answers escalate whatever the tone;
5. otherwise distress ≥ `empathize_at` switches the bot to its empathetic tone, which it
   keeps until distress falls below `empathize_release` (hysteresis: no flip-flopping).

Every decision carries its reasons ("frustration 0.86, rising over 3 turns; 2 failed
answers"), which are stored in the tracker and shown to the agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.constants import (
    INTENT_REQUEST_HUMAN,
    PRIORITIES,
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    PRIORITY_URGENT,
    ROUTE_CONTINUE,
    ROUTE_EMPATHIZE,
    ROUTE_ESCALATE,
)
from core.conversation import Turn
from core.errors import ConfigurationError
from nlu.distress import DistressWeights, estimate_distress
from routing.skills import queue_for

CONTINUE, EMPATHIZE, ESCALATE = ROUTE_CONTINUE, ROUTE_EMPATHIZE, ROUTE_ESCALATE
URGENT, HIGH, NORMAL = PRIORITY_URGENT, PRIORITY_HIGH, PRIORITY_NORMAL
__all__ = [
    "CONTINUE",
    "EMPATHIZE",
    "ESCALATE",
    "HIGH",
    "NORMAL",
    "PRIORITIES",
    "URGENT",
    "Customer",
    "Decision",
    "RoutingConfig",
    "decide",
    "priority_of",
]
POLICY_NAME = "routing.policy.RoutingPolicy"  # its name in config.yml


@dataclass(frozen=True)
class RoutingConfig:
    """Thresholds and weights; every field can be set in the policy's config.yml entry."""

    escalate_at: float = 0.8
    empathize_at: float = 0.5
    empathize_release: float = 0.35
    urgent_at: float = 0.8
    min_turns: int = 2
    max_failed_answers: int = 3
    high_priority_at: float = 0.9  # distress at or above this is `high`
    tier_weight: dict[str, float] = field(default_factory=lambda: {"plus": 0.1})
    contact_weight: float = 0.05  # per contact in the last 7 days beyond the first
    wait_target_seconds: dict[str, int] = field(
        default_factory=lambda: {URGENT: 60, HIGH: 180, NORMAL: 600}
    )
    # Issues (issue_type entity) the bot resolves itself: urgent-sounding, but no reason
    # to jump the queue (the emotion model learned "charged twice" as urgent from BANKING77).
    self_service_issues: tuple[str, ...] = ("charged_twice", "password")
    # Requests the bot completes in seconds, however urgent they sound ("please stop my
    # pantry box" reads as urgent to the emotion model): a person would not be faster.
    self_service_intents: tuple[str, ...] = ("cancel_subscription",)
    distress: DistressWeights = field(default_factory=DistressWeights)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RoutingConfig:
        known = {f for f in cls.__dataclass_fields__ if f != "distress"}
        unknown = set(values) - known - {"distress"}
        if unknown:
            raise ValueError(
                f"Unknown routing setting(s) {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(known))}, distress."
            )
        kwargs = {k: v for k, v in values.items() if k in known}
        for name in ("self_service_issues", "self_service_intents"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        if "distress" in values:
            kwargs["distress"] = DistressWeights(**values["distress"])
        config = cls(**kwargs)
        if not 0 <= config.empathize_release <= config.empathize_at <= config.escalate_at <= 1:
            raise ValueError(
                "Routing thresholds must satisfy 0 ≤ empathize_release ≤ empathize_at ≤ "
                f"escalate_at ≤ 1; got {config.empathize_release}, {config.empathize_at}, "
                f"{config.escalate_at}."
            )
        return config

    @classmethod
    def from_policy_options(cls, options: Mapping[str, Any]) -> RoutingConfig:
        """From the options of `RoutingPolicy`'s entry in config.yml (other keys, such as
        `name` and `priority`, are the policy's own and ignored here)."""
        return cls.from_dict({k: v for k, v in options.items() if k in cls.__dataclass_fields__})

    @classmethod
    def from_rasa_config(cls, path: Path) -> RoutingConfig:
        """The routing configuration the assistant runs with: `RoutingPolicy`'s options in
        the Rasa config file at `path` (defaults if the policy is not listed)."""
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigurationError(
                f"Cannot read the routing options in {path}: {e}. Fix the file or restore it "
                "from git."
            ) from e
        for policy in config.get("policies") or []:
            if isinstance(policy, dict) and policy.get("name") == POLICY_NAME:
                try:
                    return cls.from_policy_options(policy)
                except (TypeError, ValueError) as e:
                    raise ConfigurationError(
                        f"{path}: RoutingPolicy's options are invalid: {e}"
                    ) from e
        return cls()


@dataclass(frozen=True)
class Customer:
    tier: str = "standard"
    contacts_7d: int = 0


@dataclass(frozen=True)
class Decision:
    action: str  # continue, empathize, escalate
    distress: float
    reasons: list[str]
    priority: str | None = None
    queue: str | None = None
    wait_target_seconds: int | None = None

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "calm conversation"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "explanation": self.explanation}


def decide(
    turns: Sequence[Turn],
    customer: Customer | None = None,
    empathetic: bool = False,
    config: RoutingConfig | None = None,
    failed_answers: int | None = None,
    asked_for_person: bool = False,
    active_form: str | None = None,
) -> Decision:
    """The routing decision after the latest of `turns` (the typed ones).

    `empathetic`: the bot's tone now; `failed_answers`: failed answers in the current part
    of the conversation, clicked or typed, when the caller counted them (else the failed
    turns among `turns`); `asked_for_person`: the latest message, typed or clicked, asks
    for a person; `active_form`: the form in progress, whose request sets the queue."""
    c = config or RoutingConfig()
    who = customer or Customer()
    if not turns and not asked_for_person:
        return Decision(CONTINUE, 0.0, [])
    latest = turns[-1] if turns else Turn("")
    distress = estimate_distress(turns, c.distress)
    reasons = list(distress.reasons)
    boost = c.tier_weight.get(who.tier, 0.0)
    extra_contacts = max(0, who.contacts_7d - 1)
    score = 1 - (1 - distress.score) * (1 - boost) * (1 - c.contact_weight) ** extra_contacts
    if boost:
        reasons.append(f"{who.tier} customer")
    if extra_contacts:
        reasons.append(f"{who.contacts_7d} contacts in 7 days")
    queue = queue_for([t.intent for t in turns], active_form)

    def escalate(priority: str, why: str) -> Decision:
        return Decision(
            ESCALATE,
            round(score, 4),
            [why, *reasons],
            priority,
            queue,
            c.wait_target_seconds[priority],
        )

    urgent = (
        latest.urgency >= c.urgent_at
        and latest.issue not in c.self_service_issues
        and latest.intent not in c.self_service_intents
    )
    if asked_for_person or latest.intent == INTENT_REQUEST_HUMAN:
        return escalate(URGENT if urgent else priority_of(score, who, c), "asked for a person")
    if urgent:
        return escalate(URGENT, f"urgent request (urgency {latest.urgency:.2f})")
    if score >= c.escalate_at and len(turns) >= c.min_turns:
        # A customer upset enough to be handed over never waits in the normal queue.
        return escalate(HIGH, f"distress {score:.2f}")
    failures = max(distress.failures, failed_answers or 0)
    if failures >= c.max_failed_answers:
        return escalate(priority_of(score, who, c), f"{failures} failed answers")
    threshold = c.empathize_release if empathetic else c.empathize_at
    if score >= threshold:
        return Decision(EMPATHIZE, round(score, 4), [f"distress {score:.2f}", *reasons])
    return Decision(CONTINUE, round(score, 4), reasons)


def priority_of(score: float, customer: Customer, config: RoutingConfig) -> str:
    if score >= config.high_priority_at or config.tier_weight.get(customer.tier, 0.0) > 0:
        return HIGH
    return NORMAL
