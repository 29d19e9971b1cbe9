from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.articles import load_articles
from knowledge.index import HelpCenterIndex
from knowledge.retriever import Retriever

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def encoder():
    from nlu.encoder import shared_encoder

    return shared_encoder().warm_up()


@pytest.fixture
def small_index(tmp_path: Path, encoder) -> Path:
    """A three-article help center built into a temporary directory."""
    HelpCenterIndex.build(load_articles(FIXTURES / "articles"), encoder.embed, tmp_path)
    return tmp_path


@pytest.fixture
def retriever(small_index: Path, encoder) -> Retriever:
    return Retriever(small_index, encoder=encoder)
