"""`SupportStore`: the orders, customers, subscriptions and cases the actions work with."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.store import schema
from bot.store.models import (
    CANCELLED,
    CODE_EXPIRED,
    CODE_LOCKED,
    CODE_NONE,
    CODE_OK,
    CODE_WRONG,
    DELIVERED,
    PROCESSING,
    Case,
    CodeCheck,
    Consent,
    Customer,
    Order,
    OrderItem,
    Payment,
    PendingCode,
    PrivacyRequest,
    ReturnRequest,
    Subscription,
)
from core.database import create_engine
from core.errors import ConfigurationError
from core.migrations import SchemaUpgrade, upgrade

ORDER_NUMBER_PATTERN = re.compile(r"^\d{5}$")


class SupportStore:
    """Read and update the sample store.

    The constructor only records the URL; the engine is created on first use, and the
    database brought to the newest schema migration then, so a store can be built at
    import time of an action module without touching the disk.

        >>> store = SupportStore("sqlite:///data/runtime/store.db")
        >>> store.get_order("10234").status
        'shipped'
    """

    def __init__(self, url: str, today: date | None = None) -> None:
        if not url:
            raise StoreError("The store URL is empty. Set STORE_URL or leave it unset for SQLite.")
        self.url = url
        self._today = today
        self._engine: Engine | None = None

    # -- plumbing ---------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._open()
        assert self._engine is not None
        return self._engine

    def _open(self) -> SchemaUpgrade:
        engine = create_engine(self.url)
        try:
            upgraded = upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine
        return upgraded

    def today(self) -> date:
        return self._today or date.today()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except (SQLAlchemyError, OSError, ConfigurationError) as e:
            raise StoreError(
                f"The store at {_redact(self.url)} failed: {e.__class__.__name__}: {e}. "
                "Run `python -m bot.store --reset` to recreate the sample store."
            ) from e

    def create_schema(self) -> SchemaUpgrade:
        """Apply the schema migrations the database lacks (`core.migrations`); say what
        was done. Opening the store does the same; this reports it, for setup."""
        try:
            if self._engine is not None:
                return upgrade(self._engine)
            return self._open()
        except (SQLAlchemyError, OSError, ConfigurationError) as e:
            raise StoreError(
                f"The schema of the store at {_redact(self.url)} cannot be brought up to "
                f"date: {e.__class__.__name__}: {e}"
            ) from e

    def is_seeded(self) -> bool:
        try:
            with self._begin() as c:
                return bool(c.execute(select(func.count()).select_from(schema.customers)).scalar())
        except StoreError:
            return False

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- customers and identities ---------------------------------------------------------
    def get_customer(self, customer_id: str) -> Customer | None:
        with self._begin() as c:
            row = c.execute(
                select(schema.customers).where(schema.customers.c.id == customer_id)
            ).first()
        return _customer(row) if row else None

    def customers(self, limit: int = 50) -> list[Customer]:
        """The first `limit` customers by id (the demo sign-in page lists them)."""
        with self._begin() as c:
            rows = c.execute(
                select(schema.customers).order_by(schema.customers.c.id).limit(limit)
            ).all()
        return [_customer(row) for row in rows]

    def find_customer_by_email(self, email: str) -> Customer | None:
        with self._begin() as c:
            row = c.execute(
                select(schema.customers).where(
                    func.lower(schema.customers.c.email) == email.strip().lower()
                )
            ).first()
        return _customer(row) if row else None

    def customer_by_phone(self, phone: str) -> Customer | None:
        """The one customer whose phone on file is `phone` (compared as digits: "+1 555
        0101" is +15550101); None when none, or more than one, has it."""
        digits = phone_digits(phone)
        if len(digits) < 6:
            return None
        with self._begin() as c:
            rows = c.execute(
                select(schema.customers).where(schema.customers.c.phone.like(f"%{digits[-2:]}"))
            ).all()
        found = [row for row in rows if phone_digits(row.phone or "") == digits]
        return _customer(found[0]) if len(found) == 1 else None

    def customer_for_key(self, customer_key: str) -> Customer | None:
        """The verified store customer behind a channel's customer id, if any."""
        with self._begin() as c:
            row = c.execute(
                select(schema.customers)
                .join(schema.identities, schema.identities.c.customer_id == schema.customers.c.id)
                .where(schema.identities.c.customer_key == customer_key)
            ).first()
        return _customer(row) if row else None

    def link_identity(self, customer_key: str, customer_id: str) -> None:
        now = datetime.utcnow()
        with self._begin() as c:
            existing = c.execute(
                select(schema.identities.c.customer_id).where(
                    schema.identities.c.customer_key == customer_key
                )
            ).first()
            if existing is None:
                c.execute(
                    insert(schema.identities).values(
                        customer_key=customer_key, customer_id=customer_id, linked_at=now
                    )
                )
            elif existing[0] != customer_id:
                c.execute(
                    update(schema.identities)
                    .where(schema.identities.c.customer_key == customer_key)
                    .values(customer_id=customer_id, linked_at=now)
                )

    def unlink_identity(self, customer_key: str) -> int:
        """Forget which customer a conversation belongs to; how many links were removed."""
        with self._begin() as c:
            return c.execute(
                delete(schema.identities).where(schema.identities.c.customer_key == customer_key)
            ).rowcount

    # -- consent ----------------------------------------------------------------------------
    def record_consent(
        self,
        conversation_key: str,
        purpose: str,
        granted: bool,
        text: str,
        channel: str,
        customer_id: str | None = None,
    ) -> Consent:
        """Keep a customer's choice for `purpose` with the words they were shown; earlier
        choices stay, as their history."""
        consent = Consent(
            purpose=purpose,
            granted=bool(granted),
            text=text,
            channel=channel,
            decided_at=datetime.utcnow(),
            customer_id=customer_id,
        )
        with self._begin() as c:
            c.execute(
                insert(schema.consents).values(
                    conversation_key=conversation_key,
                    customer_id=customer_id,
                    purpose=purpose,
                    granted=consent.granted,
                    text=text,
                    channel=channel,
                    decided_at=consent.decided_at,
                )
            )
        return consent

    def consents(self, conversation_key: str) -> dict[str, Consent]:
        """The choice in force for each purpose the conversation's customer decided on
        (a purpose never decided on is absent: not granted)."""
        t = schema.consents
        with self._begin() as c:
            rows = c.execute(
                select(t).where(t.c.conversation_key == conversation_key).order_by(t.c.id)
            ).all()
        return {row.purpose: _consent(row) for row in rows}

    def consent_history(self, conversation_keys: list[str], customer_id: str) -> list[Consent]:
        """Every choice made in these conversations or by this customer, oldest first."""
        t = schema.consents
        with self._begin() as c:
            rows = c.execute(
                select(t)
                .where(
                    (t.c.conversation_key.in_(conversation_keys)) | (t.c.customer_id == customer_id)
                )
                .order_by(t.c.id)
            ).all()
        return [_consent(row) for row in rows]

    # -- privacy requests ------------------------------------------------------------------
    def add_privacy_request(self, customer_id: str, kind: str, conversation_key: str) -> int:
        """Record an export or erasure request; its id. A second open request of the same
        kind for the customer is the first one."""
        t = schema.privacy_requests
        with self._begin() as c:
            existing = c.execute(
                select(t.c.id).where(
                    t.c.customer_id == customer_id, t.c.kind == kind, t.c.done_at.is_(None)
                )
            ).first()
            if existing is not None:
                return int(existing[0])
            return int(
                c.execute(
                    insert(t).values(
                        customer_id=customer_id,
                        kind=kind,
                        conversation_key=conversation_key,
                        requested_at=datetime.utcnow(),
                    )
                ).inserted_primary_key[0]
            )

    def pending_privacy_requests(self, kind: str) -> list[PrivacyRequest]:
        t = schema.privacy_requests
        with self._begin() as c:
            rows = c.execute(
                select(t).where(t.c.kind == kind, t.c.done_at.is_(None)).order_by(t.c.id)
            ).all()
        return [_privacy_request(row) for row in rows]

    def finish_privacy_request(self, request_id: int, outcome: str) -> None:
        t = schema.privacy_requests
        with self._begin() as c:
            c.execute(
                update(t)
                .where(t.c.id == request_id)
                .values(done_at=datetime.utcnow(), outcome=outcome)
            )

    # -- one-time codes -------------------------------------------------------------------
    def create_code(
        self, customer_key: str, customer_id: str, code: str, lifetime: timedelta
    ) -> None:
        """Keep a new code for the conversation `customer_key` (its salted hash only);
        earlier unused codes of that conversation stop working."""
        now = datetime.utcnow()
        salt = secrets.token_hex(16)
        codes = schema.verification_codes
        with self._begin() as c:
            c.execute(
                update(codes)
                .where(codes.c.customer_key == customer_key, codes.c.used_at.is_(None))
                .values(used_at=now)
            )
            c.execute(
                insert(codes).values(
                    customer_key=customer_key,
                    customer_id=customer_id,
                    code_hash=_code_hash(code, salt),
                    salt=salt,
                    created_at=now,
                    expires_at=now + lifetime,
                    attempts=0,
                    used_at=None,
                )
            )

    def void_codes(self, customer_key: str) -> None:
        codes = schema.verification_codes
        with self._begin() as c:
            c.execute(
                update(codes)
                .where(codes.c.customer_key == customer_key, codes.c.used_at.is_(None))
                .values(used_at=datetime.utcnow())
            )

    def codes_sent_since(
        self, since: datetime, customer_key: str | None = None, customer_id: str | None = None
    ) -> int:
        """Codes sent since `since` to one conversation, or to one customer (across every
        conversation: what limits guessing and inbox flooding)."""
        codes = schema.verification_codes
        query = select(func.count()).select_from(codes).where(codes.c.created_at >= since)
        if customer_key is not None:
            query = query.where(codes.c.customer_key == customer_key)
        if customer_id is not None:
            query = query.where(codes.c.customer_id == customer_id)
        with self._begin() as c:
            return int(c.execute(query).scalar() or 0)

    def failed_code_attempts_since(self, customer_id: str, since: datetime) -> int:
        """Wrong codes typed for one customer since `since`, in every conversation."""
        codes = schema.verification_codes
        with self._begin() as c:
            return int(
                c.execute(
                    select(func.coalesce(func.sum(codes.c.attempts), 0)).where(
                        codes.c.customer_id == customer_id, codes.c.created_at >= since
                    )
                ).scalar()
                or 0
            )

    def pending_code(self, customer_key: str, max_attempts: int) -> PendingCode | None:
        """The conversation's code still waiting to be typed: unused, unexpired, with
        attempts left."""
        codes = schema.verification_codes
        with self._begin() as c:
            row = c.execute(
                select(codes)
                .where(
                    codes.c.customer_key == customer_key,
                    codes.c.used_at.is_(None),
                    codes.c.expires_at > datetime.utcnow(),
                    codes.c.attempts < max_attempts,
                )
                .order_by(codes.c.id.desc())
            ).first()
        if row is None:
            return None
        return PendingCode(row.customer_id, row.expires_at, max_attempts - row.attempts)

    def check_code(self, customer_key: str, code: str, max_attempts: int) -> CodeCheck:
        """Compare `code` with the conversation's pending code; a match uses it up, a
        miss costs an attempt."""
        codes = schema.verification_codes
        now = datetime.utcnow()
        with self._begin() as c:
            row = c.execute(
                select(codes)
                .where(codes.c.customer_key == customer_key, codes.c.used_at.is_(None))
                .order_by(codes.c.id.desc())
            ).first()
            if row is None:
                return CodeCheck(CODE_NONE)
            if row.expires_at <= now or row.attempts >= max_attempts:
                c.execute(update(codes).where(codes.c.id == row.id).values(used_at=now))
                return CodeCheck(CODE_EXPIRED if row.expires_at <= now else CODE_LOCKED)
            if hmac.compare_digest(_code_hash(code, row.salt), row.code_hash):
                c.execute(update(codes).where(codes.c.id == row.id).values(used_at=now))
                return CodeCheck(CODE_OK, customer_id=row.customer_id)
            attempts = row.attempts + 1
            c.execute(update(codes).where(codes.c.id == row.id).values(attempts=attempts))
        left = max_attempts - attempts
        return CodeCheck(CODE_WRONG if left > 0 else CODE_LOCKED, attempts_left=left)

    def set_account_status(self, customer_id: str, status: str, event_kind: str) -> None:
        with self._begin() as c:
            c.execute(
                update(schema.customers)
                .where(schema.customers.c.id == customer_id)
                .values(account_status=status)
            )
            self._record_account_event(c, customer_id, event_kind)

    def record_account_event(self, customer_id: str, kind: str) -> None:
        with self._begin() as c:
            self._record_account_event(c, customer_id, kind)

    @staticmethod
    def _record_account_event(c: Connection, customer_id: str, kind: str) -> None:
        c.execute(
            insert(schema.account_events).values(
                customer_id=customer_id, kind=kind, created_at=datetime.utcnow()
            )
        )

    def account_events(self, customer_id: str) -> list[str]:
        with self._begin() as c:
            rows = c.execute(
                select(schema.account_events.c.kind)
                .where(schema.account_events.c.customer_id == customer_id)
                .order_by(schema.account_events.c.id)
            ).all()
        return [r[0] for r in rows]

    # -- orders -----------------------------------------------------------------------
    def get_order(self, number: str) -> Order | None:
        with self._begin() as c:
            row = c.execute(select(schema.orders).where(schema.orders.c.number == number)).first()
        return _order(row) if row else None

    def orders_for_customer(self, customer_id: str) -> list[Order]:
        with self._begin() as c:
            rows = c.execute(
                select(schema.orders)
                .where(schema.orders.c.customer_id == customer_id)
                .order_by(schema.orders.c.placed_on.desc())
            ).all()
        return [_order(r) for r in rows]

    def change_address(self, number: str, address: str) -> bool:
        """Change the shipping address; only possible while the order is processing."""
        with self._begin() as c:
            result = c.execute(
                update(schema.orders)
                .where(and_(schema.orders.c.number == number, schema.orders.c.status == PROCESSING))
                .values(address=address)
            )
        return result.rowcount == 1

    # -- returns and refunds -------------------------------------------------------------
    def create_return_request(
        self, order: Order, kind: str, reason: str, amount: float
    ) -> ReturnRequest:
        now = datetime.utcnow()
        values = dict(
            order_number=order.number,
            customer_id=order.customer_id,
            kind=kind,
            reason=reason,
            amount=amount,
            status="requested",
            created_at=now,
        )
        with self._begin() as c:
            result = c.execute(insert(schema.return_requests).values(**values))
            new_id = int(result.inserted_primary_key[0])
        return ReturnRequest(id=new_id, **values)  # type: ignore[arg-type]

    def return_requests_for_order(self, number: str) -> list[ReturnRequest]:
        with self._begin() as c:
            rows = c.execute(
                select(schema.return_requests)
                .where(schema.return_requests.c.order_number == number)
                .order_by(schema.return_requests.c.id)
            ).all()
        return [ReturnRequest(**r._mapping) for r in rows]

    # -- subscriptions ------------------------------------------------------------------
    def subscriptions_for_customer(self, customer_id: str) -> list[Subscription]:
        with self._begin() as c:
            rows = c.execute(
                select(schema.subscriptions)
                .where(schema.subscriptions.c.customer_id == customer_id)
                .order_by(schema.subscriptions.c.id)
            ).all()
        return [Subscription(**r._mapping) for r in rows]

    def cancel_subscription(self, subscription_id: str) -> bool:
        with self._begin() as c:
            result = c.execute(
                update(schema.subscriptions)
                .where(
                    and_(
                        schema.subscriptions.c.id == subscription_id,
                        schema.subscriptions.c.status != CANCELLED,
                    )
                )
                .values(status=CANCELLED)
            )
        return result.rowcount == 1

    # -- payments -----------------------------------------------------------------------
    def payments_for_customer(self, customer_id: str, days: int = 60) -> list[Payment]:
        since = self.today() - timedelta(days=days)
        with self._begin() as c:
            rows = c.execute(
                select(schema.payments)
                .where(
                    and_(
                        schema.payments.c.customer_id == customer_id,
                        schema.payments.c.charged_on >= since,
                    )
                )
                .order_by(schema.payments.c.charged_on.desc(), schema.payments.c.id)
            ).all()
        return [Payment(**r._mapping) for r in rows]

    def refund_payment(self, payment_id: str) -> bool:
        with self._begin() as c:
            result = c.execute(
                update(schema.payments)
                .where(
                    and_(schema.payments.c.id == payment_id, schema.payments.c.status == "posted")
                )
                .values(status="refunded")
            )
        return result.rowcount == 1

    # -- cases (open issues) -------------------------------------------------------------
    def open_case(
        self,
        customer_key: str,
        kind: str,
        summary: str,
        order_number: str | None = None,
        customer_id: str | None = None,
    ) -> Case:
        """Open a case, or refresh the open one of the same kind and order."""
        now = datetime.utcnow()
        with self._begin() as c:
            existing = c.execute(
                select(schema.cases).where(
                    and_(
                        schema.cases.c.customer_key == customer_key,
                        schema.cases.c.kind == kind,
                        schema.cases.c.status == "open",
                        schema.cases.c.order_number == order_number
                        if order_number
                        else schema.cases.c.order_number.is_(None),
                    )
                )
            ).first()
            if existing is not None:
                c.execute(
                    update(schema.cases)
                    .where(schema.cases.c.id == existing.id)
                    .values(summary=summary, updated_at=now)
                )
                case_id = existing.id
            else:
                result = c.execute(
                    insert(schema.cases).values(
                        customer_key=customer_key,
                        customer_id=customer_id,
                        kind=kind,
                        order_number=order_number,
                        status="open",
                        summary=summary,
                        created_at=now,
                        updated_at=now,
                    )
                )
                case_id = result.inserted_primary_key[0]
            row = c.execute(select(schema.cases).where(schema.cases.c.id == case_id)).one()
        return Case(**row._mapping)

    def latest_open_case(self, customer_key: str, customer_id: str | None = None) -> Case | None:
        """The most recently updated open case of this customer (by key or store id)."""
        who = schema.cases.c.customer_key == customer_key
        if customer_id:
            who = who | (schema.cases.c.customer_id == customer_id)
        with self._begin() as c:
            row = c.execute(
                select(schema.cases)
                .where(and_(who, schema.cases.c.status == "open"))
                .order_by(schema.cases.c.updated_at.desc(), schema.cases.c.id.desc())
            ).first()
        return Case(**row._mapping) if row else None

    def open_case_for_order(self, order_number: str) -> Case | None:
        """The most recently updated open case about this order, if any."""
        with self._begin() as c:
            row = c.execute(
                select(schema.cases)
                .where(
                    and_(
                        schema.cases.c.order_number == order_number,
                        schema.cases.c.status == "open",
                    )
                )
                .order_by(schema.cases.c.updated_at.desc(), schema.cases.c.id.desc())
            ).first()
        return Case(**row._mapping) if row else None

    def get_case(self, case_id: int) -> Case | None:
        with self._begin() as c:
            row = c.execute(select(schema.cases).where(schema.cases.c.id == case_id)).first()
        return Case(**row._mapping) if row else None

    def resolve_case(self, case_id: int) -> None:
        with self._begin() as c:
            c.execute(
                update(schema.cases)
                .where(schema.cases.c.id == case_id)
                .values(status="resolved", updated_at=datetime.utcnow())
            )

    def contacts_since(
        self, customer_key: str, customer_id: str | None = None, days: int = 7
    ) -> int:
        """Cases the customer opened (any channel id, or their store id) in `days` days."""
        since = datetime.utcnow() - timedelta(days=days)
        who = schema.cases.c.customer_key == customer_key
        if customer_id:
            who = who | (schema.cases.c.customer_id == customer_id)
        with self._begin() as c:
            return int(
                c.execute(
                    select(func.count())
                    .select_from(schema.cases)
                    .where(and_(who, schema.cases.c.created_at >= since))
                ).scalar_one()
            )

    def cases_for_customer(self, customer_key: str) -> list[Case]:
        with self._begin() as c:
            rows = c.execute(
                select(schema.cases)
                .where(schema.cases.c.customer_key == customer_key)
                .order_by(schema.cases.c.id)
            ).all()
        return [Case(**r._mapping) for r in rows]

    # -- seeding ------------------------------------------------------------------------
    def seed(self, seed: dict[str, Any], reset: bool = False) -> None:
        """Load sample data (see data/store/seed.yml); `reset` first deletes every row of
        the store's tables (the handoff queue and accounts keep theirs)."""
        from bot.store.seed import rows_from_seed

        rows = rows_from_seed(seed, self.today())
        with self._begin() as c:
            if reset:
                _clear(c)
            for table_name, table_rows in rows.items():
                if table_rows:
                    c.execute(insert(schema.metadata.tables[table_name]), table_rows)


def _clear(c: Connection) -> None:
    """Delete every row of the store's tables; numbering (ids) restarts at 1."""
    tables = schema.metadata.sorted_tables
    if c.dialect.name == "postgresql":
        names = ", ".join(c.dialect.identifier_preparer.quote(t.name) for t in tables)
        c.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY")
        return
    for table in reversed(tables):  # children before the rows they point to
        c.execute(delete(table))


def is_order_number(text: str) -> bool:
    return bool(ORDER_NUMBER_PATTERN.match(text))


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


def _customer(row: Any) -> Customer:
    m = row._mapping
    return Customer(
        id=m["id"],
        name=m["name"],
        email=m["email"],
        tier=m["tier"],
        account_status=m["account_status"],
        phone=m["phone"],
    )


def _order(row: Any) -> Order:
    m = dict(row._mapping)
    items = tuple(OrderItem(**item) for item in json.loads(m.pop("items")))
    return Order(items=items, **m)


__all__ = ["DELIVERED", "SupportStore", "is_order_number"]


def _code_hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def phone_digits(phone: str) -> str:
    """A phone number's digits, for comparing what people write with what platforms send
    ("+1 (555) 010-1" and "whatsapp:+15550101")."""
    return "".join(ch for ch in phone if ch.isdigit())


def _consent(row: Any) -> Consent:
    return Consent(
        purpose=row.purpose,
        granted=bool(row.granted),
        text=row.text,
        channel=row.channel,
        decided_at=row.decided_at,
        customer_id=row.customer_id,
    )


def _privacy_request(row: Any) -> PrivacyRequest:
    return PrivacyRequest(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        conversation_key=row.conversation_key,
        requested_at=row.requested_at,
        done_at=row.done_at,
        outcome=row.outcome,
    )
