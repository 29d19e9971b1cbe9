"""Errors raised by the `bot` package.

    core.errors.SupportError
    └── BotError
        ├── StoreError           the sample store cannot be opened or seeded
        ├── SetupError           a setup step (environment, model, assets) cannot complete
        └── MailError            an e-mail (a one-time code) cannot be sent

A setting that is wrong raises `core.errors.ConfigurationError`. Every message says what
happened, the value seen, and how to fix it.
"""

from __future__ import annotations

from core.errors import SupportError


class BotError(SupportError):
    """Base class of every error the `bot` package raises on purpose."""


class StoreError(BotError):
    """The sample store (orders, customers, subscriptions) cannot be used."""


class SetupError(BotError):
    """A setup step cannot complete."""


class MailError(BotError):
    """An e-mail to a customer cannot be sent (SMTP_URL, or the outbox folder)."""
