"""Tables of the sample store (SQLAlchemy Core; SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("tier", String(20), nullable=False, default="standard"),
    Column("phone", String(40)),
    Column("account_status", String(20), nullable=False, default="active"),
)

# Links a channel's stable customer id (web chat, messenger...) to a store customer once
# the customer proved who they are (order number + email).
identities = Table(
    "identities",
    metadata,
    Column("customer_key", String(200), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("linked_at", DateTime, nullable=False),
)

# One-time codes sent to the e-mail on file, so an anonymous customer can prove who
# they are before anything on their account changes. Only a salted hash is kept.
verification_codes = Table(
    "verification_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_key", String(200), nullable=False, index=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", DateTime),
)

orders = Table(
    "orders",
    metadata,
    Column("number", String(10), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("status", String(30), nullable=False),
    Column("placed_on", Date, nullable=False),
    Column("shipped_on", Date),
    Column("estimated_delivery", Date),
    Column("delivered_on", Date),
    Column("carrier", String(40)),
    Column("tracking", String(60)),
    Column("address", Text, nullable=False),
    Column("items", Text, nullable=False),  # JSON list of OrderItem fields
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("plan", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("price", Float, nullable=False),
    Column("period", String(10), nullable=False),
    Column("next_billing", Date),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("order_number", String(10)),
    Column("amount", Float, nullable=False),
    Column("descriptor", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # pending, posted, refunded
    Column("charged_on", Date, nullable=False),
)

return_requests = Table(
    "return_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(10), ForeignKey("orders.number"), nullable=False),
    Column("customer_id", String(16), nullable=False),
    Column("kind", String(10), nullable=False),  # refund or return
    Column("reason", Text, nullable=False),
    Column("amount", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_key", String(200), nullable=False, index=True),
    Column("customer_id", String(16)),
    Column("kind", String(30), nullable=False),
    Column("order_number", String(10)),
    Column("status", String(20), nullable=False),  # open, resolved
    Column("summary", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

account_events = Table(
    "account_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(16), ForeignKey("customers.id"), nullable=False),
    Column("kind", String(30), nullable=False),  # password_reset_sent, frozen
    Column("created_at", DateTime, nullable=False),
)


# Each consent choice a customer made, with the words they were shown (append-only: the
# latest row of a conversation and purpose is the choice in force).
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(200), nullable=False, index=True),
    Column("customer_id", String(16)),
    Column("purpose", String(40), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("decided_at", DateTime, nullable=False),
)

# Export and erasure requests a verified customer made in the chat; an erasure is done
# when the conversation has gone quiet (bot.privacy_requests).
privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(16), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("conversation_key", String(200), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("done_at", DateTime),
    Column("outcome", Text),
)
