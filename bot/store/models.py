"""Records of the sample store, as returned by `SupportStore`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# Order statuses.
PROCESSING = "processing"
SHIPPED = "shipped"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURNED = "returned"

# Case kinds: the customer's open issue, remembered across sessions.
CASE_LATE_DELIVERY = "late_delivery"
CASE_LOST_DELIVERY = "lost_delivery"
CASE_DAMAGED_ITEM = "damaged_item"
CASE_REFUND = "refund"
CASE_RETURN = "return"
CASE_DOUBLE_CHARGE = "double_charge"
CASE_UNKNOWN_CHARGE = "unknown_charge"
CASE_ACCOUNT_SECURITY = "account_security"
CASE_ADDRESS_CHANGE = "address_change"
CASE_COMPLAINT = "complaint"
CASE_HUMAN_REQUEST = "human_request"
CASE_KINDS = (
    CASE_LATE_DELIVERY,
    CASE_LOST_DELIVERY,
    CASE_DAMAGED_ITEM,
    CASE_REFUND,
    CASE_RETURN,
    CASE_DOUBLE_CHARGE,
    CASE_UNKNOWN_CHARGE,
    CASE_ACCOUNT_SECURITY,
    CASE_ADDRESS_CHANGE,
    CASE_COMPLAINT,
    CASE_HUMAN_REQUEST,
)

RETURN_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    tier: str
    account_status: str = "active"
    phone: str | None = None

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class OrderItem:
    sku: str
    name: str
    qty: int
    price: float
    category: str
    returnable: bool = True


@dataclass(frozen=True)
class Order:
    number: str
    customer_id: str
    status: str
    placed_on: date
    address: str
    items: tuple[OrderItem, ...] = field(default_factory=tuple)
    shipped_on: date | None = None
    estimated_delivery: date | None = None
    delivered_on: date | None = None
    carrier: str | None = None
    tracking: str | None = None

    @property
    def total(self) -> float:
        return round(sum(i.price * i.qty for i in self.items), 2)

    @property
    def returnable_total(self) -> float:
        return round(sum(i.price * i.qty for i in self.items if i.returnable), 2)

    @property
    def item_summary(self) -> str:
        names = [f"{i.qty} × {i.name}" if i.qty > 1 else i.name for i in self.items]
        return ", ".join(names)

    def days_late(self, today: date) -> int:
        """Days past the estimated delivery date while the order is still on its way."""
        if self.status not in (SHIPPED, OUT_FOR_DELIVERY) or self.estimated_delivery is None:
            return 0
        return max(0, (today - self.estimated_delivery).days)

    def return_deadline(self) -> date | None:
        if self.delivered_on is None:
            return None
        return date.fromordinal(self.delivered_on.toordinal() + RETURN_WINDOW_DAYS)


@dataclass(frozen=True)
class Subscription:
    id: str
    customer_id: str
    plan: str
    status: str
    price: float
    period: str
    next_billing: date | None


@dataclass(frozen=True)
class Payment:
    id: str
    customer_id: str
    order_number: str | None
    amount: float
    descriptor: str
    status: str
    charged_on: date


@dataclass(frozen=True)
class ReturnRequest:
    id: int
    order_number: str
    customer_id: str
    kind: str
    reason: str
    amount: float
    status: str
    created_at: datetime


@dataclass(frozen=True)
class Case:
    """An issue a customer raised, kept open until it is resolved."""

    id: int
    customer_key: str
    customer_id: str | None
    kind: str
    order_number: str | None
    status: str
    summary: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status == "open"


# Outcomes of checking a one-time code (SupportStore.check_code).
CODE_OK = "ok"
CODE_WRONG = "wrong"  # attempts left
CODE_LOCKED = "locked"  # too many wrong attempts: the code no longer works
CODE_EXPIRED = "expired"
CODE_NONE = "none"  # no code was sent to this conversation, or it was used up


@dataclass(frozen=True)
class CodeCheck:
    outcome: str
    customer_id: str | None = None
    attempts_left: int = 0


@dataclass(frozen=True)
class PendingCode:
    customer_id: str
    expires_at: datetime
    attempts_left: int


@dataclass(frozen=True)
class Consent:
    """A customer's choice for one purpose (core.constants.CONSENT_*), with the words
    they were shown and when."""

    purpose: str
    granted: bool
    text: str
    channel: str
    decided_at: datetime
    customer_id: str | None = None


@dataclass(frozen=True)
class PrivacyRequest:
    """An export or erasure a verified customer asked for in the chat."""

    id: int
    customer_id: str
    kind: str
    conversation_key: str
    requested_at: datetime
    done_at: datetime | None = None
    outcome: str | None = None
