"""Where a handoff goes: implementations of `routing.handoff.HandoffBackend`.

    >>> backend = backend_from_settings(Settings.load())  # HANDOFF_BACKEND
    >>> ticket = await backend.open(request)

`ConsoleBackend` (the default) queues the conversation in the project's agent console;
`ChatwootBackend` hands it to Chatwoot. Every backend passes the same contract tests
(tests/routing/test_backends.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routing.backends.chatwoot import ChatwootBackend
from routing.backends.console import ConsoleBackend
from routing.handoff import HandoffBackend

if TYPE_CHECKING:
    from core.settings import Settings


def backend_from_settings(settings: Settings) -> HandoffBackend:
    """The backend HANDOFF_BACKEND names, configured from the settings."""
    if settings.handoff_backend == "chatwoot":
        return ChatwootBackend.from_environ(dict(settings.chatwoot))
    return ConsoleBackend(settings.web_url, settings.rasa_api_token)


__all__ = ["ChatwootBackend", "ConsoleBackend", "backend_from_settings"]
