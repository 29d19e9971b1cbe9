"""`CharNgrams`: sublinear TF-IDF of character n-grams within word boundaries, L2-normalised.

Robust to typos ("refnd", "pasword") where word-level matching fails. Used by the intent
classifier and by help-center retrieval. Persisted as a vocabulary and idf (no pickles).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer


class CharNgrams:
    def __init__(
        self, vocabulary: dict[str, int], idf: np.ndarray, ngram_range: tuple[int, int] = (1, 4)
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.ngram_range = ngram_range
        self._counter = CountVectorizer(
            analyzer="char_wb", ngram_range=ngram_range, lowercase=True, vocabulary=vocabulary
        )

    @classmethod
    def fit(
        cls, texts: list[str], min_df: int = 2, ngram_range: tuple[int, int] = (1, 4)
    ) -> CharNgrams:
        counter = CountVectorizer(
            analyzer="char_wb", ngram_range=ngram_range, lowercase=True, min_df=min_df
        )
        counts = counter.fit_transform(texts)
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
        vocabulary = {k: int(v) for k, v in counter.vocabulary_.items()}
        return cls(vocabulary, idf.astype(np.float32), ngram_range)

    def transform(self, texts: list[str]) -> csr_matrix:
        """[len(texts), vocabulary] float32, one L2-normalised row per text.

        Works on the non-zero entries directly (a message has a few hundred n-grams);
        going through scipy's elementwise operations cost ten times as long for one text,
        twice per message on the Rasa server's event loop."""
        counts = self._counter.transform(texts)
        counts.sort_indices()
        weights = (1.0 + np.log(counts.data.astype(np.float32))) * self.idf[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights * weights, minlength=counts.shape[0]))
        norms[norms == 0] = 1.0
        data = (weights / norms[rows]).astype(np.float32)
        return csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

    def save(self, directory: Path, name: str) -> None:
        (directory / f"{name}.vocabulary.json").write_text(
            json.dumps({"ngram_range": list(self.ngram_range), "vocabulary": self.vocabulary})
        )
        np.save(directory / f"{name}.idf.npy", self.idf)

    @classmethod
    def load(cls, directory: Path, name: str) -> CharNgrams:
        data = json.loads((directory / f"{name}.vocabulary.json").read_text())
        return cls(
            data["vocabulary"], np.load(directory / f"{name}.idf.npy"), tuple(data["ngram_range"])
        )  # type: ignore[arg-type]
