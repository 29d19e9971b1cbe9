"""`LexicalIndex`: BM25 over passages (bm25s), for exact words the embedding blurs —
product names, "Klarna", "2FA", order statuses."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)
LEXICAL_DIR = "bm25"


class LexicalIndex:
    def __init__(self, model: Any = None) -> None:
        self.model = model

    @staticmethod
    def _tokens(texts: list[str]) -> object:
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", show_progress=False)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        model = bm25s.BM25()
        model.index(cls._tokens(texts), show_progress=False)
        return cls(model)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no word matches)."""
        import bm25s

        if self.model is None:
            return np.zeros(0, np.float32)
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
        words = [w for w in tokens[0] if w in self.model.vocab_dict]
        if not words:
            return np.zeros(self.model.scores["num_docs"], np.float32)
        return np.asarray(self.model.get_scores(words), dtype=np.float32)

    def save(self, directory: Path) -> None:
        assert self.model is not None
        self.model.save(str(directory / LEXICAL_DIR), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        path = directory / LEXICAL_DIR
        try:
            return cls(bm25s.BM25.load(str(path), show_progress=False))
        except (OSError, ValueError, json.JSONDecodeError) as e:
            from knowledge.errors import CorruptIndexError

            raise CorruptIndexError(
                f"{path} is unreadable ({e}). Rebuild with `make index`."
            ) from e
