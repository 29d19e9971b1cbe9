"""Errors raised by the `bot` package.

    BotError
    ├── ConfigurationError   a setting or configuration file is invalid
    ├── StoreError           the sample store cannot be opened or seeded
    └── SetupError           a setup step (environment, model, assets) cannot complete

Every message says what happened, the value seen, and how to fix it.
"""

from __future__ import annotations


class BotError(Exception):
    """Base class of every error the `bot` package raises on purpose."""


class ConfigurationError(BotError):
    """A setting, `.env` line or configuration file is invalid."""


class StoreError(BotError):
    """The sample store (orders, customers, subscriptions) cannot be used."""


class SetupError(BotError):
    """A setup step cannot complete."""
