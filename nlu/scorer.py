"""`EmotionScorer`: sentiment, frustration and urgency for customer messages.

    >>> scorer = EmotionScorer()                 # cheap; loads on first use
    >>> [s.frustration for s in scorer.score(["Where is my refund?"])]
    [0.12]

`score` encodes texts itself; `score_encoding` reuses an encoding already made by
`SharedEncoderFeaturizer`, so inside Rasa a message is encoded once and scoring costs
only the emotion model's own layers and heads. Texts are normalised first
(`nlu.text.normalise`: no mentions, links or hashtag signs). Any text is accepted:
empty, emoji-only, any language, any length (cut at 128 word pieces).

Backends for `score`: `torch` is the float32 scorer: the encoder's shared graph when it
runs one (`nlu.onnx_encoder`, MiniLM and the heads together), else the shared lower
layers and the heads in PyTorch, with the same numbers to within 1e-5; `onnx` runs the
scorer alone as one int8 ONNX Runtime graph (`nlu.onnx_scorer`, built by setup), within
quantisation error of `torch`; `auto` (the default) uses `onnx` when its graph is built
from the current artifact, else `torch`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.emotion import EmotionScores
from nlu.artifact import ARTIFACT_DIR
from nlu.encoder import Encoding, SharedEncoder, shared_encoder
from nlu.text import normalise

if TYPE_CHECKING:
    from nlu.emotion_model import EmotionHeads

BATCH_SIZE = 64


BACKENDS = ("auto", "torch", "onnx")


class EmotionScorer:
    def __init__(
        self,
        encoder: SharedEncoder | None = None,
        model_dir: Path = ARTIFACT_DIR,
        backend: str = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self._encoder = encoder
        self.model_dir = model_dir
        self.backend = backend
        self._heads: EmotionHeads | None = None
        self._onnx: Any = None
        self._lock = threading.Lock()

    @property
    def onnx(self) -> Any:
        """The int8 ONNX scorer when the backend uses it, else None."""
        if self._onnx is None and self.backend != "torch":
            from nlu.onnx_scorer import ONNX_FILE, OnnxEmotionScorer, is_current, onnx_dir_for

            directory = onnx_dir_for(self.model_dir)
            if self.backend == "onnx" or is_current(self.model_dir, directory):
                self._onnx = OnnxEmotionScorer(directory / ONNX_FILE)
        return self._onnx

    @property
    def encoder(self) -> SharedEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    @property
    def heads(self) -> EmotionHeads:
        if self._heads is None:
            with self._lock:
                if self._heads is None:
                    from nlu.emotion_model import EmotionHeads  # torch: only when used

                    self._heads = EmotionHeads.load(self.model_dir)
        return self._heads

    @property
    def in_graph(self) -> bool:
        """Whether the encoder's graph carries these heads: it runs the committed
        artifact's, so only a scorer of that artifact may read its `emotion`."""
        return self.model_dir.resolve() == ARTIFACT_DIR.resolve() and self.encoder.uses_graph

    def warm_up(self) -> EmotionScorer:
        if not self.in_graph:
            _ = self.heads  # the graph has the heads in it: no PyTorch then
        if self.onnx is not None:
            self.onnx.warm_up()
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """[n, 5]: P(negative), P(neutral), P(positive), P(frustrated), P(urgent)."""
        texts = [normalise(t or "") for t in texts]
        if self.onnx is not None:
            return self.onnx.probabilities(texts)
        rows: list[np.ndarray] = []
        if self.in_graph:
            for start in range(0, len(texts), BATCH_SIZE):
                emotion = self.encoder.encode(texts[start : start + BATCH_SIZE]).emotion
                assert emotion is not None  # the graph always scores
                rows.append(emotion)
            return np.concatenate(rows) if rows else np.zeros((0, 5), np.float32)
        import torch

        layers = self.heads.branch_layer
        for start in range(0, len(texts), BATCH_SIZE):
            branch, mask = self.encoder.encode_lower(texts[start : start + BATCH_SIZE], layers)
            with torch.inference_mode():
                rows.append(self.heads(branch, mask).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, 5), np.float32)

    def score(self, texts: list[str]) -> list[EmotionScores]:
        return [EmotionScores.from_row(row) for row in self.probabilities([t or "" for t in texts])]

    def can_reuse(self, text: str, encoding: Encoding) -> bool:
        """Whether `encoding` (of `text`) is what the heads read: the text needs no
        normalising and the encoding carries the heads' scores or branches off at the
        heads' layer."""
        if normalise(text) != text:
            return False
        if encoding.emotion is not None and self.in_graph:
            return True
        return encoding.branch is not None and encoding.branch_layer == self.heads.branch_layer

    def score_encoding(self, encoding: Encoding) -> list[EmotionScores]:
        """Scores from an existing encoding (no second encoder pass); see `can_reuse`."""
        if encoding.emotion is not None and self.in_graph:
            return [EmotionScores.from_row(row) for row in encoding.emotion]
        if encoding.branch is None:
            raise ValueError(
                f"The encoding carries no layer states for the emotion model in "
                f"{self.model_dir} (it came from the shared graph, which scores only the "
                "committed model). Score the text with `score` instead."
            )
        import torch

        if encoding.branch_layer != self.heads.branch_layer:
            raise ValueError(
                f"The encoding branches off after layer {encoding.branch_layer}, but the "
                f"emotion model in {self.model_dir} reads layer {self.heads.branch_layer}. "
                "Score the text with `score` instead, or retrain the model for this encoder."
            )
        with torch.inference_mode():
            rows = self.heads(encoding.branch, torch.as_tensor(encoding.mask)).numpy()
        return [EmotionScores.from_row(row) for row in rows]


_default: EmotionScorer | None = None
_default_lock = threading.Lock()


def default_scorer() -> EmotionScorer:
    global _default
    with _default_lock:
        if _default is None:
            _default = EmotionScorer()
        return _default


def score(texts: list[str]) -> list[EmotionScores]:
    """Score customer messages with the project's emotion model (see `EmotionScorer`)."""
    return default_scorer().score(list(texts))
