"""`DocumentStore`: the vector index behind help-center retrieval, and its FAISS versions.

The index type follows the size of the help center: exact inner-product search while it
is small (every passage compared, no recall loss), HNSW from `HNSW_FROM` passages, where
exact search gets slow, and IVF from `IVF_FROM`, where building an HNSW graph takes too
long; `make bench-knowledge` reports their recall against exact search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from knowledge.errors import CorruptIndexError

HNSW_FROM = 50_000
IVF_FROM = 500_000
TRAIN_PER_LIST = 64  # IVF training vectors per list (a sample above that)
INDEX_FILE = "index.faiss"


@runtime_checkable
class DocumentStore(Protocol):
    """A searchable set of L2-normalised vectors, one per passage.

    Contract (tests/knowledge/test_document_store.py runs it against every store):
    - `add(vectors)` appends float32 vectors of the store's dimension; the i-th vector
      added gets id i (ids are positions in the passage list).
    - `search(queries, k)` returns `(scores, ids)`, both `[len(queries), k]`, best first,
      scores being inner products (cosine similarity for normalised vectors); when fewer
      than k vectors exist the missing ids are -1.
    - `len(store)` is the number of vectors; `save(directory)` and
      `type(store).load(directory)` round-trip exactly.
    """

    dimension: int

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def __len__(self) -> int: ...

    def save(self, directory: Path) -> None: ...


class FaissDocumentStore:
    """FAISS `IndexFlatIP` (exact) or `IndexHNSWFlat` (approximate, inner product)."""

    def __init__(
        self,
        dimension: int,
        kind: str = "exact",
        hnsw_m: int = 32,
        ef_search: int = 64,
        nlist: int = 1024,
        nprobe: int = 32,
        index: object | None = None,
    ) -> None:
        import faiss

        if kind not in ("exact", "hnsw", "ivf"):
            raise ValueError(f"kind must be 'exact', 'hnsw' or 'ivf', got {kind!r}")
        self.dimension = dimension
        self.kind = kind
        self.index: Any
        if index is not None:
            self.index = index
        elif kind == "exact":
            self.index = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":
            self.index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = 80
        else:
            self._quantizer = faiss.IndexFlatIP(dimension)
            self.index = faiss.IndexIVFFlat(
                self._quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT
            )
        if kind == "hnsw":
            self.index.hnsw.efSearch = ef_search
        if kind == "ivf":
            self.index.nprobe = nprobe

    @classmethod
    def for_size(cls, dimension: int, size: int) -> FaissDocumentStore:
        if size >= IVF_FROM:
            # √n lists, trained on a sample (TRAIN_PER_LIST vectors per list) — the usual
            # FAISS practice that keeps training minutes, not hours, at a million passages.
            return cls(dimension, "ivf", nlist=int(np.sqrt(size)))
        return cls(dimension, "hnsw" if size >= HNSW_FROM else "exact")

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(
                f"expected vectors of shape [n, {self.dimension}], got {vectors.shape}"
            )
        if self.kind == "ivf" and not self.index.is_trained:
            sample = TRAIN_PER_LIST * self.index.nlist
            if len(vectors) > sample:
                rows = np.random.default_rng(0).choice(len(vectors), sample, replace=False)
                self.index.train(vectors[np.sort(rows)])
            else:
                self.index.train(vectors)
        self.index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            return (
                np.full((len(queries), k), -np.inf, np.float32),
                np.full((len(queries), k), -1, np.int64),
            )
        scores, ids = self.index.search(queries, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def save(self, directory: Path) -> None:
        import faiss

        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(directory / INDEX_FILE))

    @classmethod
    def load(cls, directory: Path) -> FaissDocumentStore:
        import faiss

        path = directory / INDEX_FILE
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise CorruptIndexError(
                f"{path} is not a readable FAISS index ({str(e).splitlines()[0]}). Rebuild it "
                "with `make index`."
            ) from e
        if isinstance(index, faiss.IndexHNSW):
            kind = "hnsw"
        elif isinstance(index, faiss.IndexIVF):
            kind = "ivf"
        else:
            kind = "exact"
        return cls(index.d, kind, index=index)


def exact_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force reference search (for recall measurements)."""
    store = FaissDocumentStore(vectors.shape[1], "exact")
    store.add(vectors)
    return store.search(queries, k)
