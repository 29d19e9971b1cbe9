"""The embedded sample store: customers, orders, subscriptions, payments and cases."""

from bot.store.models import Case, Customer, Order, OrderItem, Payment, Subscription
from bot.store.seed import load_seed
from bot.store.store import SupportStore, is_order_number

__all__ = [
    "Case",
    "Customer",
    "Order",
    "OrderItem",
    "Payment",
    "Subscription",
    "SupportStore",
    "is_order_number",
    "load_seed",
]
