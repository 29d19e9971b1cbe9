"""Message understanding beyond intents: the shared MiniLM encoder and emotion scores.

    >>> import nlu
    >>> [s.frustration for s in nlu.score(["This is the THIRD time I'm asking!"])]

Importing `nlu` is cheap (no Rasa, no model; the model loads on the first `score`). Rasa
components are referenced by module path in bot/config.yml, e.g.
`nlu.featurizer.SharedEncoderFeaturizer` and `nlu.emotion_component.EmotionScorerComponent`.
"""

from __future__ import annotations

from core.emotion import EmotionScores
from nlu.encoder import Encoding, SharedEncoder, shared_encoder


def score(texts: list[str]) -> list[EmotionScores]:
    """Sentiment, frustration and urgency for each text (see `nlu.scorer.EmotionScorer`)."""
    from nlu.scorer import score as _score

    return _score(texts)


__all__ = ["EmotionScores", "Encoding", "SharedEncoder", "score", "shared_encoder"]
