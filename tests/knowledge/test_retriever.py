from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from knowledge.articles import load_articles
from knowledge.errors import CorruptIndexError, IndexNotFoundError
from knowledge.index import MANIFEST, HelpCenterIndex
from knowledge.retriever import Retriever

FIXTURES = Path(__file__).parent / "fixtures"


def test_finds_the_right_article_with_its_citation(retriever: Retriever) -> None:
    hits = retriever.search("how long until a refund is back on my visa card", k=3)
    assert hits[0].article_id == "refund-timing"
    assert hits[0].url == "https://help.example/articles/refund-timing"
    assert hits[0].section == "Card refund timing"
    assert "5–10 business days" in hits[0].passage
    assert len({h.article_id for h in hits}) == len(hits)  # one hit per article


def test_typos_still_match(retriever: Retriever) -> None:
    assert retriever.search("forgot my pasword, reset lnik?", k=1)[0].article_id == "password-reset"


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_returns_nothing(retriever: Retriever, query: str) -> None:
    assert retriever.search(query) == []


def test_very_long_query_is_handled(retriever: Retriever) -> None:
    hits = retriever.search("refund " * 5000, k=2)
    assert hits and hits[0].article_id == "refund-timing"


def test_confidence_is_lower_for_an_unrelated_question(retriever: Retriever) -> None:
    good = retriever.confidence(retriever.search("when does my refund reach my card"))
    bad = retriever.confidence(retriever.search("who won the football game last night"))
    assert 0 <= bad < good <= 1


def test_missing_index_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="make index"):
        Retriever(tmp_path / "nowhere").search("refund")


def test_corrupted_index_names_the_command(small_index: Path) -> None:
    (small_index / "index.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(CorruptIndexError, match="make index"):
        Retriever(small_index).search("refund")


def test_truncated_passages_file_is_detected(small_index: Path) -> None:
    (small_index / "passages.json").write_text("[")
    with pytest.raises(CorruptIndexError, match="make index"):
        Retriever(small_index).search("refund")


def test_rebuild_reembeds_only_changed_articles_and_reloads(tmp_path: Path, encoder) -> None:
    articles_dir = tmp_path / "articles"
    shutil.copytree(FIXTURES / "articles", articles_dir)
    index_dir = tmp_path / "index"
    calls: list[int] = []

    def counting_embed(texts: list[str]):
        calls.append(len(texts))
        return encoder.embed(texts)

    first = HelpCenterIndex.build(load_articles(articles_dir), counting_embed, index_dir)
    assert first.embedded_articles == 3
    # The retriever notices a rebuild by the manifest's mtime. Two builds within one tick
    # of the file system's clock (a jiffy on Linux, a second or two on some file systems)
    # would leave it unchanged; dating the first build a minute back stands in for the
    # time that passes between two real builds, on any file system.
    built = (index_dir / MANIFEST).stat().st_mtime
    os.utime(index_dir / MANIFEST, (built - 60, built - 60))
    retriever = Retriever(index_dir, encoder=encoder)
    assert retriever.search("gift wrapping", k=1)[0].article_id != "gift-wrap"

    (articles_dir / "gift-wrap.md").write_text(
        "---\nid: gift-wrap\ntitle: Gift wrapping\nurl: https://help.example/articles/gift-wrap\n"
        "tags: [gifts]\nupdated: 2026-02-01\n---\n## Gift wrap\nGift wrapping costs $4 per item "
        "and can be added at checkout.\n"
    )
    calls.clear()
    second = HelpCenterIndex.build(load_articles(articles_dir), counting_embed, index_dir)
    assert (second.embedded_articles, second.reused_articles) == (1, 3)
    assert sum(calls) == 2  # the new article's one section and its summary, nothing else
    assert retriever.search("can you gift wrap my order", k=1)[0].article_id == "gift-wrap"
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["build"]["embedded_articles"] == 1


def reference_rank(retriever: Retriever, fused, dense, bm25, k: int, exclude: frozenset[int]):
    """Fusion as first written: one Python pass over every scored passage."""
    from knowledge.articles import SECTION, SUMMARY

    index = retriever.index
    best: dict[str, float] = {}
    shown: dict[str, tuple[float, int]] = {}
    bonus: dict[str, float] = {}
    for i in range(len(index)):
        if i in exclude:
            continue
        passage = index.passages[i]
        a = passage.article_id
        if passage.kind == SUMMARY:
            bonus[a] = retriever.fusion.summary_weight * float(dense[i])
            continue
        if fused[i] > best.get(a, float("-inf")):
            best[a] = float(fused[i])
        if passage.kind == SECTION and fused[i] > shown.get(a, (float("-inf"),))[0]:
            shown[a] = (float(fused[i]), i)
    ranked = [
        (round(score + bonus.get(a, 0.0), 4), shown[a][1])
        for a, score in best.items()
        if a in shown
    ]
    return sorted(ranked, key=lambda r: -r[0])[:k]


@pytest.mark.parametrize("seed", range(40))
def test_ranking_matches_the_passage_by_passage_definition(retriever: Retriever, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(retriever.index)
    # Coarse scores, so that equal scores (and their tie order) come up often.
    dense = rng.integers(0, 5, n).astype(np.float32) / 4
    bm25 = rng.integers(0, 3, n).astype(np.float32)
    fused = (dense + bm25 / 2).astype(np.float64)
    exclude = frozenset(
        int(i) for i in rng.choice(n, size=int(rng.integers(0, n // 2)), replace=False)
    )
    hits = retriever._rank(np.arange(n), fused, dense, bm25, 3, exclude)
    expected = reference_rank(retriever, fused, dense, bm25, 3, exclude)
    passages = retriever.index.passages
    assert [(h.article_id, h.section, h.score) for h in hits] == [
        (passages[i].article_id, passages[i].section, score) for score, i in expected
    ]
