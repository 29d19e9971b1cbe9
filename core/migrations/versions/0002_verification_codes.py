"""One-time codes for anonymous customers (issue 13): the verification_codes table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like the baseline, only when missing: a database whose alembic_version was lost is
    # adopted at the baseline and brought forward without failing on its own tables.
    if "verification_codes" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verification_codes_customer_key", "verification_codes", ["customer_key"])


def downgrade() -> None:
    op.drop_index("ix_verification_codes_customer_key", table_name="verification_codes")
    op.drop_table("verification_codes")
