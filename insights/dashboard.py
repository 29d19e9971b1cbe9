"""The lead dashboard: every number and chart of the workspace for a range, in one call.

`dashboard(c, filters, now)` is what the console's `/api/insights/dashboard` returns and
what `make bench-insights` times.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.gaps import knowledge_gaps
from insights.metrics import (
    Filters,
    escalation_reasons,
    frustration_by_day,
    summary,
    top_intents,
)
from insights.schema import facts, lead_annotations

DEFINITIONS = {
    "containment_rate": "Share of conversations handled end to end by the bot, with no person.",
    "escalation_rate": "Share of conversations handed to a person (a handoff was opened).",
    "fcr_rate": (
        "First-contact resolution: of the ended conversations resolved by the bot or a "
        "person, the share whose customer did not start another within 7 days."
    ),
    "csat": (
        "Share of 4 and 5 ratings among the 1-5 ratings customers gave when a "
        "conversation ended; shown with the response rate (ratings per rating asked)."
    ),
    "time_to_claim": (
        "From the handoff to an agent's claim, by priority: median and 90th percentile, "
        "against the priority's target wait."
    ),
    "handling_time": "From an agent's claim to their resolve or hand-back (median).",
    "frustration_peak_rate": (
        "Share of conversations in which the customer's frustration (read in context) "
        "reached 0.8 or more."
    ),
    "escalation_reasons": "Why conversations went to a person; one conversation may have several.",
    "top_intents": "What conversations were about: the first request of each.",
    "reviews": "Conversations the leads reviewed, and their annotations by kind.",
    "knowledge_gaps": (
        "Questions the help center could not answer (no confident passage, or the "
        "customer said it did not help), grouped by similar words."
    ),
    "outcomes": (
        "Of the ended conversations (closed, or idle for an hour): resolved by the bot, "
        "resolved by a person, or abandoned (the bot's last answer failed, or the "
        "customer left before a person finished)."
    ),
}


def reviews(c: Connection, filters: Filters) -> dict[str, Any]:
    """The leads' annotations on the range's conversations: how many conversations were
    reviewed, and the annotations by kind. Read from the annotations (few) with each
    conversation looked up by id, not from the range's conversations (many)."""
    in_range = (
        sa.select(facts.c.id)
        .where(facts.c.id == lead_annotations.c.conversation, *filters.where())
        .exists()
    )
    by_kind = {
        kind: int(n)
        for kind, n in c.execute(
            sa.select(lead_annotations.c.kind, sa.func.count())
            .where(in_range)
            .group_by(lead_annotations.c.kind)
        )
    }
    reviewed = c.execute(
        sa.select(sa.func.count(sa.distinct(lead_annotations.c.conversation))).where(in_range)
    ).scalar_one()
    return {"conversations": int(reviewed), "by_kind": by_kind}


def dashboard(c: Connection, filters: Filters, now: float) -> dict[str, Any]:
    return {
        "summary": summary(c, filters, now),
        "reviews": reviews(c, filters),
        "escalation_reasons": escalation_reasons(c, filters),
        "top_intents": top_intents(c, filters),
        "frustration_by_day": frustration_by_day(c, filters),
        "knowledge_gaps": knowledge_gaps(c, filters),
        "definitions": DEFINITIONS,
    }
