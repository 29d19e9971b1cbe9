"""Annotations: a lead's marks on a conversation or a turn, and the data they become.

Kinds (`KINDS`):

- `should_have_escalated` (a turn, or the whole conversation): becomes a scripted
  conversation that expects a handoff (`make eval-conversations`);
- `escalated_too_early` (a turn, or the whole conversation): one that expects none;
- `wrong_emotion` (a turn; the right `sentiment`, `frustration` 0/1 and `urgency` 0/1):
  a labelled message (`make train-emotion`, `make eval-emotion`);
- `wrong_answer` (a turn; the right `article`, an id in data/knowledge, or null when the
  help center has no answer): a labelled question (`make eval-knowledge`);
- `note` (either; `tags`, at most 10 single words): kept with the conversation.

Every kind takes an optional note. `python -m insights.annotations export` (`make
export-annotations`) writes every annotation to:

- `data/emotion/lead_reviews.csv` (the columns of `support_messages.csv`; read with it);
- `data/eval/lead_reviews.yml` (the format of `conversations.yml`; played after it);
- `data/eval/helpcenter_lead_reviews.csv` (`question,article_id`; read with the others).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from core.paths import DATA_DIR
from insights.facts import ConversationFacts
from insights.schema import facts, lead_annotations

SHOULD_HAVE_ESCALATED = "should_have_escalated"
ESCALATED_TOO_EARLY = "escalated_too_early"
WRONG_EMOTION = "wrong_emotion"
WRONG_ANSWER = "wrong_answer"
NOTE = "note"
KINDS = (SHOULD_HAVE_ESCALATED, ESCALATED_TOO_EARLY, WRONG_EMOTION, WRONG_ANSWER, NOTE)
NEEDS_TURN = frozenset({WRONG_EMOTION, WRONG_ANSWER})
SENTIMENTS = ("negative", "neutral", "positive")
MAX_NOTE = 2_000
MAX_TAGS = 10
TAG = re.compile(r"^[\w-]{1,40}$")
ARTICLE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

EMOTION_FILE = DATA_DIR / "emotion" / "lead_reviews.csv"
CONVERSATIONS_FILE = DATA_DIR / "eval" / "lead_reviews.yml"
QUESTIONS_FILE = DATA_DIR / "eval" / "helpcenter_lead_reviews.csv"
ARTICLES_DIR = DATA_DIR / "knowledge"


class AnnotationError(ValueError):
    """An annotation that cannot be stored; the message says which field and why."""


@dataclass(frozen=True)
class Annotation:
    id: int
    conversation: int
    turn: int | None
    kind: str
    text: str | None
    detail: dict[str, Any]
    note: str | None
    author: str
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def customer_turns(f: ConversationFacts) -> list[str]:
    """The customer's typed turns, as the facts keep them (one per line)."""
    return [line for line in f.customer_text.split("\n") if line.strip()]


def validate(
    body: Mapping[str, Any], f: ConversationFacts, articles: Iterable[str] | None = None
) -> tuple[str, int | None, dict[str, Any], str | None]:
    """(kind, turn, detail, note) from a request body, or `AnnotationError`."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise AnnotationError(f"kind must be one of {', '.join(KINDS)}.")
    turns = customer_turns(f)
    turn = body.get("turn")
    if turn is not None and (
        not isinstance(turn, int) or isinstance(turn, bool) or not 0 <= turn < len(turns)
    ):
        raise AnnotationError(f"turn must be a customer turn number 0..{len(turns) - 1}, or null.")
    if kind in NEEDS_TURN and turn is None:
        raise AnnotationError(f"A {kind} annotation is about one customer turn: give `turn`.")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise AnnotationError(f"note must be text of at most {MAX_NOTE:,} characters.")
    detail: dict[str, Any] = {}
    if kind == WRONG_EMOTION:
        sentiment, frustration, urgency = (
            body.get(k) for k in ("sentiment", "frustration", "urgency")
        )
        if sentiment not in SENTIMENTS:
            raise AnnotationError(f"sentiment must be one of {', '.join(SENTIMENTS)}.")
        for name, value in (("frustration", frustration), ("urgency", urgency)):
            if value not in (0, 1) or isinstance(value, bool):
                raise AnnotationError(f"{name} must be 0 or 1.")
        if frustration == 1 and sentiment != "negative":
            raise AnnotationError("A frustrated turn is negative (docs/labeling.md).")
        detail = {"sentiment": sentiment, "frustration": frustration, "urgency": urgency}
    elif kind == WRONG_ANSWER:
        article = body.get("article")
        if article is not None:
            known = set(articles) if articles is not None else known_articles()
            if not isinstance(article, str) or article not in known:
                raise AnnotationError(
                    "article must be the id of a help-center article (data/knowledge/*.md), "
                    "or null when the help center has no answer."
                )
        detail = {"article": article}
    tags = body.get("tags") or []
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(t, str) and TAG.match(t) for t in tags)
    ):
        raise AnnotationError(f"tags must be a list of at most {MAX_TAGS} single words.")
    if tags:
        detail["tags"] = sorted(set(tags))
    if kind == NOTE and not (note or tags):
        raise AnnotationError("A note needs its words or at least one tag.")
    return str(kind), turn, detail, (note.strip() or None) if isinstance(note, str) else None


def known_articles(directory: Path = ARTICLES_DIR) -> set[str]:
    return {p.stem for p in directory.glob("*.md") if ARTICLE.match(p.stem)}


def add(
    c: Connection,
    f: ConversationFacts,
    kind: str,
    turn: int | None,
    detail: dict[str, Any],
    note: str | None,
    author: str,
) -> Annotation:
    assert f.id is not None
    text = customer_turns(f)[turn] if turn is not None else None
    values = {
        "conversation": f.id,
        "turn": turn,
        "kind": kind,
        "text": text,
        "detail": json.dumps(detail),
        "note": note,
        "author": author[:80],
        "created_at": time.time(),
    }
    new_id = c.execute(sa.insert(lead_annotations).values(**values)).inserted_primary_key[0]
    return Annotation(id=int(new_id), **{**values, "detail": detail})  # type: ignore[arg-type]


def _annotation(row: Mapping[str, Any]) -> Annotation:
    return Annotation(**{**row, "detail": json.loads(row["detail"] or "{}")})


def for_conversation(c: Connection, conversation_id: int) -> list[Annotation]:
    rows = c.execute(
        sa.select(lead_annotations)
        .where(lead_annotations.c.conversation == conversation_id)
        .order_by(lead_annotations.c.id)
    ).mappings()
    return [_annotation(r) for r in rows]


def everything(c: Connection) -> list[tuple[Annotation, ConversationFacts]]:
    rows = c.execute(
        sa.select(lead_annotations, *(col.label(f"f_{col.name}") for col in facts.c))
        .join(facts, facts.c.id == lead_annotations.c.conversation)
        .order_by(lead_annotations.c.id)
    ).mappings()
    out = []
    for r in rows:
        a = _annotation({col.name: r[col.name] for col in lead_annotations.c})
        f = ConversationFacts.from_row({k[2:]: v for k, v in r.items() if k.startswith("f_")})
        out.append((a, f))
    return out


# --- export -----------------------------------------------------------------------------
def emotion_rows(items: list[tuple[Annotation, ConversationFacts]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for a, _ in items:  # a later correction of the same words wins
        if a.kind == WRONG_EMOTION and a.text:
            rows[a.text] = {
                "text": a.text,
                **{k: a.detail[k] for k in ("sentiment", "frustration", "urgency")},
                "cue": "lead_review",
            }
    return list(rows.values())


def question_rows(items: list[tuple[Annotation, ConversationFacts]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for a, _ in items:
        if a.kind == WRONG_ANSWER and a.text:
            rows[a.text] = {"question": a.text, "article_id": a.detail.get("article") or ""}
    return list(rows.values())


def conversation_scripts(items: list[tuple[Annotation, ConversationFacts]]) -> list[dict[str, Any]]:
    scripts: dict[int, dict[str, Any]] = {}
    for a, f in items:
        if a.kind not in (SHOULD_HAVE_ESCALATED, ESCALATED_TOO_EARLY):
            continue
        turns = customer_turns(f)
        upto = (a.turn + 1) if a.turn is not None else len(turns)
        if not turns[:upto]:
            continue
        should = a.kind == SHOULD_HAVE_ESCALATED
        scripts[a.conversation] = {  # the latest review of a conversation wins
            "id": f"lead-review-{a.conversation}",
            "finding": "lead-review",
            "turns": [{"user": t} for t in turns[:upto]],
            "expect": {
                "escalated": should,
                "turn": None,
                "queue": None,
                "priority": None,
                "tone": None,
                "fallbacks": 99,
                "max_apologies_per_reply": 99,
            },
        }
    return list(scripts.values())


def export(
    items: list[tuple[Annotation, ConversationFacts]],
    emotion_file: Path = EMOTION_FILE,
    conversations_file: Path = CONVERSATIONS_FILE,
    questions_file: Path = QUESTIONS_FILE,
) -> dict[str, int]:
    """Write the three files (each replaced whole); how many rows each got."""
    counts = {}
    emotion = emotion_rows(items)
    with _replacing(emotion_file) as out:
        writer = csv.DictWriter(out, ["text", "sentiment", "frustration", "urgency", "cue"])
        writer.writeheader()
        writer.writerows(emotion)
    counts[str(emotion_file)] = len(emotion)
    questions = question_rows(items)
    with _replacing(questions_file) as out:
        writer = csv.DictWriter(out, ["question", "article_id"])
        writer.writeheader()
        writer.writerows(questions)
    counts[str(questions_file)] = len(questions)
    scripts = conversation_scripts(items)
    with _replacing(conversations_file) as out:
        out.write("# Written by `make export-annotations` from the leads' reviews; do not edit.\n")
        if scripts:
            yaml.safe_dump(scripts, out, sort_keys=False, allow_unicode=True)
        else:
            out.write("[]\n")
    counts[str(conversations_file)] = len(scripts)
    return counts


class _replacing:
    """Write to a temporary file beside `path`, then move it over `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")

    def __enter__(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.tmp.open("w", newline="", encoding="utf-8")
        return self.file

    def __exit__(self, kind: object, *_: object) -> None:
        self.file.close()
        if kind is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insights.annotations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("export", help="write the annotations as training and evaluation data")
    parser.parse_args(argv)
    from core.settings import Settings
    from insights.facts import FactsStore

    settings = Settings.load()
    store = FactsStore(settings.store_url, settings.identity_secret.encode())
    try:
        with store.db.begin() as c:
            items = everything(c)
    finally:
        store.close()
    for path, n in export(items).items():
        print(f"{n:5d} rows  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
