"""`ConsoleBackend`: hand conversations to the project's own agent console (the default).

The console runs in the web front (bot/web/console.py); this backend, used by the
action server, reaches it over HTTP at WEB_PORT with the shared RASA_API_TOKEN.
"""

from __future__ import annotations

from typing import Any

import httpx

from routing.handoff import (
    CustomerMessage,
    HandoffError,
    HandoffRequest,
    HandoffTicket,
    HandoffUnavailable,
    UnknownHandoff,
)


class ConsoleBackend:
    name = "console"

    def __init__(
        self,
        base_url: str,
        token: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.transport = transport
        self.timeout = timeout

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            async with httpx.AsyncClient(
                transport=self.transport,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as client:
                reply = await client.post(url, json=body)
        except httpx.HTTPError as e:
            raise HandoffUnavailable(
                f"The agent console at {url} is unreachable ({e.__class__.__name__}: {e}). "
                "Is the web front running (`make run` starts it)?"
            ) from e
        if reply.status_code >= 500:
            raise HandoffUnavailable(f"The agent console at {url} answered {reply.status_code}.")
        if reply.status_code == 401:
            raise HandoffError(
                "The agent console refused the internal token: the action server and the web "
                "front must share RASA_API_TOKEN (`make run` sets it for both)."
            )
        return reply

    async def open(self, request: HandoffRequest) -> HandoffTicket:
        reply = await self._post("/internal/handoffs", request.as_dict())
        if reply.status_code not in (200, 201):
            raise HandoffError(f"The agent console refused the handoff: {_message(reply)}")
        data = reply.json()
        return HandoffTicket(
            backend=self.name,
            reference=str(data["reference"]),
            position=data.get("position"),
            estimated_wait_seconds=data.get("estimated_wait_seconds"),
            created=bool(data.get("created", True)),
        )

    async def relay(self, reference: str, message: CustomerMessage) -> None:
        if not reference.isdigit():
            raise UnknownHandoff(f"{reference!r} is not a console handoff reference.")
        reply = await self._post(f"/internal/handoffs/{reference}/messages", message.as_dict())
        if reply.status_code == 404:
            raise UnknownHandoff(f"The console has no open handoff {reference}.")
        if reply.status_code != 201:
            raise HandoffError(f"The agent console refused the message: {_message(reply)}")


def _message(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("message") or reply.text[:200])
    except ValueError:
        return reply.text[:200]
