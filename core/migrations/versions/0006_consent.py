"""Privacy (issue 18): consent choices and customers' privacy requests (bot.store).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = sa.inspect(op.get_bind()).get_table_names()
    if "consents" not in tables:
        op.create_table(
            "consents",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("conversation_key", sa.String(200), nullable=False),
            sa.Column("customer_id", sa.String(16), nullable=True),
            sa.Column("purpose", sa.String(40), nullable=False),
            sa.Column("granted", sa.Boolean(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("channel", sa.String(20), nullable=False),
            sa.Column("decided_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_consents_conversation_key", "consents", ["conversation_key"])
    if "privacy_requests" not in tables:
        op.create_table(
            "privacy_requests",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("customer_id", sa.String(16), nullable=False),
            sa.Column("kind", sa.String(10), nullable=False),
            sa.Column("conversation_key", sa.String(200), nullable=False),
            sa.Column("requested_at", sa.DateTime(), nullable=False),
            sa.Column("done_at", sa.DateTime(), nullable=True),
            sa.Column("outcome", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_privacy_requests_customer_id", "privacy_requests", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_privacy_requests_customer_id", table_name="privacy_requests")
    op.drop_table("privacy_requests")
    op.drop_index("ix_consents_conversation_key", table_name="consents")
    op.drop_table("consents")
