"""The labelled customer questions in data/eval/: what `make eval-knowledge` reports on.

    helpcenter_questions.csv     question,article_id   (answerable: the right article)
    helpcenter_unanswerable.csv  question              (the help center has no answer)
    helpcenter_lead_reviews.csv  question,article_id   (leads' corrections; empty id: none)

They are split by a hash of the text into a development part (30%: looked at while
designing the retriever and its confidence features) and a test part (70%: only
reported). Neither part is fitted on: the confidence model is calibrated on questions
made from the articles themselves and on public corpora (`knowledge.calibration`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from core.paths import DATA_DIR

QUESTIONS = DATA_DIR / "eval" / "helpcenter_questions.csv"
UNANSWERABLE = DATA_DIR / "eval" / "helpcenter_unanswerable.csv"
# The leads' corrections (`make export-annotations`): question,article_id (empty: none).
LEAD_REVIEWS = DATA_DIR / "eval" / "helpcenter_lead_reviews.csv"
DEVELOPMENT, TEST = "development", "test"


@dataclass(frozen=True)
class Question:
    text: str
    article_id: str | None  # None: the help center has no answer


def question_split(text: str) -> str:
    """`development` or `test`, stable for a given text."""
    from nlu.datasets import hash_fraction

    # The salt and the 30% are those of the first split, so each question keeps its part.
    return DEVELOPMENT if hash_fraction(text, "helpcenter") < 0.3 else TEST


def load_questions(part: str | None = None) -> list[Question]:
    """Labelled customer questions (`development` 30% / `test` 70% / None for all)."""
    out: list[Question] = []
    if QUESTIONS.is_file():
        with QUESTIONS.open(newline="", encoding="utf-8") as f:
            out += [Question(r["question"], r["article_id"]) for r in csv.DictReader(f)]
    if UNANSWERABLE.is_file():
        with UNANSWERABLE.open(newline="", encoding="utf-8") as f:
            out += [Question(r["question"], None) for r in csv.DictReader(f)]
    if LEAD_REVIEWS.is_file():
        with LEAD_REVIEWS.open(newline="", encoding="utf-8") as f:
            out += [Question(r["question"], r["article_id"] or None) for r in csv.DictReader(f)]
    return [q for q in out if part is None or question_split(q.text) == part]
