"""Insights for CX leads: one row of facts per conversation, kept up to date from Rasa's
event broker, and what is measured on them (containment, escalation, first-contact
resolution, CSAT, time to claim).

    bot  ──►  insights  ──►  nlu, core

Rasa publishes every tracker event to its event broker (`endpoints.yml`): by default
`insights.broker.OutboxBroker`, an embedded broker that needs no server (a table in the
store database); in production RabbitMQ (Rasa's `pika` broker). A consumer
(`insights.consumer`) applies the events, in order, to `insights.facts`; the report
(`python -m insights.report`), the exports and the console's lead workspace read the
facts, never the trackers.
"""
