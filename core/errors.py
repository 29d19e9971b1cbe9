"""Base errors of the project, shared by every package.

    SupportError             base of every error the project raises on purpose
    └── ConfigurationError   a setting or configuration file is invalid
        └── SchemaError      (core.migrations) the database cannot be brought to this
                             code's schema revision

Each package derives its own hierarchy from `SupportError` (`bot.errors`,
`nlu.errors`, `knowledge.errors`, `routing.handoff`). Every message says what happened,
the value seen, and how to fix it.
"""

from __future__ import annotations


class SupportError(Exception):
    """Base class of every error the project raises on purpose."""


class ConfigurationError(SupportError):
    """A setting, `.env` line or configuration file is invalid."""
