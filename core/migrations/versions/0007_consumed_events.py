"""Scale-out (issue 19): the event ids already applied to the conversation facts
(insights.schema.consumed_events), so an event delivered twice counts once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "consumed_events" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "consumed_events",
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("consumed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_consumed_events_consumed_at", "consumed_events", ["consumed_at"])


def downgrade() -> None:
    op.drop_index("ix_consumed_events_consumed_at", table_name="consumed_events")
    op.drop_table("consumed_events")
