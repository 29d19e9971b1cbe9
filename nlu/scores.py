"""`EmotionScores`: what the emotion scorer says about one customer message."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SENTIMENT_LABELS = ("negative", "neutral", "positive")


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmotionScores:
        return cls(
            sentiment={k: float(data["sentiment"][k]) for k in SENTIMENT_LABELS},
            frustration=float(data["frustration"]),
            urgency=float(data["urgency"]),
        )

    @classmethod
    def neutral(cls) -> EmotionScores:
        """Scores for a message with no text to score."""
        return cls({"negative": 0.0, "neutral": 1.0, "positive": 0.0}, 0.0, 0.0)
