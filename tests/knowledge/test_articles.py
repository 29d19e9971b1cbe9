from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.articles import SECTION, entries_of, load_articles, parse_article, passages_of
from knowledge.errors import ArticleError

FIXTURES = Path(__file__).parent / "fixtures"


def test_article_is_split_into_intro_and_sections() -> None:
    article = parse_article(FIXTURES / "articles" / "refund-timing.md")
    assert article.title == "How long do refunds take?"
    assert article.questions == ("when will my refund show on my card",)
    passages = passages_of(article)
    assert [p.section for p in passages] == ["", "Card refund timing", "PayPal refund timing"]
    assert passages[1].embedding_text.startswith("How long do refunds take? — Card refund timing:")


def test_entries_add_questions_and_a_summary() -> None:
    article = parse_article(FIXTURES / "articles" / "refund-timing.md")
    kinds = [e.kind for e in entries_of(article)]
    assert kinds == [SECTION, SECTION, SECTION, "question", "summary"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing-title.md", "field `title` is missing"),
        ("bad-date.md", "field `updated` is 'last tuesday'"),
        ("wrong-id.md", "rename the file to another-name.md"),
        ("no-front-matter.md", "no front matter"),
        ("bad-yaml.md", "not valid YAML"),
        ("relative-url.md", "field `url`"),
    ],
)
def test_bad_front_matter_names_the_file_and_the_field(name: str, message: str) -> None:
    with pytest.raises(ArticleError) as error:
        parse_article(FIXTURES / "broken" / name)
    assert name in str(error.value) and message in str(error.value)


def test_the_real_help_center_is_valid() -> None:
    articles = load_articles(Path(__file__).parents[2] / "data" / "knowledge")
    assert len(articles) >= 40
    assert len({a.id for a in articles}) == len(articles)
    assert all(len(passages_of(a)) >= 2 for a in articles)


def test_evaluation_questions_are_kept_separate_from_the_articles() -> None:
    """The labelled questions `make eval-knowledge` reports on appear in no article."""
    import csv

    from knowledge.articles import load_articles
    from knowledge.build import ARTICLES_DIR
    from knowledge.questions import QUESTIONS, UNANSWERABLE

    text = " ".join(" ".join([a.body, *a.questions]) for a in load_articles(ARTICLES_DIR)).lower()
    for path in (QUESTIONS, UNANSWERABLE):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                question = row["question"].strip().lower()
                assert question not in text, f"{path.name}: {question!r} is in an article"
