"""Conversation-level distress: how the whole conversation is going, not just one message.

Per-message scores say how a message sounds. A customer who repeats the same request, gets
"I didn't understand" twice and sounds a little more annoyed each turn is in more
trouble than any single message shows. `estimate_distress` combines, over the recent
turns of a conversation:

- the frustration level, as an exponentially weighted average (recent turns count more);
- the trend: the slope of frustration over the last turns (rising is worse);
- repetition: user messages that repeat an earlier one (same words, or the same
  request intent again);
- failed turns: fallbacks, "that didn't help", help-center misses.

Each piece of evidence raises the estimate like an independent cause (a noisy-OR), so
the result stays a number between 0 and 1 and each reason can be read off separately:

    distress = 1 - (1 - level) · (1 - trend_weight·max(0, slope))
                 · (1 - repeat_weight)^repeats · (1 - failure_weight)^failures

The turns come from `core.conversation.Conversation`, which reads a Rasa tracker's
events (every user event carries its emotion scores in parse_data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from core.constants import SMALL_TALK_INTENTS
from core.conversation import Turn

# Intents that are requests: asking for the same one again means it was not solved.
NON_REQUEST_INTENTS = SMALL_TALK_INTENTS


@dataclass(frozen=True)
class DistressWeights:
    """How strongly each kind of evidence raises the estimate (routing config can override)."""

    decay: float = 0.6  # weight of the newest turn in the running average
    window: int = 5  # turns the trend and repetition look back over
    trend: float = 1.5  # per unit of frustration slope per turn
    repeat: float = 0.15  # per repeated request
    failure: float = 0.15  # per failed turn
    similarity: float = 0.8  # texts at least this similar count as a repetition
    same_intent_similarity: float = 0.45  # same request intent and at least this similar


@dataclass(frozen=True)
class Distress:
    """The conversation's distress estimate and the evidence behind it."""

    score: float
    frustration_level: float
    frustration_trend: float  # slope per turn over the window (positive: rising)
    rising_turns: int  # consecutive turns of rising frustration up to now
    repeats: int
    failures: int
    turns: int
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "frustration_level": round(self.frustration_level, 4),
            "frustration_trend": round(self.frustration_trend, 4),
            "rising_turns": self.rising_turns,
            "repeats": self.repeats,
            "failures": self.failures,
            "turns": self.turns,
            "reasons": self.reasons,
        }


def estimate_distress(turns: Sequence[Turn], weights: DistressWeights | None = None) -> Distress:
    w = weights or DistressWeights()
    if not turns:
        return Distress(0.0, 0.0, 0.0, 0, 0, 0, 0, [])
    recent = list(turns)[-w.window :]
    level = recent[0].frustration
    for turn in recent[1:]:
        level = w.decay * turn.frustration + (1 - w.decay) * level
    # A trend needs at least three points; two are just a change.
    slope = _slope([t.frustration for t in recent]) if len(recent) >= 3 else 0.0
    rising = 0
    for older, newer in zip(reversed(recent[:-1]), reversed(recent[1:]), strict=False):
        if newer.frustration > older.frustration + 0.02:
            rising += 1
        else:
            break
    repeats = count_repeats(recent, w.similarity, w.same_intent_similarity)
    failures = sum(t.failed for t in recent)
    score = 1.0 - (
        (1.0 - level)
        * (1.0 - min(0.9, w.trend * max(0.0, slope)))
        * (1.0 - w.repeat) ** repeats
        * (1.0 - w.failure) ** failures
    )
    reasons = []
    if level >= 0.5:
        reasons.append(f"frustration {level:.2f}")
    if rising >= 2:
        reasons.append(f"rising over {rising + 1} turns")
    if repeats:
        reasons.append(f"{repeats} repeated request{'s' if repeats > 1 else ''}")
    if failures:
        reasons.append(f"{failures} failed answer{'s' if failures > 1 else ''}")
    return Distress(
        score=min(1.0, max(0.0, score)),
        frustration_level=level,
        frustration_trend=slope,
        rising_turns=rising + 1 if rising else 0,
        repeats=repeats,
        failures=failures,
        turns=len(turns),
        reasons=reasons,
    )


def count_repeats(
    turns: Sequence[Turn], similarity: float = 0.8, same_intent_similarity: float = 0.45
) -> int:
    """Turns that repeat an earlier turn: nearly the same words, or the same request intent
    in similar words (a follow-up question on the same topic is not a repetition)."""
    repeats = 0
    for i, turn in enumerate(turns):
        text = _normal(turn.text)
        for earlier in turns[:i]:
            ratio = SequenceMatcher(None, text, _normal(earlier.text)).ratio()
            same_words = len(text) >= 8 and ratio >= similarity
            same_request = (
                turn.intent is not None
                and turn.intent == earlier.intent
                and turn.intent not in NON_REQUEST_INTENTS
                and ratio >= same_intent_similarity
            )
            if same_words or same_request:
                repeats += 1
                break
    return repeats


def _slope(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def _normal(text: str) -> str:
    return " ".join("".join(c.lower() if c.isalnum() else " " for c in text).split())
