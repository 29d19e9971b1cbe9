"""`ContextModel`: emotion scores for a customer turn read with its conversation.

The message model (`nlu.emotion_model`) reads one message alone, so "Can you help me?"
scores the same as a first message and after the bot failed twice, and "I would like to
cancel" carries what cancelling meant in its training data. This model reads the turn
with what came before it, from encodings the pipeline makes anyway (no second pass of
the message):

- the turn: its sentence embedding, the pooled state the message model's heads read,
  the message model's five probabilities, and the five logits of its words and word
  pairs (`nlu.lexical`);
- the customer's previous turn: its sentence embedding, message-model probabilities and
  lexical logits (urgency and frustration often carry over from it);
- the reply before the turn (bot or agent): its sentence embedding;
- how close the turn is to each (cosine), and whether each exists;
- this model's own scores of the previous turn, read in its context (the pipeline stores
  them with that turn): urgency lasts while the harm is open, so an order number given
  after "my dress for the wedding tomorrow hasn't come" is urgent too, and the previous
  turn's message alone says less about that than its reading in context.

Five small networks (one hidden layer each, trained with different seeds; their logits
are averaged) map them to the same three scores as the message
model: sentiment, frustration and urgency, calibrated by one temperature per head on the
calibration conversations. Without context (first message, `nlu.score` without it) the
context parts are zero and the flags say so; training drops context at random so that
case is learned too.

The artifact (`nlu/artifacts/context/`) is numpy only: `weights.npz` (the networks, the
temperatures and the lexical cues) and `config.json` (settings, data version, the
calibration split's figures). `python -m nlu.train_context` trains it (`make train-context`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu.errors import ArtifactError, ModelNotFoundError
from nlu.lexical import OUTPUTS as LEXICAL
from nlu.lexical import LexicalCues

CONTEXT_DIR = Path(__file__).resolve().parent / "artifacts" / "context"
WEIGHTS = "weights.npz"
CONFIG = "config.json"
DIMENSION = 384
PROBABILITIES = 5  # negative, neutral, positive, frustrated, urgent
FEATURES = 2 * (DIMENSION + PROBABILITIES + LEXICAL) + 2 * DIMENSION + 4 + PROBABILITIES
EPSILON = 1e-4


@dataclass(frozen=True)
class TurnContext:
    """What came before a customer turn: the customer's previous message and the reply
    (bot or agent) right before this turn. Empty strings: there was none.

    `previous_scores`: this model's scores of the previous message read in its own
    context (P(negative), P(neutral), P(positive), P(frustrated), P(urgent)), as the
    pipeline stored them with that turn. None: worked out from the previous message
    without its context."""

    previous_customer: str = ""
    last_reply: str = ""
    previous_scores: tuple[float, ...] | None = None

    @property
    def empty(self) -> bool:
        return not self.previous_customer and not self.last_reply


def _probability_features(p: np.ndarray) -> np.ndarray:
    """Log-probabilities for sentiment, logits for frustration and urgency."""
    p = np.clip(p.astype(np.float32), EPSILON, 1 - EPSILON)
    sentiment = np.log(p[:, :3])
    binary = np.log(p[:, 3:]) - np.log1p(-p[:, 3:])
    return np.concatenate([sentiment, binary], axis=1)


def turn_features(
    message: np.ndarray,
    message_hidden: np.ndarray,
    message_probs: np.ndarray,
    lexical: np.ndarray,
    previous: np.ndarray,
    previous_probs: np.ndarray,
    previous_lexical: np.ndarray,
    reply: np.ndarray,
    has_previous: np.ndarray,
    has_reply: np.ndarray,
    previous_in_context: np.ndarray,
) -> np.ndarray:
    """[n, FEATURES] from sentence embeddings [n, 384] (L2-normalised), the message
    model's pooled state [n, 384] and probabilities [n, 5], and the message's lexical
    logits [n, 5]; `previous_in_context` [n, 5] is this model's probabilities of the
    previous turn in its context. Rows without a previous turn or reply have `has_*` 0;
    their vectors are ignored. The previous turn's scores are the last five columns."""
    hp = has_previous.astype(np.float32)[:, None]
    hr = has_reply.astype(np.float32)[:, None]
    previous = previous * hp
    reply = reply * hr
    return np.concatenate(
        [
            message,
            message_hidden,
            _probability_features(message_probs),
            lexical,
            previous,
            _probability_features(previous_probs) * hp,
            previous_lexical * hp,
            reply,
            (message * previous).sum(axis=1, keepdims=True),
            (message * reply).sum(axis=1, keepdims=True),
            hp,
            hr,
            _probability_features(previous_in_context) * hp,
        ],
        axis=1,
    ).astype(np.float32)


def gelu(x: np.ndarray) -> np.ndarray:
    """tanh approximation, as `torch.nn.GELU(approximate="tanh")` in training."""
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class ContextModel:
    """Loads the artifact on first use (thread-safe); `probabilities(features)`."""

    def __init__(self, directory: Path = CONTEXT_DIR) -> None:
        self.directory = directory
        self._weights: dict[str, np.ndarray] | None = None
        self._lexical: LexicalCues | None = None
        self._lock = threading.Lock()

    @property
    def weights(self) -> dict[str, np.ndarray]:
        if self._weights is None:
            with self._lock:
                if self._weights is None:
                    self._weights = self._load()
        return self._weights

    def _load(self) -> dict[str, np.ndarray]:
        path = self.directory / WEIGHTS
        if not path.is_file():
            raise ModelNotFoundError(
                f"No context emotion model at {path}. Restore nlu/artifacts/context from git, "
                "or train one with `make train-context`."
            )
        with np.load(path) as data:
            weights = {
                k: data[k] if k == "lex_terms" else data[k].astype(np.float32) for k in data.files
            }
        if "lex_terms" not in weights:
            raise ArtifactError(
                f"{path} has no lexical model; retrain it with `make train-context`."
            )
        self._lexical = LexicalCues.from_arrays(weights)
        expected = {"w1": (FEATURES,), "temperature": (3,)}
        for key, shape in expected.items():
            got = weights[key].shape if key in weights else ()
            if key == "w1":
                got = got[1:]  # [members, FEATURES, hidden]
            if got[: len(shape)] != shape:
                raise ArtifactError(
                    f"{path} does not match this code ({key} should start with shape "
                    f"{shape}); retrain it with `make train-context`."
                )
        return weights

    @property
    def lexical(self) -> LexicalCues:
        _ = self.weights
        assert self._lexical is not None
        return self._lexical

    def logits(self, features: np.ndarray) -> np.ndarray:
        """[n, 5] uncalibrated logits, the mean of the members': sentiment (3),
        frustration, urgency."""
        w = self.weights
        hidden = gelu(np.einsum("nf,kfh->knh", features, w["w1"]) + w["b1"][:, None, :])
        z = np.einsum("knh,kho->kno", hidden, w["w2"]) + w["b2"][:, None, :]
        return np.asarray(z.mean(axis=0), dtype=np.float32)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """[n, 5] calibrated: P(negative), P(neutral), P(positive), P(frustrated), P(urgent)."""
        if len(features) == 0:
            return np.zeros((0, PROBABILITIES), np.float32)
        z = self.logits(features)
        t = self.weights["temperature"]
        return np.concatenate(
            [_softmax(z[:, :3] / t[0]), _sigmoid(z[:, 3:4] / t[1]), _sigmoid(z[:, 4:5] / t[2])],
            axis=1,
        ).astype(np.float32)

    def config(self) -> dict[str, object]:
        path = self.directory / CONFIG
        try:
            data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ArtifactError(
                f"{path} is unreadable ({e}); retrain with `make train-context`."
            ) from e
        return data
