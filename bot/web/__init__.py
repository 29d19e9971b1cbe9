"""The web front: the customer chat page and its assets (and, later, the agent console)."""

from bot.web.app import create_app

__all__ = ["create_app"]
