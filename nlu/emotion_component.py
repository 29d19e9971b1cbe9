"""`EmotionScorerComponent`: writes sentiment, frustration and urgency into parse data.

    pipeline:
      - name: WhitespaceTokenizer
      - name: nlu.featurizer.SharedEncoderFeaturizer
      - name: nlu.emotion_component.EmotionScorerComponent

Every user message gets `parse_data["emotion"]` =
`{"sentiment": {"negative", "neutral", "positive"}, "frustration", "urgency"}`; Rasa stores
it with the user event in the tracker store, and the tracker API returns it. The
component reuses the featurizer's encoding of the message (no second encoder pass),
except for a message with mentions, links or hashtags, which the scorer strips first
(`nlu.text.normalise`) and so encodes again, lower layers only.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.constants import EMOTION, SHARED_ENCODING
from nlu.encoder import Encoding, shared_encoder
from nlu.featurizer import SharedEncoderFeaturizer
from nlu.scorer import EmotionScorer

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class EmotionScorerComponent(GraphComponent):
    """Adds calibrated emotion scores to every message's parse data."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SharedEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, scorer: EmotionScorer) -> None:
        self.scorer = scorer

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmotionScorerComponent:
        # Load the weights now: a missing or broken artifact fails at start with its fix.
        # Inside Rasa the scorer reads the featurizer's encoding: PyTorch heads, no ONNX graph.
        return cls(EmotionScorer(encoder=shared_encoder(), backend="torch").warm_up())

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the emotion heads are trained by `make train-emotion`

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if message.get(TEXT) is None:
                continue
            text = message.get(TEXT) or ""
            encoding = message.get(SHARED_ENCODING)
            if isinstance(encoding, Encoding) and self.scorer.can_reuse(text, encoding):
                scores = self.scorer.score_encoding(encoding)[0]
            else:
                # Mentions, links or hashtags: the scorer reads the normalised text.
                scores = self.scorer.score([text])[0]
            message.set(EMOTION, scores.as_dict(), add_to_output=True)
        return messages
