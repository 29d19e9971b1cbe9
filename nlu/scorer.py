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

With `context` (one `TurnContext` per text: the customer's previous message and the reply
before the turn), `score` reads each text with its conversation through the context
model (`nlu.context_model`); the message model's own scores are its input. The sentence
embeddings and message scores of context texts are remembered (`MEMORY_SIZE` texts), so
inside Rasa the previous message and the bot's usual replies are not encoded again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.emotion import EmotionScores
from nlu.artifact import ARTIFACT_DIR
from nlu.context_model import (
    CONTEXT_DIR,
    PROBABILITIES,
    ContextModel,
    TurnContext,
    turn_features,
)
from nlu.encoder import Encoding, SharedEncoder, shared_encoder
from nlu.text import normalise

if TYPE_CHECKING:
    from nlu.emotion_model import EmotionHeads

BATCH_SIZE = 64
# Context texts remembered: (sentence embedding, message scores, pooled state) of recent
# customer messages and replies. 4,096 × 773 float32 ≈ 13 MB.
MEMORY_SIZE = 4096


BACKENDS = ("auto", "torch", "onnx")


class EmotionScorer:
    def __init__(
        self,
        encoder: SharedEncoder | None = None,
        model_dir: Path = ARTIFACT_DIR,
        backend: str = "auto",
        context_dir: Path = CONTEXT_DIR,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self._encoder = encoder
        self.model_dir = model_dir
        self.backend = backend
        self._heads: EmotionHeads | None = None
        self._onnx: Any = None
        self._lock = threading.Lock()
        self.context_model = ContextModel(context_dir)
        # The committed models' vectors are the same for every scorer of them: shared
        # across instances, so a channel can ask whether a context text is known.
        shared = model_dir.resolve() == ARTIFACT_DIR.resolve()
        self._memory = _MEMORY if shared else OrderedDict()
        self._memory_lock = _MEMORY_LOCK if shared else threading.Lock()

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

    def score(
        self, texts: list[str], context: Sequence[TurnContext | None] | None = None
    ) -> list[EmotionScores]:
        """Scores of each text alone, or, with `context` (one per text, None for none),
        of each text read with its conversation."""
        texts = [t or "" for t in texts]
        if context is None:
            return [EmotionScores.from_row(row) for row in self.probabilities(texts)]
        if len(context) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(context)} contexts; give one each")
        vectors = self.vectors(texts)
        rows = self.in_context(texts, vectors, context)
        return [EmotionScores.from_row(row) for row in rows]

    # --- context ----------------------------------------------------------------------

    def vectors(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence embeddings [n, 384], message scores [n, 5], the heads' pooled state
        [n, 384]) of `texts`, from memory where known; the others are encoded in one batch
        and remembered."""
        keys = [normalise(t or "") for t in texts]
        with self._memory_lock:
            known = {k: self._memory[k] for k in set(keys) if k in self._memory}
            for k in known:
                self._memory.move_to_end(k)
        missing = sorted(set(keys) - set(known))
        if len(missing) <= BATCH_SIZE:  # single turns: take what `prepare` encoded
            for key in list(missing):
                ready = self.encoder.take_prepared(key)
                if ready is not None:
                    probs, hidden = self.encoding_vectors(ready, [key])
                    known[key] = (ready.sentence[0], probs[0], hidden[0])
                    self.remember([key], ready.sentence, probs, hidden)
                    missing.remove(key)
        for start in range(0, len(missing), BATCH_SIZE):
            batch = missing[start : start + BATCH_SIZE]
            encoding = self.encoder.compute(batch)
            probs, hidden = self.encoding_vectors(encoding, batch)
            for i, key in enumerate(batch):
                known[key] = (encoding.sentence[i], probs[i], hidden[i])
            self.remember(batch, encoding.sentence, probs, hidden)
        if not keys:
            empty = np.zeros((0, 384), np.float32)
            return empty, np.zeros((0, 5), np.float32), empty
        return tuple(  # type: ignore[return-value]
            np.stack([known[k][part] for k in keys]).astype(np.float32) for part in range(3)
        )

    def encoding_vectors(
        self, encoding: Encoding, texts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(message scores [n, 5], the heads' pooled state [n, 384]) of encoded `texts`:
        from the shared graph when it carries these heads, else the heads in PyTorch on
        the encoding's branch (or the texts' lower layers)."""
        if encoding.emotion is not None and encoding.emotion_hidden is not None and self.in_graph:
            return np.asarray(encoding.emotion, np.float32), np.asarray(
                encoding.emotion_hidden, np.float32
            )
        import torch

        if encoding.branch is not None and encoding.branch_layer == self.heads.branch_layer:
            branch, mask = encoding.branch, torch.as_tensor(encoding.mask)
        else:
            branch, mask = self.encoder.encode_lower(list(texts), self.heads.branch_layer)
        with torch.inference_mode():
            scores, pooled = self.heads.scores_and_pooled(branch, mask)
        return scores.numpy().astype(np.float32), pooled.numpy().astype(np.float32)

    def remember(
        self, texts: Sequence[str], sentence: np.ndarray, probs: np.ndarray, hidden: np.ndarray
    ) -> None:
        """Keep texts' vectors for later turns' context."""
        with self._memory_lock:
            for i, text in enumerate(texts):
                key = normalise(text or "")
                # Copies: a row view would keep its whole batch's arrays alive.
                self._memory[key] = (
                    np.array(sentence[i], np.float32),
                    np.array(probs[i], np.float32),
                    np.array(hidden[i], np.float32),
                )
                self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_SIZE:
                self._memory.popitem(last=False)

    def in_context(
        self,
        texts: Sequence[str],
        vectors: tuple[np.ndarray, np.ndarray, np.ndarray],
        context: Sequence[TurnContext | None],
    ) -> np.ndarray:
        """[n, 5] context-model probabilities for turns `texts`, whose own vectors (as
        `vectors` gives them) are `vectors`."""
        sentence, probs, hidden = vectors
        contexts = [c or TurnContext() for c in context]
        previous_texts = [c.previous_customer for c in contexts]
        reply_texts = [c.last_reply for c in contexts]
        present = [t for t in previous_texts + reply_texts if t]
        if present:
            e, p, _ = self.vectors(present)
            lookup = {normalise(t): (e[i], p[i]) for i, t in enumerate(present)}
        else:
            lookup = {}
        blank = (np.zeros(384, np.float32), np.full(5, 1 / 3, np.float32))

        def column(texts: list[str], part: int) -> np.ndarray:
            return np.stack(
                [lookup.get(normalise(t), blank)[part] if t else blank[part] for t in texts]
            )

        # The previous turn's own reading in context: as given (the pipeline stored it),
        # else from the previous message without its context.
        previous_in_context = np.full((len(contexts), PROBABILITIES), 1 / 3, np.float32)
        unknown = sorted(
            {
                c.previous_customer
                for c in contexts
                if c.previous_customer and c.previous_scores is None
            }
        )
        by_text: dict[str, np.ndarray] = {}
        if unknown:
            alone = self.in_context(unknown, self.vectors(unknown), [None] * len(unknown))
            by_text = dict(zip(unknown, alone, strict=True))
        for i, c in enumerate(contexts):
            if c.previous_scores is not None and len(c.previous_scores) != PROBABILITIES:
                raise ValueError(
                    f"previous_scores has {len(c.previous_scores)} values; give the "
                    f"{PROBABILITIES} of a scores row (EmotionScores.row())"
                )
            if c.previous_customer:
                previous_in_context[i] = (
                    by_text[c.previous_customer]
                    if c.previous_scores is None
                    else np.asarray(c.previous_scores, np.float32)[:PROBABILITIES]
                )
        lexical = self.context_model.lexical
        features = turn_features(
            sentence,
            hidden,
            probs,
            lexical.logits([normalise(t or "") for t in texts]),
            column(previous_texts, 0),
            column(previous_texts, 1),
            lexical.logits([normalise(t) for t in previous_texts]),
            column(reply_texts, 0),
            np.array([bool(t) for t in previous_texts]),
            np.array([bool(t) for t in reply_texts]),
            previous_in_context,
        )
        return self.context_model.probabilities(features)

    def in_conversations(
        self,
        texts: Sequence[str],
        vectors: tuple[np.ndarray, np.ndarray, np.ndarray],
        context: Sequence[TurnContext | None],
        previous: Sequence[int],
    ) -> np.ndarray:
        """`in_context` for the turns of whole conversations, as the pipeline scores
        them one after the other: `previous[i]` is the index in `texts` of turn i's
        previous customer turn (-1: none), whose scores become turn i's
        `previous_scores`. A previous turn comes before the turn."""
        n = len(texts)
        if len(context) != n or len(previous) != n:
            raise ValueError(f"{n} texts, {len(context)} contexts, {len(previous)} previous turns")
        depth = np.zeros(n, np.int64)
        for i, j in enumerate(previous):
            if j >= i:
                raise ValueError(f"turn {i}'s previous turn {j} does not come before it")
            depth[i] = 0 if j < 0 else depth[j] + 1
        rows = np.zeros((n, PROBABILITIES), np.float32)
        for level in range(int(depth.max(initial=-1)) + 1):
            idx = np.flatnonzero(depth == level)
            contexts = []
            for i in idx:
                c = context[i] or TurnContext()
                if previous[i] >= 0:
                    c = replace(c, previous_scores=tuple(float(p) for p in rows[previous[i]]))
                contexts.append(c)
            part = tuple(v[idx] for v in vectors)
            rows[idx] = self.in_context([texts[i] for i in idx], part, contexts)  # type: ignore[arg-type]
        return rows

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
        return [EmotionScores.from_row(row) for row in self.encoding_probabilities(encoding)]

    def encoding_probabilities(self, encoding: Encoding) -> np.ndarray:
        """[n, 5] message-model probabilities from an existing encoding; see `can_reuse`."""
        if encoding.emotion is not None and self.in_graph:
            return np.asarray(encoding.emotion, np.float32)
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
            return np.asarray(
                self.heads(encoding.branch, torch.as_tensor(encoding.mask)).numpy(), np.float32
            )


_MEMORY: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
_MEMORY_LOCK = threading.Lock()


def remembered(text: str) -> bool:
    """Whether the committed model's vectors of (normalised) `text` are in memory."""
    with _MEMORY_LOCK:
        return text in _MEMORY


_default: EmotionScorer | None = None
_default_lock = threading.Lock()


def default_scorer() -> EmotionScorer:
    global _default
    with _default_lock:
        if _default is None:
            _default = EmotionScorer()
        return _default


def score(
    texts: list[str], context: Sequence[TurnContext | None] | None = None
) -> list[EmotionScores]:
    """Score customer messages with the project's emotion model (see `EmotionScorer`);
    with `context`, each read with its conversation."""
    return default_scorer().score(list(texts), context)
