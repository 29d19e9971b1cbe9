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
        counts = self._counter.transform(texts).astype(np.float32).tocsr()
        counts.data = 1.0 + np.log(counts.data)
        weighted = counts.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return csr_matrix(weighted.multiply(1.0 / norms[:, None]))

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
