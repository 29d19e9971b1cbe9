"""The contract-test harness of `ConsoleBackend`: the real web front, in process.

The backend talks to the Starlette app through `httpx.ASGITransport`, so the requests
go through the same routes, token check and queue as in production; `broken` points at
a port nothing listens on.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.web.app import create_app
from core.settings import Settings
from routing.backends import ConsoleBackend
from routing.queue import FROM_CUSTOMER, HandoffQueue
from tests.conftest import free_port

TOKEN = "contract-token"


class ConsoleHarness:
    def __init__(self, tmp_path: Path) -> None:
        settings = Settings.load(
            environ={"DATA_DIR": str(tmp_path), "RASA_API_TOKEN": TOKEN},
            dotenv=tmp_path / "no.env",
        )
        self.app = create_app(settings)
        self.queue: HandoffQueue = self.app.state.console.queue
        self.backend = ConsoleBackend(
            "http://console.test", TOKEN, transport=httpx.ASGITransport(app=self.app)
        )
        self.broken = ConsoleBackend(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=2.0)

    async def relayed_texts(self, reference: str) -> list[str]:
        return [m.text for m in self.queue.messages(int(reference)) if m.sender == FROM_CUSTOMER]

    async def priority(self, reference: str) -> str:
        return self.queue.get(int(reference)).priority

    async def summary_of(self, reference: str) -> str:
        return self.queue.get(int(reference)).summary_text


def make_console_harness(tmp_path: Path) -> ConsoleHarness:
    return ConsoleHarness(tmp_path)
