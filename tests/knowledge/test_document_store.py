"""The DocumentStore contract, run against every implementation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.document_store import DocumentStore, FaissDocumentStore


def unit(rows: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class DocumentStoreContract:
    """Every DocumentStore implementation inherits these tests."""

    def make(self, dim: int) -> DocumentStore:
        raise NotImplementedError

    def load(self, directory: Path) -> DocumentStore:
        raise NotImplementedError

    def test_is_a_document_store(self) -> None:
        assert isinstance(self.make(16), DocumentStore)

    def test_ids_are_positions_and_best_comes_first(self) -> None:
        store = self.make(16)
        vectors = unit(300)
        store.add(vectors)
        assert len(store) == 300
        scores, ids = store.search(vectors[[7, 42]], 3)
        assert ids[:, 0].tolist() == [7, 42]
        assert np.allclose(scores[:, 0], 1.0, atol=1e-4)
        assert (np.diff(scores, axis=1) <= 1e-6).all()

    def test_fewer_vectors_than_k_pads_with_minus_one(self) -> None:
        store = self.make(16)
        store.add(unit(2))
        _scores, ids = store.search(unit(1, seed=1), 5)
        assert ids.shape == (1, 5) and (ids[0, 2:] == -1).all()

    def test_empty_store_finds_nothing(self) -> None:
        _, ids = self.make(16).search(unit(1), 3)
        assert (ids == -1).all()

    def test_wrong_dimension_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="shape"):
            self.make(16).add(unit(3, dim=8))

    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        store = self.make(16)
        vectors = unit(300)
        store.add(vectors)
        store.save(tmp_path)
        again = self.load(tmp_path)
        assert len(again) == 300
        a, b = store.search(vectors[:5], 4), again.search(vectors[:5], 4)
        assert np.array_equal(a[1], b[1])


class TestExactStore(DocumentStoreContract):
    def make(self, dim: int) -> DocumentStore:
        return FaissDocumentStore(dim, "exact")

    def load(self, directory: Path) -> DocumentStore:
        return FaissDocumentStore.load(directory)


class TestHnswStore(DocumentStoreContract):
    def make(self, dim: int) -> DocumentStore:
        return FaissDocumentStore(dim, "hnsw", ef_search=128)

    def load(self, directory: Path) -> DocumentStore:
        return FaissDocumentStore.load(directory)


class TestIvfStore(DocumentStoreContract):
    def make(self, dim: int) -> DocumentStore:
        return FaissDocumentStore(dim, "ivf", nlist=4, nprobe=4)

    def load(self, directory: Path) -> DocumentStore:
        return FaissDocumentStore.load(directory)

    def test_fewer_vectors_than_k_pads_with_minus_one(self) -> None:
        store = self.make(16)
        store.add(unit(64))  # IVF needs enough vectors to train its centroids
        _, ids = store.search(unit(1, seed=1), 100)
        assert (ids[0, 64:] == -1).all()


def test_index_type_follows_size() -> None:
    assert FaissDocumentStore.for_size(16, 1_000).kind == "exact"
    assert FaissDocumentStore.for_size(16, 100_000).kind == "hnsw"
    assert FaissDocumentStore.for_size(16, 1_000_000).kind == "ivf"
