"""Baseline: the twelve tables as `create_all` made them before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Sample store (customers, identities, orders, subscriptions, payments, return_requests,
cases, account_events), handoff queue (handoffs, handoff_messages) and console accounts
(console_users, console_sessions).

Installations made before migrations have some or all of these tables and no
`alembic_version`. So that they upgrade without losing a row, this revision creates only
the tables that are missing and leaves the others as they are: on such a database it
amounts to stamping the baseline (plus the tables a partial installation lacked, e.g.
the queue's when only setup had run). On an empty database it creates everything.

Column defaults of the models ("standard", "active") are applied by SQLAlchemy on
insert, not by the database, so none are declared here.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _customers() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("account_status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )


def _identities() -> None:
    op.create_table(
        "identities",
        sa.Column("customer_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("customer_key"),
    )


def _orders() -> None:
    op.create_table(
        "orders",
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("carrier", sa.String(40), nullable=True),
        sa.Column("tracking", sa.String(60), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("number"),
    )


def _subscriptions() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("next_billing", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _payments() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("order_number", sa.String(10), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("descriptor", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("charged_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _return_requests() -> None:
    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(10), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _cases() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("order_number", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cases_customer_key", "cases", ["customer_key"])


def _account_events() -> None:
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _handoffs() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("customer_key", sa.String(200), nullable=True),
        sa.Column("customer_name", sa.String(200), nullable=True),
        sa.Column("customer_email", sa.String(320), nullable=True),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("distress", sa.Float(), nullable=False),
        sa.Column("wait_target_seconds", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("summary_text", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("agent", sa.String(80), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_status", "handoffs", ["status"])


def _handoff_messages() -> None:
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("author", sa.String(80), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("emotion", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_messages_handoff_id", "handoff_messages", ["handoff_id"])


def _console_users() -> None:
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def _console_sessions() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["console_users.username"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )


# In dependency order: a table comes after the tables its foreign keys point to.
TABLES: tuple[tuple[str, Callable[[], None]], ...] = (
    ("customers", _customers),
    ("identities", _identities),
    ("orders", _orders),
    ("subscriptions", _subscriptions),
    ("payments", _payments),
    ("return_requests", _return_requests),
    ("cases", _cases),
    ("account_events", _account_events),
    ("handoffs", _handoffs),
    ("handoff_messages", _handoff_messages),
    ("console_users", _console_users),
    ("console_sessions", _console_sessions),
)


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES:
        if name not in present:
            create()


def downgrade() -> None:
    for name, _ in reversed(TABLES):
        op.drop_table(name)
