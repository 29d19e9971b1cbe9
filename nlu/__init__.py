"""Message understanding beyond intents: the shared MiniLM encoder and emotion scores.

    >>> import nlu
    >>> [s.frustration for s in nlu.score(["This is the THIRD time I'm asking!"])]
    >>> nlu.score(["Can you help me?"], [nlu.TurnContext(
    ...     previous_customer="My parcel never came.",
    ...     last_reply="Sorry, I didn't quite get that.")])

Importing `nlu` is cheap (no Rasa, no model; the model loads on the first `score`). Rasa
components are referenced by module path in bot/config.yml, e.g.
`nlu.featurizer.SharedEncoderFeaturizer` and `nlu.emotion_component.EmotionScorerComponent`.
"""

from __future__ import annotations

from core.emotion import EmotionScores
from nlu.context_model import TurnContext
from nlu.encoder import Encoding, SharedEncoder, shared_encoder


def score(texts: list[str], context: list[TurnContext | None] | None = None) -> list[EmotionScores]:
    """Sentiment, frustration and urgency for each text (see `nlu.scorer.EmotionScorer`).

    `context`, one `TurnContext(previous_customer, last_reply)` per text, reads each text
    with its conversation; without it each text is scored alone."""
    from nlu.scorer import score as _score

    return _score(texts, context)


__all__ = ["EmotionScores", "Encoding", "SharedEncoder", "TurnContext", "score", "shared_encoder"]
