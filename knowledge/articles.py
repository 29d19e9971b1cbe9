"""Help-center articles: Markdown files with YAML front matter, split into passages.

    ---
    id: refund-timing
    title: How long do refunds take?
    url: https://help.brightbasket.example/articles/refund-timing
    tags: [refunds, payments]
    updated: 2026-09-14
    ---
    Intro paragraph.

    ## Card refund timing
    Section text…

Each `## ` section becomes a passage (the intro too, when it has text). A passage is
embedded as "title — heading: text", so it is found by the article's subject even when
the section never repeats it. An optional front-matter list `questions:` (the "related
questions" help centers show) adds one search entry per question, and every article gets
a summary entry (title, intro, headings, tags); these entries only help find the article —
the answer shown is always one of its sections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.errors import ArticleError

REQUIRED_FIELDS = ("id", "title", "url", "tags", "updated")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    url: str
    tags: tuple[str, ...]
    updated: dt.date
    body: str
    path: Path
    questions: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        """Changes when anything that is embedded changes."""
        embedded = "\n".join([self.title, self.body, *self.tags, *self.questions])
        return hashlib.sha256(embedded.encode()).hexdigest()[:20]


SECTION, QUESTION, SUMMARY = "section", "question", "summary"


@dataclass(frozen=True)
class Passage:
    """One search entry of an article. Sections are what answers show; questions and the
    summary only help find the article."""

    article_id: str
    title: str
    url: str
    section: str
    text: str
    kind: str = SECTION

    @property
    def embedding_text(self) -> str:
        if self.kind != SECTION:
            return self.text
        head = f"{self.title} — {self.section}" if self.section else self.title
        return f"{head}: {self.text}"


def parse_article(path: Path) -> Article:
    """Read one article; a malformed one raises `ArticleError` naming the file and field."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ArticleError(f"{path}: cannot be read as UTF-8 text ({e}).") from e
    if not raw.startswith("---"):
        raise ArticleError(
            f"{path}: no front matter. Start the file with a `---` line, the fields "
            f"{', '.join(REQUIRED_FIELDS)}, and another `---` line."
        )
    parts = raw.split("---", 2)
    if len(parts) < 3:
        raise ArticleError(f"{path}: the front matter is not closed with a `---` line.")
    try:
        meta = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as e:
        raise ArticleError(f"{path}: the front matter is not valid YAML ({e}).") from e
    if not isinstance(meta, dict):
        raise ArticleError(f"{path}: the front matter must be `field: value` lines.")
    for name in REQUIRED_FIELDS:
        if meta.get(name) in (None, "", []):
            raise ArticleError(f"{path}: front matter field `{name}` is missing or empty.")
    article_id = str(meta["id"])
    if not ID_PATTERN.match(article_id):
        raise ArticleError(
            f"{path}: field `id` is {article_id!r}; use lowercase words joined by hyphens."
        )
    if article_id != path.stem:
        raise ArticleError(
            f"{path}: field `id` is {article_id!r} but the file is named {path.name}; "
            f"rename the file to {article_id}.md or fix the id."
        )
    url = str(meta["url"])
    if not url.startswith(("http://", "https://")):
        raise ArticleError(f"{path}: field `url` is {url!r}; it must start with https://.")
    tags = meta["tags"]
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ArticleError(f"{path}: field `tags` must be a list like [refunds, payments].")
    updated = meta["updated"]
    if isinstance(updated, str):
        try:
            updated = dt.date.fromisoformat(updated)
        except ValueError:
            raise ArticleError(
                f"{path}: field `updated` is {meta['updated']!r}; use a date like 2026-09-14."
            ) from None
    if not isinstance(updated, dt.date):
        raise ArticleError(f"{path}: field `updated` must be a date like 2026-09-14.")
    body = parts[2].strip()
    if not body:
        raise ArticleError(f"{path}: the article has no text after the front matter.")
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(
        isinstance(q, str) and q.strip() for q in questions
    ):
        raise ArticleError(
            f"{path}: field `questions` must be a list of questions, one per `- ` line."
        )
    return Article(
        article_id,
        str(meta["title"]).strip(),
        url,
        tuple(tags),
        updated,
        body,
        path,
        tuple(q.strip() for q in questions),
    )


def load_articles(directory: Path) -> list[Article]:
    if not directory.is_dir():
        raise ArticleError(f"No help-center directory at {directory}.")
    articles = [parse_article(p) for p in sorted(directory.glob("*.md"))]
    if not articles:
        raise ArticleError(f"{directory} has no .md articles.")
    return articles


def passages_of(article: Article) -> list[Passage]:
    """The article's intro and each `## ` section, as passages."""
    chunks: list[tuple[str, str]] = []
    section = ""
    lines: list[str] = []
    for line in article.body.splitlines():
        if line.startswith("## "):
            chunks.append((section, "\n".join(lines).strip()))
            section, lines = line[3:].strip(), []
        else:
            lines.append(line)
    chunks.append((section, "\n".join(lines).strip()))
    return [
        Passage(article.id, article.title, article.url, heading, _plain(text))
        for heading, text in chunks
        if text
    ]


def entries_of(article: Article) -> list[Passage]:
    """Everything of an article that is embedded: sections, questions, one summary."""
    sections = passages_of(article)
    headings = [p.section for p in sections if p.section]
    intro = next((p.text for p in sections if not p.section), "")
    summary = (
        f"{article.title}. {intro} Topics: {', '.join(headings)}. Tags: {', '.join(article.tags)}"
    )
    extra = [
        Passage(article.id, article.title, article.url, "", q, QUESTION) for q in article.questions
    ]
    return [
        *sections,
        *extra,
        Passage(article.id, article.title, article.url, "", summary, SUMMARY),
    ]


def _plain(text: str) -> str:
    """Markdown to plain text for display: drop emphasis and code marks, join lines."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|__([^_]+)__", lambda m: m.group(1) or m.group(2), text)
    return re.sub(r"[ \t]*\n[ \t]*", " ", text).strip()
