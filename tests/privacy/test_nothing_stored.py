"""A card number, a phone number and an address sent through the REST channel and the web
chat are found in no database file and no log afterwards, while the bot did its job.

Every file under the running stack's DATA_DIR is read as bytes: the tracker store and
the store database with their WAL files, the logs of all three servers, the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path
from typing import Any

import pytest
import socketio

from core.tokens import SessionTokens
from privacy.patterns import luhn
from tests.conftest import RestChat, run_async

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def card_number() -> str:
    """A random Luhn-valid Visa number, grouped in fours."""
    digits = [4] + [random.randrange(10) for _ in range(14)]
    check = next(d for d in range(10) if luhn("".join(map(str, digits)) + str(d)))
    number = "".join(map(str, digits)) + str(check)
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def personal_data() -> dict[str, str]:
    tail = f"{random.randrange(100000, 999999)}"
    house, district = random.randrange(100, 999), random.randrange(1, 9)
    return {
        "card": card_number(),
        "phone": f"+44 7700 {tail}",
        "address": f"{house} Quillfeather Lane, Leeds LS6 {district}AB",
    }


def found_in_data_dir(data_dir: Path, values: dict[str, str]) -> list[str]:
    """Where in DATA_DIR any value is, as typed or as bare digits."""
    needles: list[bytes] = []
    for value in values.values():
        needles.append(value.encode())
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 9:
            needles.append(digits.encode())
    needles.append(b"Quillfeather")
    hits = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits += [f"{path.relative_to(data_dir)}: {n.decode()}" for n in needles if n in content]
    return hits


def test_nothing_personal_is_stored_from_the_rest_channel(stack) -> None:
    values = personal_data()
    chat = RestChat(stack.settings, f"privacy-{random.randrange(10**9)}")
    assert "order number" in chat.say(
        f"where is my order? I'm at {values['address']}, call me on {values['phone']}"
    )
    assert "email" in chat.say("10234")
    assert "8 days late" in chat.say("dana.whitfield@example.com")  # the task is done
    chat.say(f"also, the card I paid with is {values['card']}, was it charged twice?")
    time.sleep(2.0)  # the broker's consumer and the logs catch up
    assert found_in_data_dir(stack.settings.data_dir, values) == []


async def web_chat(stack, messages: list[str]) -> list[str]:
    """Send `messages` on the web chat (socket.io), each after the bot answered the one
    before; the bot's texts."""
    texts: list[str] = []
    arrived = asyncio.Event()
    session_id, token = SessionTokens(stack.settings.session_secret).issue()
    client = socketio.AsyncClient()

    @client.on("bot_uttered")
    async def on_message(data: dict[str, Any]) -> None:
        if data.get("text"):
            texts.append(data["text"])
            arrived.set()

    await client.connect(stack.settings.rasa_url, transports=["websocket"], auth={"token": token})
    await client.emit("session_request", {"session_id": session_id})
    await asyncio.sleep(0.5)
    for message in messages:
        before = len(texts)
        await client.emit(
            "user_uttered", {"message": message, "session_id": session_id, "customData": {}}
        )
        deadline = time.monotonic() + 60
        while len(texts) == before and time.monotonic() < deadline:
            arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(arrived.wait(), 1.0)
        await asyncio.sleep(0.5)  # the rest of the turn's messages
    await client.disconnect()
    return texts


def test_nothing_personal_is_stored_from_the_web_chat(stack) -> None:
    values = personal_data()
    texts = run_async(
        web_chat(
            stack,
            [
                f"where is my order? ship it to {values['address']} from now on",
                "10234",
                f"dana.whitfield@example.com, my number is {values['phone']}",
                f"and my card {values['card']} shows two charges",
            ],
        )
    )
    assert any("8 days late" in t for t in texts), texts  # the task is done
    time.sleep(2.0)
    assert found_in_data_dir(stack.settings.data_dir, values) == []
