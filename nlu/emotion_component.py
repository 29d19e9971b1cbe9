"""`EmotionScorerComponent`: writes sentiment, frustration and urgency into parse data.

    pipeline:
      - name: WhitespaceTokenizer
      - name: nlu.featurizer.SharedEncoderFeaturizer
      - name: nlu.emotion_component.EmotionScorerComponent

Every user message gets two sets of scores, each
`{"sentiment": {"negative", "neutral", "positive"}, "frustration", "urgency"}`:

- `parse_data["emotion"]`: the message model's scores of the text alone, which routing,
  the handoff summary and the console read today;
- `parse_data["emotion_in_context"]`: the message read with its conversation
  (`nlu.context_model`): the customer's previous message and the bot's or agent's reply
  before it, taken from the tracker that Rasa hands the NLU pipeline. Without a tracker
  (`/model/parse`, `rasa test nlu`) the turn has no context.

Rasa stores both with the user event in the tracker store, and the tracker API returns
them. Routing still reads the first: on the 55 scripted conversations
(`make eval-conversations`) the context scores move two outcomes (docs: README, Emotion
scores), which the routing thresholds have to be set for first.

The component reuses the featurizer's encoding of the message (no second encoder pass),
except for a message with mentions, links or hashtags, which the scorer strips first
(`nlu.text.normalise`) and so encodes again. The context texts' encodings come from the
scorer's memory: the previous message was encoded on its own turn, and the bot's replies
repeat; a text not in memory (after a restart, an agent's message) is encoded then.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.constants import EMOTION, EMOTION_IN_CONTEXT, SHARED_ENCODING
from core.emotion import EmotionScores
from nlu.context_model import TurnContext
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
        scorer = EmotionScorer(encoder=shared_encoder(), backend="torch").warm_up()
        _ = scorer.context_model.weights
        return cls(scorer)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the emotion heads are trained by `make train-emotion`

    def process(
        self, messages: list[Message], tracker: DialogueStateTracker | None = None
    ) -> list[Message]:
        context = turn_context(tracker) if tracker is not None else None
        for message in messages:
            if message.get(TEXT) is None:
                continue
            text = message.get(TEXT) or ""
            encoding = message.get(SHARED_ENCODING)
            if isinstance(encoding, Encoding) and self.scorer.can_reuse(text, encoding):
                probs, hidden = self.scorer.encoding_vectors(encoding.row(0), [text])
                sentence = encoding.sentence[:1]
            else:
                # Mentions, links or hashtags: the scorer reads the normalised text.
                sentence, probs, hidden = self.scorer.vectors([text])
            alone = EmotionScores.from_row(probs[0])
            self.scorer.remember([text], sentence, probs, hidden)  # the next turn's context
            row = self.scorer.in_context([text], (sentence, probs, hidden), [context])[0]
            scores = EmotionScores.from_row(row)
            message.set(EMOTION, alone.as_dict(), add_to_output=True)
            message.set(EMOTION_IN_CONTEXT, scores.as_dict(), add_to_output=True)
        return messages


def turn_context(tracker: DialogueStateTracker) -> TurnContext:
    """The customer's previous message and the last reply (bot or agent) before the new
    one, in this session, from the tracker as it is before the new message is logged:
    as the labelled conversations give them to training (`nlu.labeling`). Events a
    restart or a rewind undid do not count (`applied_events`); an intent payload (a
    clicked button) is not a message. The previous message's scores in its own context
    are the ones stored with it."""
    reply = ""
    for event in reversed(tracker.applied_events()):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, UserUttered):
            text = event.text or ""
            if text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            stored = (event.parse_data or {}).get(EMOTION_IN_CONTEXT)
            try:
                previous_scores = EmotionScores.from_dict(stored).row() if stored else None
            except (KeyError, TypeError, ValueError):  # stored by another version
                previous_scores = None
            return TurnContext(text, reply, previous_scores)
        if isinstance(event, BotUttered) and event.text and not reply:
            reply = event.text
    return TurnContext("", reply)
