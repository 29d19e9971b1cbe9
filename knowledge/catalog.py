"""`PassageCatalog`: the text of indexed passages, without the model or the vector index.

The action server shows answers from hits that the Rasa server found; it reads the
passage texts from the index directory (passages.json), reloading when the index is
rebuilt.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from knowledge.articles import SECTION, Passage
from knowledge.errors import CorruptIndexError, IndexNotFoundError
from knowledge.index import MANIFEST, PASSAGES
from knowledge.retriever import index_dir


class PassageCatalog:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or index_dir()
        self._by_key: dict[tuple[str, str], Passage] = {}
        self._first: dict[str, Passage] = {}
        self._mtime: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            mtime = (self.directory / MANIFEST).stat().st_mtime
        except OSError as e:
            raise IndexNotFoundError(
                f"No help-center index at {self.directory}. Build it with `make index`."
            ) from e
        if mtime == self._mtime:
            return
        with self._lock:
            try:
                rows = json.loads((self.directory / PASSAGES).read_text())
                passages = [Passage(**r) for r in rows]
            except (OSError, ValueError, TypeError) as e:
                raise CorruptIndexError(
                    f"{self.directory / PASSAGES} is unreadable ({e}). Rebuild with `make index`."
                ) from e
            sections = [p for p in passages if p.kind == SECTION]
            self._by_key = {(p.article_id, p.section): p for p in sections}
            self._first = {}
            for p in sections:
                self._first.setdefault(p.article_id, p)
            self._mtime = mtime

    def passage(self, article_id: str, section: str) -> Passage | None:
        """The section of an article (or its first section if that one is gone)."""
        self._refresh()
        return self._by_key.get((article_id, section)) or self._first.get(article_id)
