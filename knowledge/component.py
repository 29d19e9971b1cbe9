"""`HelpCenterRetrieverComponent`: help-center hits for every message, in parse data.

    pipeline:
      - name: nlu.featurizer.SharedEncoderFeaturizer
      - name: knowledge.component.HelpCenterRetrieverComponent

Writes `parse_data["knowledge"] = {"hits": [{article_id, title, url, section, score}],
"confidence": p, "threshold": t}` from the message's shared embedding (no second encoder
pass). The passage texts stay in the index; the action server reads them from there. The
index is loaded when the server starts — a missing or damaged index stops the start with
the command that rebuilds it — and reloaded when `make index` rebuilds it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.constants import KNOWLEDGE, SHARED_ENCODING
from knowledge.retriever import Retriever
from nlu.encoder import Encoding, shared_encoder
from nlu.featurizer import SharedEncoderFeaturizer

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class HelpCenterRetrieverComponent(GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [SharedEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"top_k": 3}

    def __init__(self, config: dict[str, Any], retriever: Retriever) -> None:
        self.top_k = int(config.get("top_k", 3))
        self.retriever = retriever

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HelpCenterRetrieverComponent:
        merged = {**cls.get_default_config(), **config}
        if not isinstance(merged["top_k"], int) or merged["top_k"] < 1:
            raise InvalidConfigException(
                f"HelpCenterRetrieverComponent: top_k must be a positive integer, got "
                f"{merged['top_k']!r}. Fix it in bot/config.yml (default 3)."
            )
        return cls(merged, Retriever(encoder=shared_encoder()))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HelpCenterRetrieverComponent:
        """At server start: load the index now, so a bad one stops the start with its fix."""
        component = cls.create(config, model_storage, resource, execution_context)
        component.retriever.reload_if_changed()
        return component

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not text.strip() or text.startswith("/"):
                continue
            encoding = message.get(SHARED_ENCODING)
            # The confidence reads the runner-up too, whatever top_k shows.
            k = max(self.top_k, 2)
            if isinstance(encoding, Encoding):
                hits = self.retriever.search_embedding(text, encoding.sentence[0], k)
            else:
                hits = self.retriever.search(text, k)
            confidence = self.retriever.confidence(hits)
            hits = hits[: self.top_k]
            message.set(
                KNOWLEDGE,
                {
                    "hits": [
                        {
                            "article_id": h.article_id,
                            "title": h.title,
                            "url": h.url,
                            "section": h.section,
                            "score": h.score,
                        }
                        for h in hits
                    ],
                    "confidence": round(confidence, 4),
                    "threshold": round(self.retriever.threshold, 4),
                },
                add_to_output=True,
            )
        return messages
