"""Turn a Rasa tracker's events into the chat messages a person sees."""

from __future__ import annotations

from typing import Any


def transcript_from_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and bot messages in order, each `{"sender", "text", "timestamp", ...}`."""
    messages: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            if text.startswith("/"):
                continue  # button payloads; the button title was shown as the bot message
            messages.append(
                {"sender": "customer", "text": text, "timestamp": event.get("timestamp")}
            )
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get("data"), dict):
                custom = custom["data"]  # socket.io payloads are wrapped in "data"
            agent = custom.get("agent_name") if isinstance(custom, dict) else None
            text = event.get("text") or (custom.get("text") if isinstance(custom, dict) else None)
            if not text:
                continue
            message: dict[str, Any] = {
                "sender": "agent" if agent else "bot",
                "text": text,
                "timestamp": event.get("timestamp"),
            }
            if agent:
                message["agent_name"] = agent
            messages.append(message)
    return messages
