"""The embedded sample store: customers, orders, subscriptions, payments and cases."""

from bot.store.models import (
    Case,
    Consent,
    Customer,
    Order,
    OrderItem,
    Payment,
    PrivacyRequest,
    Subscription,
)
from bot.store.seed import load_seed
from bot.store.store import SupportStore, is_order_number

__all__ = [
    "Case",
    "Consent",
    "Customer",
    "Order",
    "OrderItem",
    "Payment",
    "PrivacyRequest",
    "Subscription",
    "SupportStore",
    "is_order_number",
    "load_seed",
]
