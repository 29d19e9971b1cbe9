"""`PrivacyRequests`: what a verified customer asks the chat to do with their data.

- **export**: everything held about them (`bot.customer_data`), e-mailed at once to the
  address on file as one JSON file;
- **erasure**: recorded at once, done once the conversation that asked has been quiet for
  `QUIET_SECONDS` (so its last turn is stored first, and erased with the rest). The web
  front looks for due erasures every minute; `make privacy-requests` does it at once.

Both are written to the audit log, as the customer's own doing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from bot.customer_data import TRACKER_EVENTS, CustomerData, UnknownCustomer
from bot.mail import Mailer, mailer_for
from bot.store import Customer, SupportStore
from core.constants import REQUEST_ERASE
from core.settings import Settings
from privacy.audit import ERASED, EXPORTED, AuditLog

logger = logging.getLogger(__name__)

QUIET_SECONDS = 120.0  # an erasure waits until the conversation has been quiet this long
EVERY_SECONDS = 60.0
CUSTOMER_ROLE = "customer"
EXPORT_SUBJECT = "Your Brightbasket support data"
EXPORT_BODY = """Hello {name},

As you asked in the chat, attached is a copy of everything Brightbasket's customer
support holds about you, as one JSON file: your conversations (with personal details
such as card and phone numbers replaced), your account details, orders, cases, the
choices you made about what we remember, and who opened your conversations.

If you didn't ask for this, please reply to this e-mail.

Brightbasket customer support
"""


@dataclass(frozen=True)
class Erasure:
    """A finished erasure: the request, the customer and what each store lost."""

    request_id: int
    customer_id: str
    removed: dict[str, int]


class PrivacyRequests:
    """Exports and erasures a customer asked for. Cheap to construct."""

    def __init__(
        self, settings: Settings, store: SupportStore, mailer: Mailer | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.mailer = mailer or mailer_for(settings)

    def export(self, customer: Customer, conversation_key: str) -> None:
        """E-mail everything held about `customer` to their address on file (blocking)."""
        data = CustomerData(self.settings)
        try:
            held = data.export(customer.email)
        finally:
            data.close()
        body = json.dumps(held, indent=2, default=str, ensure_ascii=False).encode()
        self.mailer.send(
            customer.email,
            EXPORT_SUBJECT,
            EXPORT_BODY.format(name=customer.name.split(" ")[0] or "there"),
            attachment=(f"brightbasket-{customer.id}.json", body),
        )
        self._audit(EXPORTED, customer.id, {"asked in": conversation_key, "sent to": "e-mail"})

    def request_erasure(self, customer_id: str, conversation_key: str) -> int:
        """Record an erasure, done once the conversation is quiet; the request's id."""
        return self.store.add_privacy_request(customer_id, REQUEST_ERASE, conversation_key)

    def erase_due(self, now: float | None = None) -> list[Erasure]:
        """Carry out the erasures whose conversation has been quiet long enough."""
        now = time.time() if now is None else now
        done: list[Erasure] = []
        for request in self.store.pending_privacy_requests(REQUEST_ERASE):
            last = self._last_event_at(request.conversation_key)
            if last is not None and now - last < QUIET_SECONDS:
                continue
            customer = self.store.get_customer(request.customer_id)
            removed: dict[str, int] = {}
            if customer is not None:
                data = CustomerData(self.settings)
                try:
                    removed = data.forget(customer.email)
                except UnknownCustomer:
                    removed = {}
                finally:
                    data.close()
            self.store.finish_privacy_request(request.id, json.dumps(removed))
            self._audit(ERASED, request.customer_id, {"asked in": request.conversation_key})
            done.append(Erasure(request.id, request.customer_id, removed))
            logger.info("erased customer %s, as they asked in the chat", request.customer_id)
        return done

    def _last_event_at(self, sender_id: str) -> float | None:
        engine = CustomerData(self.settings).tracker
        try:
            with engine.connect() as connection:
                if TRACKER_EVENTS not in sa.inspect(connection).get_table_names():
                    return None
                return connection.execute(
                    sa.text(f"SELECT MAX(timestamp) FROM {TRACKER_EVENTS} WHERE sender_id = :s"),
                    {"s": sender_id},
                ).scalar()
        finally:
            engine.dispose()

    def _audit(self, action: str, customer_id: str, detail: dict[str, str]) -> None:
        audit = AuditLog(self.settings.store_url)
        try:
            audit.record(
                f"customer {customer_id} (chat)",
                CUSTOMER_ROLE,
                action,
                f"customer:{customer_id}",
                detail,
            )
        finally:
            audit.close()


async def run_every_minute(settings: Settings) -> None:
    """The web front's job: carry out due erasures, every minute, for as long as it runs."""
    requests = PrivacyRequests(settings, SupportStore(settings.store_url))
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        try:
            await asyncio.to_thread(requests.erase_due)
        except Exception:  # the next minute tries again
            logger.exception("privacy requests: the erasures failed; retrying in a minute")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.privacy_requests",
        description="Carry out the erasures customers asked for in the chat, now.",
    )
    parser.add_argument(
        "--now", action="store_true", help="do not wait for the conversations to go quiet"
    )
    options = parser.parse_args(list(argv) if argv is not None else None)
    settings = Settings.load()
    requests = PrivacyRequests(settings, SupportStore(settings.store_url))
    done = requests.erase_due(now=time.time() + QUIET_SECONDS if options.now else None)
    for erasure in done:
        total = sum(erasure.removed.values())
        print(f"Erased customer {erasure.customer_id} (request {erasure.request_id}): {total} rows")
    if not done:
        print("No erasure is due.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
