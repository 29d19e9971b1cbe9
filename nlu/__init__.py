"""Message understanding beyond intents: the shared MiniLM encoder and emotion scores.

Importing `nlu` is cheap (no Rasa, no model). Rasa components are referenced by module
path in bot/config.yml: `nlu.featurizer.SharedEncoderFeaturizer`.
"""

from nlu.encoder import Encoding, SharedEncoder, shared_encoder

__all__ = ["Encoding", "SharedEncoder", "shared_encoder"]
