"""Insights for CX leads (issue 16): conversation facts, the embedded event broker's
queue, annotations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like 0002: only when missing (a database whose alembic_version was lost is adopted
    # at the baseline and brought forward without failing on its own tables).
    if "conversation_facts" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "conversation_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(200), nullable=False),
        sa.Column("session", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("customer", sa.String(32), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_event_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("first_intent", sa.String(80), nullable=True),
        sa.Column("intents", sa.Text(), nullable=False),
        sa.Column("kb_answered", sa.Integer(), nullable=False),
        sa.Column("kb_missed", sa.Integer(), nullable=False),
        sa.Column("missed_questions", sa.Text(), nullable=False),
        sa.Column("frustration_peak", sa.Float(), nullable=False),
        sa.Column("frustration_sum", sa.Float(), nullable=False),
        sa.Column("urgency_peak", sa.Float(), nullable=False),
        sa.Column("distress_max", sa.Float(), nullable=False),
        sa.Column("trajectory", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation_reason", sa.String(400), nullable=True),
        sa.Column("queue", sa.String(40), nullable=True),
        sa.Column("priority", sa.String(10), nullable=True),
        sa.Column("wait_target_seconds", sa.Integer(), nullable=True),
        sa.Column("handoff_at", sa.Float(), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("seconds_to_claim", sa.Float(), nullable=True),
        sa.Column("agent", sa.String(120), nullable=True),
        sa.Column("first_agent_reply_at", sa.Float(), nullable=True),
        sa.Column("seconds_to_first_reply", sa.Float(), nullable=True),
        sa.Column("handoff_closed_at", sa.Float(), nullable=True),
        sa.Column("handling_seconds", sa.Float(), nullable=True),
        sa.Column("handoff_status", sa.String(20), nullable=True),
        sa.Column("last_turn_failed", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("repeat_contact", sa.Boolean(), nullable=False),
        sa.Column("csat_asked", sa.Boolean(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("csat_comment", sa.Text(), nullable=True),
        sa.Column("customer_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "session", name="uq_conversation_facts_session"),
    )
    for column in ("started_at", "first_intent", "frustration_peak", "escalated", "queue"):
        op.create_index(f"ix_conversation_facts_{column}", "conversation_facts", [column])
    for column in ("agent", "outcome", "csat"):
        op.create_index(f"ix_conversation_facts_{column}", "conversation_facts", [column])
    op.create_index(
        "ix_conversation_facts_customer", "conversation_facts", ["customer", "started_at"]
    )
    # The dashboard's covering index (insights.schema.REPORT_COLUMNS, spelled out here:
    # a migration must not change when the models do).
    op.create_index(
        "ix_conversation_facts_report",
        "conversation_facts",
        [
            "started_at",
            "turns",
            "channel",
            "queue",
            "escalated",
            "outcome",
            "closed_at",
            "last_event_at",
            "repeat_contact",
            "csat_asked",
            "csat",
            "frustration_peak",
            "first_intent",
            "kb_missed",
            "priority",
            "seconds_to_claim",
            "wait_target_seconds",
            "handling_seconds",
            "escalation_reason",
        ],
    )
    op.create_table(
        "broker_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["conversation"], ["conversation_facts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_annotations_conversation", "annotations", ["conversation"])


def downgrade() -> None:
    op.drop_index("ix_annotations_conversation", table_name="annotations")
    op.drop_table("annotations")
    op.drop_table("broker_events")
    op.drop_index("ix_conversation_facts_report", table_name="conversation_facts")
    op.drop_index("ix_conversation_facts_customer", table_name="conversation_facts")
    for column in (
        "started_at",
        "first_intent",
        "frustration_peak",
        "escalated",
        "queue",
        "agent",
        "outcome",
        "csat",
    ):
        op.drop_index(f"ix_conversation_facts_{column}", table_name="conversation_facts")
    op.drop_table("conversation_facts")
