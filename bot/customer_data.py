"""`CustomerData`: everything held about one customer, exported as one JSON or erased.

    make export-customer EMAIL=dana.whitfield@example.com   # JSON on stdout (or OUT=file)
    make forget-customer EMAIL=dana.whitfield@example.com   # prints what it removed

The customer is the sample store's customer with that e-mail. Their conversations are
the ones linked to them: by the store's identities (a chat that proved the e-mail with a
one-time code), by a customer key "signed-in:<id>" (the website's token, a verified
phone number), by a tracker slot `customer_id` with their id, by a handoff with their
e-mail on file, and by the conversation facts of their pseudonym.

Erasure removes, from every store: the conversations' events (tracker store, DATABASE_URL),
their handoffs and messages, conversation facts and lead annotations, the event broker's
queued events and the messaging channels' inbox rows of those conversations, and the
customer's profile, identities, codes, cases, orders, subscriptions, payments, returns and
account events (store, STORE_URL), and their one-time-code e-mails in DATA_DIR/outbox.
On SQLite, the freed pages are overwritten and the files compacted (`secure_delete`,
VACUUM, WAL truncated), so nothing is left in a free page or a WAL frame.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.channels.inbox import inbox as inbox_table
from bot.event_relay import event_outbox
from bot.store import schema as store_schema
from core.constants import SIGNED_IN_KEY_PREFIX, SLOT_CUSTOMER_ID, SLOT_CUSTOMER_KEY
from core.database import create_engine
from core.settings import Settings
from insights.facts import pseudonym
from insights.schema import broker_events, facts, lead_annotations
from privacy.audit import ERASED, EXPORTED, AuditLog
from routing.accounts import ADMIN
from routing.queue import handoffs, messages

TRACKER_EVENTS = "events"  # Rasa's SQL tracker store table
EVENTS_OF_SENDER = f"SELECT data FROM {TRACKER_EVENTS} WHERE sender_id = :s ORDER BY id"


class UnknownCustomer(LookupError):
    """No customer has that e-mail."""


@dataclass
class Found:
    customer: dict[str, Any]
    keys: set[str] = field(default_factory=set)
    senders: set[str] = field(default_factory=set)


def rows(connection: sa.engine.Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(query)]


class CustomerData:
    """One installation's stores (from its settings). Cheap to construct."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: sa.engine.Engine | None = None
        self._tracker: sa.engine.Engine | None = None

    @property
    def store(self) -> sa.engine.Engine:
        if self._store is None:
            from bot.store import SupportStore

            store = SupportStore(self.settings.store_url)
            _ = store.engine  # migrated to the newest schema on first use
            store.close()
            self._store = create_engine(self.settings.store_url)
        return self._store

    @property
    def tracker(self) -> sa.engine.Engine:
        if self._tracker is None:
            self._tracker = create_engine(self.settings.database_url)
        return self._tracker

    def close(self) -> None:
        for engine in (self._store, self._tracker):
            if engine is not None:
                engine.dispose()

    # -- finding ---------------------------------------------------------------------------
    def find(self, email: str) -> Found:
        c = store_schema.customers
        with self.store.connect() as connection:
            customer = connection.execute(
                sa.select(c).where(sa.func.lower(c.c.email) == email.strip().lower())
            ).first()
            if customer is None:
                raise UnknownCustomer(f"No customer has the e-mail {email!r} in the store.")
            found = Found(dict(customer._mapping))
            customer_id = found.customer["id"]
            found.keys.add(SIGNED_IN_KEY_PREFIX + customer_id)
            for table in (store_schema.identities, store_schema.cases):
                found.keys |= {
                    row.customer_key
                    for row in connection.execute(
                        sa.select(table.c.customer_key).where(table.c.customer_id == customer_id)
                    )
                }
            found.senders |= {
                row.conversation_id
                for row in connection.execute(
                    sa.select(handoffs.c.conversation_id).where(
                        sa.or_(
                            handoffs.c.customer_key.in_(sorted(found.keys)),
                            sa.func.lower(handoffs.c.customer_email) == email.strip().lower(),
                        )
                    )
                )
            }
            alias = pseudonym(self.settings.identity_secret.encode(), f"id:{customer_id}")
            found.senders |= {
                row.sender_id
                for row in connection.execute(
                    sa.select(facts.c.sender_id).where(facts.c.customer == alias)
                )
            }
        found.senders |= {k for k in found.keys if not k.startswith(SIGNED_IN_KEY_PREFIX)}
        found.senders |= self._senders_in_tracker(customer_id, found.keys)
        return found

    def _senders_in_tracker(self, customer_id: str, keys: set[str]) -> set[str]:
        """Conversations whose tracker sets `customer_id` to the customer, or
        `customer_key` to one of theirs."""
        senders: set[str] = set()
        wanted = {SLOT_CUSTOMER_ID: {customer_id}, SLOT_CUSTOMER_KEY: keys}
        with self.tracker.connect() as connection:
            if TRACKER_EVENTS not in sa.inspect(connection).get_table_names():
                return senders
            candidates = connection.execute(
                sa.text(
                    f"SELECT sender_id, data FROM {TRACKER_EVENTS} WHERE type_name = 'slot' "
                    "AND (data LIKE :id OR data LIKE :key)"
                ),
                {"id": f"%{customer_id}%", "key": "%customer_key%"},
            )
            for sender, data in candidates:
                event = json.loads(data)
                value = event.get("value")
                if isinstance(value, str) and value in wanted.get(event.get("name"), set()):
                    senders.add(sender)
        return senders

    # -- export ----------------------------------------------------------------------------
    def export(self, email: str) -> dict[str, Any]:
        found = self.find(email)
        customer_id = found.customer["id"]
        senders = sorted(found.senders)
        s = store_schema
        with self.store.connect() as connection:
            data: dict[str, Any] = {
                "customer": found.customer,
                "orders": rows(
                    connection, sa.select(s.orders).where(s.orders.c.customer_id == customer_id)
                ),
                "subscriptions": rows(
                    connection,
                    sa.select(s.subscriptions).where(s.subscriptions.c.customer_id == customer_id),
                ),
                "payments": rows(
                    connection, sa.select(s.payments).where(s.payments.c.customer_id == customer_id)
                ),
                "returns": rows(
                    connection,
                    sa.select(s.return_requests).where(
                        s.return_requests.c.customer_id == customer_id
                    ),
                ),
                "cases": rows(
                    connection, sa.select(s.cases).where(s.cases.c.customer_id == customer_id)
                ),
                "account_events": rows(
                    connection,
                    sa.select(s.account_events).where(
                        s.account_events.c.customer_id == customer_id
                    ),
                ),
                "linked_conversations": rows(
                    connection,
                    sa.select(s.identities).where(s.identities.c.customer_id == customer_id),
                ),
                "handoffs": [],
                "conversation_facts": rows(
                    connection, sa.select(facts).where(facts.c.sender_id.in_(senders))
                ),
                "annotations": rows(
                    connection,
                    sa.select(lead_annotations).where(
                        lead_annotations.c.conversation.in_(
                            sa.select(facts.c.id).where(facts.c.sender_id.in_(senders))
                        )
                    ),
                ),
                "consent": rows(
                    connection,
                    sa.select(s.consents)
                    .where(
                        sa.or_(
                            s.consents.c.conversation_key.in_(sorted(found.keys | found.senders)),
                            s.consents.c.customer_id == customer_id,
                        )
                    )
                    .order_by(s.consents.c.id),
                ),
                "privacy_requests": rows(
                    connection,
                    sa.select(s.privacy_requests).where(
                        s.privacy_requests.c.customer_id == customer_id
                    ),
                ),
                "audit": [],
            }
            for handoff in rows(
                connection, sa.select(handoffs).where(handoffs.c.conversation_id.in_(senders))
            ):
                handoff["messages"] = rows(
                    connection, sa.select(messages).where(messages.c.handoff_id == handoff["id"])
                )
                data["handoffs"].append(handoff)
        subjects = [f"customer:{customer_id}"]
        subjects += [f"handoff:{h['id']}" for h in data["handoffs"]]
        subjects += [f"conversation:{f['id']}" for f in data["conversation_facts"]]
        audit = AuditLog(self.settings.store_url)
        try:
            data["audit"] = [entry.as_dict() for entry in audit.about(subjects)]
        finally:
            audit.close()
        data["conversations"] = self._conversations(senders)
        return data

    def _conversations(self, senders: Sequence[str]) -> list[dict[str, Any]]:
        with self.tracker.connect() as connection:
            if TRACKER_EVENTS not in sa.inspect(connection).get_table_names():
                return []
            return [
                {
                    "conversation": sender,
                    "events": [
                        json.loads(data)
                        for (data,) in connection.execute(
                            sa.text(EVENTS_OF_SENDER),
                            {"s": sender},
                        )
                    ],
                }
                for sender in senders
            ]

    # -- erasure ---------------------------------------------------------------------------
    def forget(self, email: str) -> dict[str, int]:
        """Erase the customer from every store; how many rows (and files) each lost."""
        found = self.find(email)
        customer_id = found.customer["id"]
        senders = sorted(found.senders)
        removed: dict[str, int] = {}
        with self.tracker.begin() as connection:
            tables = sa.inspect(connection).get_table_names()
            if TRACKER_EVENTS in tables:
                removed["tracker events"] = count(
                    connection.execute(
                        sa.text(f"DELETE FROM {TRACKER_EVENTS} WHERE sender_id = :s"),
                        [{"s": s} for s in senders] or [{"s": ""}],
                    )
                )
            if event_outbox.name in tables:
                removed["events waiting for the broker"] = count(
                    connection.execute(
                        event_outbox.delete().where(event_outbox.c.sender_id.in_(senders))
                    )
                )
        s = store_schema
        with self.store.begin() as connection:
            conversation_ids = sa.select(facts.c.id).where(facts.c.sender_id.in_(senders))
            handoff_ids = sa.select(handoffs.c.id).where(handoffs.c.conversation_id.in_(senders))
            removed["annotations"] = count(
                connection.execute(
                    lead_annotations.delete().where(
                        lead_annotations.c.conversation.in_(conversation_ids)
                    )
                )
            )
            removed["conversation facts"] = count(
                connection.execute(facts.delete().where(facts.c.sender_id.in_(senders)))
            )
            removed["handoff messages"] = count(
                connection.execute(messages.delete().where(messages.c.handoff_id.in_(handoff_ids)))
            )
            removed["handoffs"] = count(
                connection.execute(handoffs.delete().where(handoffs.c.conversation_id.in_(senders)))
            )
            removed["queued broker events"] = sum(
                count(
                    connection.execute(
                        broker_events.delete().where(broker_events.c.body.like(f'%"{sender}"%'))
                    )
                )
                for sender in senders
            )
            removed["channel inbox"] = count(
                connection.execute(
                    inbox_table.delete().where(inbox_table.c.conversation_id.in_(senders))
                )
            )
            orders = sa.select(s.orders.c.number).where(s.orders.c.customer_id == customer_id)
            for name, table, where in (
                (
                    "return requests",
                    s.return_requests,
                    s.return_requests.c.order_number.in_(orders),
                ),
                ("payments", s.payments, s.payments.c.customer_id == customer_id),
                ("subscriptions", s.subscriptions, s.subscriptions.c.customer_id == customer_id),
                ("account events", s.account_events, s.account_events.c.customer_id == customer_id),
                (
                    "one-time codes",
                    s.verification_codes,
                    s.verification_codes.c.customer_id == customer_id,
                ),
                (
                    "cases",
                    s.cases,
                    sa.or_(
                        s.cases.c.customer_id == customer_id,
                        s.cases.c.customer_key.in_(sorted(found.keys)),
                    ),
                ),
                ("linked conversations", s.identities, s.identities.c.customer_id == customer_id),
                (
                    "consent choices",
                    s.consents,
                    sa.or_(
                        s.consents.c.conversation_key.in_(sorted(found.keys | found.senders)),
                        s.consents.c.customer_id == customer_id,
                    ),
                ),
                ("orders", s.orders, s.orders.c.customer_id == customer_id),
                ("customer", s.customers, s.customers.c.id == customer_id),
            ):
                removed[name] = count(connection.execute(table.delete().where(where)))
        removed["e-mails in the outbox"] = self._forget_mail(found.customer["email"])
        for engine in (self.tracker, self.store):
            compact(engine)
        return removed

    def _forget_mail(self, email: str) -> int:
        outbox = self.settings.data_dir / "outbox"
        removed = 0
        for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
            if email.lower().encode() in path.read_bytes().lower():
                path.unlink()
                removed += 1
        return removed


def count(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def compact(engine: sa.engine.Engine) -> None:
    """Leave no erased byte behind: SQLite rewrites the file without its free pages and
    empties the WAL; PostgreSQL's VACUUM frees the dead rows' space for reuse."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA secure_delete=ON")
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.customer_data",
        description="Export (as JSON) or erase everything held about one customer.",
    )
    parser.add_argument("action", choices=("export", "forget"))
    parser.add_argument("email", help="the customer's e-mail in the store")
    parser.add_argument("--out", type=Path, help="export: write the JSON here, not stdout")
    options = parser.parse_args(list(argv) if argv is not None else None)
    settings = Settings.load()
    data = CustomerData(settings)
    audit = AuditLog(settings.store_url)
    actor = f"{getpass.getuser()} (command line)"
    try:
        customer_id = data.find(options.email).customer["id"]
        audit.record(
            actor,
            ADMIN,
            EXPORTED if options.action == "export" else ERASED,
            f"customer:{customer_id}",
        )
        if options.action == "export":
            text = json.dumps(data.export(options.email), indent=2, default=str, ensure_ascii=False)
            if options.out:
                options.out.write_text(text + "\n", encoding="utf-8")
                print(f"Wrote everything held about {options.email} to {options.out}")
            else:
                print(text)
            return 0
        removed = data.forget(options.email)
        print(f"Erased {options.email} from every store:")
        for what, n in removed.items():
            print(f"  {what:<24} {n}")
        return 0
    except UnknownCustomer as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        data.close()
        audit.close()


if __name__ == "__main__":
    sys.exit(main())
