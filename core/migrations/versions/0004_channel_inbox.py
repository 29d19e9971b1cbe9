"""Messaging channels (issue 17): the channel_inbox table (bot.channels.inbox).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like 0002 and 0003: only when missing.
    if "channel_inbox" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "channel_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_id", name="uq_channel_inbox_external"),
    )
    op.create_index(
        "ix_channel_inbox_pending", "channel_inbox", ["status", "conversation_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_channel_inbox_pending", table_name="channel_inbox")
    op.drop_table("channel_inbox")
