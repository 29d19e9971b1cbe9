"""`Retriever`: help-center search with dense + lexical fusion and an answer confidence.

    >>> retriever = Retriever()                       # cheap; loads on first search
    >>> hits = retriever.search("how long do refunds take to show on my card")
    >>> hits[0].article_id, hits[0].url
    ('refund-timing', 'https://help.brightbasket.example/articles/refund-timing')

Scoring: every entry (section, related question) gets
`dense + lexical_weight · bm25 / (bm25 + bm25_half) + char_weight · chars` — cosine
similarity of the MiniLM embeddings, a saturating BM25 term and the cosine of character
n-gram TF-IDF (typos), all on comparable scales without per-query normalisation. An
article scores its best entry plus `summary_weight` × the similarity of its summary, and is
shown by its best section; `search` returns up to k distinct articles.

`confidence(hits)` is the probability that the top article answers the question, from
a logistic model over four features of the top two hits: the top score, its lead over
the runner-up, the cosine of the top passage and its lead over the runner-up's passage
(`ConfidenceModel.FEATURES`). Word overlap is deliberately not a feature of its own: it
is already in the score, and counted again it made paraphrases that share no word with
the passage look unsure and answers that merely share words with the question look
sure. The model is fitted when the index is built, on questions made from the help
center itself and on out-of-scope questions from public corpora (`knowledge.calibration`;
confidence.json).
Below `threshold` the bot says it is not sure and offers a person.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.paths import MODELS_DIR, PROJECT_ROOT
from knowledge.errors import CorruptIndexError
from knowledge.index import MANIFEST, HelpCenterIndex

DEFAULT_INDEX_DIR = MODELS_DIR / "knowledge"
CONFIDENCE_FILE = "confidence.json"
CANDIDATES = 100  # entries taken from the vector store before fusion (large indexes)
EXHAUSTIVE_BELOW = 20_000  # below this many entries every entry is scored exactly


def index_dir() -> Path:
    """KNOWLEDGE_DIR if set, else models/knowledge."""
    value = os.environ.get("KNOWLEDGE_DIR")
    if not value:
        return DEFAULT_INDEX_DIR
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Hit:
    """One help-center article found for a query, represented by its best passage."""

    article_id: str
    title: str
    url: str
    section: str
    passage: str
    score: float  # fused score used for ranking
    dense: float  # cosine similarity of the passage embedding
    lexical: float  # BM25 of the passage

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FusionConfig:
    """Weights of the score terms (chosen on the development part of data/eval/)."""

    lexical_weight: float = 0.4  # saturating BM25 term
    bm25_half: float = 5.0  # BM25 score at which the term reaches half its weight
    char_weight: float = 0.4  # character n-gram cosine (typos)
    summary_weight: float = 0.3  # similarity to the article's summary entry


@dataclass
class ConfidenceModel:
    """Logistic model P(top article is right | features of the top two hits); threshold.

    The defaults are the model `make index` fitted on the 55 sample articles with
    ../shared/data present (`knowledge.calibration`); an index built without the public
    corpora uses them.
    """

    FEATURES: ClassVar[tuple[str, ...]] = (
        "top score",
        "score lead over the runner-up",
        "top passage cosine",
        "cosine lead over the runner-up",
    )

    coef: list[float] = field(default_factory=lambda: [3.6003, 4.1177, 3.5684, 3.493])
    intercept: float = -6.2671
    threshold: float = 0.39

    @staticmethod
    def features(hits: list[Hit]) -> list[float]:
        """The model's inputs, from `search` hits (k ≥ 2: the runner-up is a feature)."""
        if not hits:
            return [0.0] * len(ConfidenceModel.FEATURES)
        top = hits[0]
        second_score, second_dense = (hits[1].score, hits[1].dense) if len(hits) > 1 else (0, 0)
        return [top.score, top.score - second_score, top.dense, top.dense - second_dense]

    def probability(self, hits: list[Hit]) -> float:
        if not hits:
            return 0.0
        z = self.intercept + sum(c * x for c, x in zip(self.coef, self.features(hits), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, directory: Path) -> ConfidenceModel:
        """The model in `directory`, or the defaults when the index has none.

        Raises `CorruptIndexError` for a model fitted on other features (an index built
        by an older version): its coefficients would be applied to the wrong inputs.
        """
        path = directory / CONFIDENCE_FILE
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text())
            features = tuple(data.get("features") or ())
            model = cls(
                [float(c) for c in data["coef"]], float(data["intercept"]), float(data["threshold"])
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise CorruptIndexError(
                f"{path} is unreadable ({e.__class__.__name__}: {e}). Rebuild it with `make index`."
            ) from e
        if features != cls.FEATURES or len(model.coef) != len(cls.FEATURES):
            raise CorruptIndexError(
                f"{path} was fitted on the features {list(features)}; this version computes "
                f"{list(cls.FEATURES)}. Rebuild the index with `make index`."
            )
        return model

    def save(self, directory: Path, extra: dict[str, Any] | None = None) -> None:
        data = {
            "features": list(self.FEATURES),
            "coef": self.coef,
            "intercept": self.intercept,
            "threshold": self.threshold,
            **(extra or {}),
        }
        (directory / CONFIDENCE_FILE).write_text(json.dumps(data, indent=2) + "\n")


class Retriever:
    def __init__(
        self, directory: Path | None = None, encoder: Any = None, fusion: FusionConfig | None = None
    ) -> None:
        self.directory = directory or index_dir()
        self._encoder = encoder
        self.fusion = fusion or FusionConfig()
        self._index: HelpCenterIndex | None = None
        self._confidence: ConfidenceModel | None = None
        self._loaded_mtime: float | None = None
        self._lock = threading.Lock()

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from nlu.encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    @property
    def index(self) -> HelpCenterIndex:
        self.reload_if_changed()
        assert self._index is not None
        return self._index

    @property
    def confidence_model(self) -> ConfidenceModel:
        self.reload_if_changed()
        assert self._confidence is not None
        return self._confidence

    def reload_if_changed(self) -> bool:
        """(Re)load the index when its manifest changed on disk; True if it loaded."""
        manifest = self.directory / MANIFEST
        try:
            mtime = manifest.stat().st_mtime
        except OSError:
            mtime = None
        if self._index is not None and mtime == self._loaded_mtime:
            return False
        with self._lock:
            if self._index is None or mtime != self._loaded_mtime:
                index = HelpCenterIndex.load(self.directory)  # raises a clear error if missing
                self._confidence = ConfidenceModel.load(self.directory)
                self._index, self._loaded_mtime = index, mtime
                return True
        return False

    def warm_up(self) -> Retriever:
        self.reload_if_changed()
        self.encoder.warm_up()
        return self

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Up to k distinct articles for the query, best first."""
        if not query or not query.strip():
            return []
        embedding = self.encoder.encode([query[:2000]]).sentence[0]
        return self.search_embedding(query, embedding, k)

    def search_embedding(
        self,
        query: str,
        embedding: np.ndarray,
        k: int = 5,
        *,
        exclude: frozenset[int] = frozenset(),
    ) -> list[Hit]:
        """Like `search`, with the query already embedded (inside Rasa: the shared pass).

        `exclude`: positions of index entries to leave out, so that a related question of
        an article can be asked without finding itself (`knowledge.calibration`).
        """
        if not query or not query.strip():
            return []
        index = self.index
        n = len(index)
        if n == 0:
            return []
        query = query[:2000]
        embedding = np.asarray(embedding, np.float32)
        if n <= EXHAUSTIVE_BELOW:
            candidates = np.arange(n)
            dense = index.vectors @ embedding
        else:
            scores, ids = index.store.search(embedding[None, :], min(CANDIDATES, n))
            keep = ids[0] >= 0
            candidates, dense = ids[0][keep], scores[0][keep]
        bm25 = index.lexical.scores(query)
        bm25 = bm25[candidates] if bm25.size else np.zeros(len(candidates), np.float32)
        chars = (index.char_matrix[candidates] @ index.chars.transform([query]).T).toarray().ravel()
        f = self.fusion
        fused = dense + f.lexical_weight * bm25 / (bm25 + f.bm25_half) + f.char_weight * chars
        return self._rank(candidates, fused.astype(np.float64), dense, bm25, k, exclude)

    def _rank(
        self,
        candidates: np.ndarray,
        fused: np.ndarray,
        dense: np.ndarray,
        bm25: np.ndarray,
        k: int,
        exclude: frozenset[int],
    ) -> list[Hit]:
        """The k best articles among the scored candidates.

        An article scores its best passage (section or question) plus
        `summary_weight` × its summary's dense score, and is shown by its best section;
        articles without a section are left out. Equal scores keep the order in which
        the articles' passages first appear."""
        index = self.index
        codes = index.article_code[candidates]
        usable = np.ones(len(candidates), bool)
        if exclude:
            usable &= ~np.isin(candidates, np.fromiter(exclude, np.int64, len(exclude)))
        summary = index.is_summary[candidates]
        section = index.is_section[candidates]
        articles = len(index.article_ids)
        # The summary bonus: of each article's summaries, the last one scored.
        bonus = np.zeros(articles)
        last = np.flatnonzero(usable & summary)[::-1]
        if last.size:
            _, first_of_reversed = np.unique(codes[last], return_index=True)
            chosen = last[first_of_reversed]
            bonus[codes[chosen]] = self.fusion.summary_weight * dense[chosen].astype(np.float64)
        scored = np.flatnonzero(usable & ~summary)
        best = np.full(articles, -np.inf)
        np.maximum.at(best, codes[scored], fused[scored])
        first_seen = np.full(articles, len(candidates))
        np.minimum.at(first_seen, codes[scored], scored)
        # Each article's best section (the first of equals).
        sections = np.flatnonzero(usable & section)
        if not sections.size:
            return []
        by_article = sections[np.lexsort((sections, -fused[sections], codes[sections]))]
        _, first = np.unique(codes[by_article], return_index=True)
        shown = by_article[first]
        shown_codes = codes[shown]
        totals = np.array([round(float(x), 4) for x in best[shown_codes] + bonus[shown_codes]])
        top = np.lexsort((first_seen[shown_codes], -totals))[:k]
        hits = []
        for t in top:
            passage = index.passages[int(candidates[shown[t]])]
            hits.append(
                Hit(
                    passage.article_id,
                    passage.title,
                    passage.url,
                    passage.section,
                    passage.text,
                    float(totals[t]),
                    round(float(dense[shown[t]]), 4),
                    round(float(bm25[shown[t]]), 4),
                )
            )
        return hits

    def confidence(self, hits: list[Hit]) -> float:
        """Probability that `hits[0]` answers the question (hits from `search`, k ≥ 2)."""
        return self.confidence_model.probability(hits)

    @property
    def threshold(self) -> float:
        return self.confidence_model.threshold


_default: Retriever | None = None
_default_lock = threading.Lock()


def default_retriever() -> Retriever:
    global _default
    with _default_lock:
        if _default is None:
            _default = Retriever()
        return _default


def search(query: str, k: int = 5) -> list[Hit]:
    """Search the help center (see `Retriever.search`)."""
    return default_retriever().search(query, k)
