"""Knowledge gaps: questions the help center could not answer, grouped by similarity.

The misses of the conversations in the range (`missed_questions` in the facts: a
help-center miss or "that didn't help") are grouped greedily by the cosine similarity of
their TF-IDF vectors over character 3- to 5-grams within words ("pay", "payment" and
"vouchers", "voucher" share most of theirs): a question joins the group whose first
question is most alike, when that is at least `SIMILAR`, else starts one. Groups are listed by size,
each with up to three example questions. The newest `MAX_QUESTIONS` misses are read, so
the page stays fast at any size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.metrics import Filters
from insights.schema import facts

SIMILAR = 0.25
MAX_QUESTIONS = 500
EXAMPLES = 3
TOP = 20


def group(questions: Sequence[str], threshold: float = SIMILAR) -> list[list[int]]:
    """Indices of `questions` in groups of alike ones, biggest first."""
    if not questions:
        return []
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    # TF-IDF as TfidfVectorizer computes it over all the questions, but each distinct text
    # is cut into n-grams once (the same misses come back often; the n-grams are the cost).
    texts = [q.lower() for q in questions]
    distinct = {text: i for i, text in enumerate(dict.fromkeys(texts))}
    try:
        counts = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(
            list(distinct)
        )
    except ValueError:  # nothing but punctuation
        return [[i] for i in range(len(questions))]
    which = np.array([distinct[text] for text in texts])
    # The weights are fitted on every question; the same text has the same vector, so
    # similarities are computed between the distinct texts only.
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[which])
    vectors = tfidf.transform(counts)
    alike = (vectors @ vectors.T).toarray()
    heads: list[int] = []
    groups: list[list[int]] = []
    for i in range(len(questions)):
        if heads:
            scores = alike[which[i], which[heads]]
            best = int(scores.argmax())
            if scores[best] >= threshold:
                groups[best].append(i)
                continue
        heads.append(i)
        groups.append([i])
    order = np.argsort([-len(g) for g in groups], kind="stable")
    return [groups[i] for i in order]


def knowledge_gaps(c: Connection, filters: Filters, top: int = TOP) -> list[dict[str, Any]]:
    rows = c.execute(
        sa.select(facts.c.missed_questions)
        .where(*filters.where(), facts.c.kb_missed > 0)
        .order_by(facts.c.started_at.desc())
        .limit(MAX_QUESTIONS)
    )
    questions: list[str] = []
    for (raw,) in rows:
        questions += [q for q in json.loads(raw or "[]") if isinstance(q, str)]
        if len(questions) >= MAX_QUESTIONS:
            break
    questions = questions[:MAX_QUESTIONS]
    gaps = []
    for g in group(questions)[:top]:
        examples = list(dict.fromkeys(questions[i] for i in g))  # each wording once
        gaps.append({"questions": len(g), "examples": examples[:EXAMPLES]})
    return gaps
