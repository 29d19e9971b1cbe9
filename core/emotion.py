"""`EmotionScores`: what the emotion scorer says about one customer message.

The scorer (`nlu`) writes them into every user turn's parse data under `EMOTION`; the
routing, the handoff summary, the agent console and the reports read them back with
`EmotionScores.from_stored`, which is the one place that decides the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SENTIMENT_LABELS = ("negative", "neutral", "positive")
DECIMALS = 4  # stored scores are rounded to this many decimals


@dataclass(frozen=True)
class EmotionScores:
    """Calibrated probabilities for one message.

    sentiment: {"negative": p, "neutral": p, "positive": p}, summing to 1.
    frustration: probability that the customer is frustrated (0-1).
    urgency: probability that the message needs immediate human attention (0-1).
    """

    sentiment: dict[str, float]
    frustration: float
    urgency: float

    @property
    def label(self) -> str:
        """The most likely sentiment."""
        return max(self.sentiment, key=lambda k: self.sentiment[k])

    @property
    def negative(self) -> float:
        return self.sentiment.get("negative", 0.0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> tuple[float, float, float, float, float]:
        """The scorer's row order (`from_row`): P(negative), P(neutral), P(positive),
        P(frustrated), P(urgent)."""
        s = self.sentiment
        return (
            s.get("negative", 0.0),
            s.get("neutral", 0.0),
            s.get("positive", 0.0),
            self.frustration,
            self.urgency,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmotionScores:
        """Strict: every key must be there (scores the scorer produced)."""
        return cls(
            sentiment={k: float(data["sentiment"][k]) for k in SENTIMENT_LABELS},
            frustration=float(data["frustration"]),
            urgency=float(data["urgency"]),
        )

    @classmethod
    def from_stored(cls, data: Any) -> EmotionScores:
        """Lenient: scores as stored in a tracker, where a turn may have none (a button
        payload, an event sent through the API, a turn from before scoring existed).
        Missing parts read as neutral and calm."""
        if not isinstance(data, Mapping):
            return cls.neutral()
        raw = data.get("sentiment")
        sentiment = (
            {k: float(raw.get(k, 0.0)) for k in SENTIMENT_LABELS}
            if isinstance(raw, Mapping) and raw
            else dict(cls.neutral().sentiment)
        )
        return cls(
            sentiment=sentiment,
            frustration=float(data.get("frustration") or 0.0),
            urgency=float(data.get("urgency") or 0.0),
        )

    @classmethod
    def from_row(cls, row: Sequence[float]) -> EmotionScores:
        """From the scorer's output row: P(negative), P(neutral), P(positive),
        P(frustrated), P(urgent)."""
        sentiment = {
            label: round(float(p), DECIMALS)
            for label, p in zip(SENTIMENT_LABELS, row[:3], strict=True)
        }
        return cls(
            sentiment=sentiment,
            frustration=round(float(row[3]), DECIMALS),
            urgency=round(float(row[4]), DECIMALS),
        )

    @classmethod
    def neutral(cls) -> EmotionScores:
        """Scores for a message with no text to score."""
        return cls({"negative": 0.0, "neutral": 1.0, "positive": 0.0}, 0.0, 0.0)
