"""`RasaConversations`: what the web front asks of the Rasa server's HTTP API.

Agent messages reach the customer through Rasa: they are appended to the conversation
as bot events with `execute_side_effects`, so Rasa sends them on the customer's latest
input channel (the web chat's socket.io today, any output channel later) and stores
them in the tracker, where the transcript and the bot find them.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from bot.rasa_server import api_headers
from core.constants import (
    CUSTOM_AGENT_NAME,
    CUSTOM_HANDOFF_AGENT,
    CUSTOM_HANDOFF_STATUS,
    CUSTOM_SENDER,
    CUSTOM_TEAM,
    CUSTOM_TEXT,
    SENDER_AGENT,
    SENDER_BOT,
)


class RasaUnavailable(Exception):
    """The Rasa server could not be reached or refused the request."""


class RasaConversations:
    def __init__(
        self, rasa_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.transport = transport

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=15.0, transport=self.transport)

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker"
        try:
            async with self._client() as client:
                reply = await client.get(
                    url, params={"include_events": "ALL"}, headers=api_headers(self.token)
                )
        except httpx.HTTPError as e:
            raise RasaUnavailable(
                f"The Rasa server at {self.rasa_url} is unreachable ({e})."
            ) from e
        if reply.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {reply.status_code} for {url}.")
        data: dict[str, Any] = reply.json()
        return data

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Append `events` and send their bot messages on the customer's channel."""
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
        try:
            async with self._client() as client:
                reply = await client.post(
                    url,
                    params={"output_channel": "latest", "execute_side_effects": "true"},
                    headers=api_headers(self.token),
                    json=events,
                )
        except httpx.HTTPError as e:
            raise RasaUnavailable(
                f"The Rasa server at {self.rasa_url} is unreachable ({e}); the message was "
                "not delivered. Try again in a moment."
            ) from e
        if reply.status_code != 200:
            raise RasaUnavailable(
                f"Rasa refused the events for {conversation_id} ({reply.status_code}: "
                f"{reply.text[:200]})."
            )


def agent_message(text: str, agent_name: str) -> dict[str, Any]:
    """A bot event that the web chat shows as a person's message."""
    return {
        "event": "bot",
        "timestamp": time.time(),
        "text": None,
        "data": {
            "custom": {
                "data": {
                    CUSTOM_SENDER: SENDER_AGENT,
                    CUSTOM_AGENT_NAME: agent_name,
                    CUSTOM_TEXT: text,
                }
            }
        },
        "metadata": {CUSTOM_AGENT_NAME: agent_name},
    }


def bot_message(text: str, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bot event; `custom` goes out as its custom payload (socket.io wraps it in "data")."""
    data = {"custom": {"data": custom}} if custom else {}
    return {"event": "bot", "timestamp": time.time(), "text": text, "data": data, "metadata": {}}


def handoff_change(status: str, agent: str | None = None, team: str | None = None) -> dict:
    """The custom payload that tells the web chat a handoff changed (see core.constants)."""
    change: dict[str, Any] = {CUSTOM_SENDER: SENDER_BOT, CUSTOM_HANDOFF_STATUS: status}
    if agent:
        change[CUSTOM_HANDOFF_AGENT] = agent
    if team:
        change[CUSTOM_TEAM] = team
    return change


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}
