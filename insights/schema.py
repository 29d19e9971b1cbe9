"""The insights tables, in the store database (`STORE_URL`), created by the migrations
in `core/migrations` (revision 0003).

- `conversation_facts`: one row per conversation (a Rasa session of one sender): what
  the reports and the lead workspace read. JSON columns hold short bounded lists.
- `broker_events`: the embedded event broker's queue (`insights.broker.OutboxBroker`),
  in the order Rasa published the events.
- `annotations`: a lead's marks on a conversation or a turn (`insights.annotations`).
"""

import sqlalchemy as sa

metadata = sa.MetaData()

facts = sa.Table(
    "conversation_facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(200), nullable=False),
    sa.Column("session", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("customer", sa.String(32)),  # pseudonym: keyed hash of the customer key
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("last_event_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float),  # goodbye, a rating, or an agent's resolve
    sa.Column("turns", sa.Integer, nullable=False),
    sa.Column("first_intent", sa.String(80), index=True),
    sa.Column("intents", sa.Text, nullable=False),  # JSON {intent: count}
    sa.Column("kb_answered", sa.Integer, nullable=False),
    sa.Column("kb_missed", sa.Integer, nullable=False),
    sa.Column("missed_questions", sa.Text, nullable=False),  # JSON [text] (≤ 5)
    sa.Column("frustration_peak", sa.Float, nullable=False, index=True),
    sa.Column("frustration_sum", sa.Float, nullable=False),
    sa.Column("urgency_peak", sa.Float, nullable=False),
    sa.Column("distress_max", sa.Float, nullable=False),
    sa.Column("trajectory", sa.Text, nullable=False),  # JSON [[t, frustration, urgency, negative]]
    sa.Column("decisions", sa.Text, nullable=False),  # JSON [routing decision with "t"]
    sa.Column("escalated", sa.Boolean, nullable=False, index=True),
    sa.Column("escalation_reason", sa.String(400)),
    sa.Column("queue", sa.String(40), index=True),
    sa.Column("priority", sa.String(10)),
    sa.Column("wait_target_seconds", sa.Integer),
    sa.Column("handoff_at", sa.Float),
    sa.Column("claimed_at", sa.Float),
    sa.Column("seconds_to_claim", sa.Float),
    sa.Column("agent", sa.String(120), index=True),
    sa.Column("first_agent_reply_at", sa.Float),
    sa.Column("seconds_to_first_reply", sa.Float),
    sa.Column("handoff_closed_at", sa.Float),
    sa.Column("handling_seconds", sa.Float),
    sa.Column("handoff_status", sa.String(20)),
    sa.Column("last_turn_failed", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False, index=True),
    sa.Column("repeat_contact", sa.Boolean, nullable=False),
    sa.Column("csat_asked", sa.Boolean, nullable=False),
    sa.Column("csat", sa.Integer, index=True),
    sa.Column("csat_comment", sa.Text),
    sa.Column("customer_text", sa.Text, nullable=False),  # the customer's words (≤ 16,000)
    sa.UniqueConstraint("sender_id", "session", name="uq_conversation_facts_session"),
)
sa.Index("ix_conversation_facts_customer", facts.c.customer, facts.c.started_at)
# The dashboard's index: every column its aggregates read (`insights.metrics`), after the
# start time they filter on, so a range is read from this narrow index alone (SQLite's
# covering index, PostgreSQL's index-only scan) instead of the wide rows.
REPORT_COLUMNS = (
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
    "escalation_reason",  # null but for the escalated conversations
)
sa.Index("ix_conversation_facts_report", *(facts.c[name] for name in REPORT_COLUMNS))

broker_events = sa.Table(
    "broker_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("body", sa.Text, nullable=False),  # the event as Rasa publishes it (JSON)
    sa.Column("created_at", sa.Float, nullable=False),
)

# The event ids (`bot.event_relay`) already applied to the facts: an event the relay or
# the broker delivers again is skipped. Kept a week (bot.retention).
consumed_events = sa.Table(
    "consumed_events",
    metadata,
    sa.Column("event_id", sa.String(32), primary_key=True),
    sa.Column("consumed_at", sa.Float, nullable=False, index=True),
)

lead_annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation", sa.Integer, sa.ForeignKey("conversation_facts.id"), nullable=False),
    sa.Column("turn", sa.Integer),  # the customer turn (0-based); None: the conversation
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("text", sa.Text),  # the annotated customer turn's words
    sa.Column("detail", sa.Text, nullable=False),  # JSON: corrected scores, article, tags
    sa.Column("note", sa.Text),
    sa.Column("author", sa.String(80), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
sa.Index("ix_annotations_conversation", lead_annotations.c.conversation)
