"""Telegram, end to end: the fake Bot API, the real Rasa, action and web servers.

A customer writes on Telegram (a signed update to the webhook), the bot answers through
the Bot API; unsigned updates are refused; redeliveries are answered once; a message
acknowledged before a restart is answered after it; and an escalation reaches an agent
in the console, whose reply goes back to Telegram.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from bot.channels.inbox import ChannelInbox
from bot.rasa_server import api_headers
from routing.accounts import AGENT, Accounts
from tests.channels.conftest import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    bot_texts,
    settle,
    user_texts,
    webhook,
)
from tests.channels.fake_platforms import FakeTelegram
from tests.conftest import latest_code, open_handoff_id, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "password123"
chats = itertools.count(int(time.time()) % 1_000_000 * 100)


def new_chat() -> int:
    return next(chats)


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent_messages(chat)]


def wait_for_texts(fake: FakeTelegram, chat: int, count: int, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = texts(fake, chat)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"chat {chat} got {texts(fake, chat)} within {timeout} s, not {count}")


def say(stack, fake: FakeTelegram, chat: int, text: str, wait_for: int | None = 1) -> list[str]:
    """Send `text` as the customer; the bot's new messages (at least `wait_for`)."""
    before = len(texts(fake, chat))
    answer = fake.deliver(
        webhook(stack, "telegram"), fake.update(text, chat_id=chat), TELEGRAM_SECRET
    )
    assert answer.status_code == 200, answer.text
    if not wait_for:
        return []
    return wait_for_texts(fake, chat, before + wait_for)[before:]


def test_a_signed_update_is_acknowledged_at_once_and_answered_through_the_bot_api(
    channel_stack, platforms
) -> None:
    chat = new_chat()
    started = time.monotonic()
    answer = platforms.telegram.deliver(
        webhook(channel_stack, "telegram"),
        platforms.telegram.update("hi", chat_id=chat),
        TELEGRAM_SECRET,
    )
    acknowledged = time.monotonic() - started
    assert answer.status_code == 200
    assert acknowledged < 1.0  # the turn runs after the acknowledgement
    reply = wait_for_texts(platforms.telegram, chat, 1)
    assert "Brightbasket" in reply[0]
    assert user_texts(channel_stack, f"telegram-{chat}") == ["hi"]
    tracker = tracker_of(channel_stack, f"telegram-{chat}")
    assert tracker["latest_input_channel"] == "telegram"


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 401), ("wrong-secret", 403), (TELEGRAM_SECRET + "x", 403)]
)
def test_an_update_without_the_secret_token_is_refused_and_reaches_no_tracker(
    channel_stack, platforms, secret, status
) -> None:
    chat = new_chat()
    answer = platforms.telegram.deliver(
        webhook(channel_stack, "telegram"), platforms.telegram.update("hi", chat_id=chat), secret
    )
    assert answer.status_code == status
    assert answer.json()["error"] in {"missing_secret_token", "wrong_secret_token"}
    time.sleep(1.5)
    assert texts(platforms.telegram, chat) == []
    assert user_texts(channel_stack, f"telegram-{chat}") == []


def test_a_redelivered_update_is_answered_once(channel_stack, platforms) -> None:
    chat = new_chat()
    update = platforms.telegram.update("where is my order", chat_id=chat)
    url = webhook(channel_stack, "telegram")
    answers: list[int] = []

    def deliver() -> None:
        answers.append(platforms.telegram.deliver(url, update, TELEGRAM_SECRET).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200, 200]  # Telegram stops retrying only on a 2xx
    wait_for_texts(platforms.telegram, chat, 1)
    assert platforms.telegram.deliver(url, update, TELEGRAM_SECRET).status_code == 200
    time.sleep(1.0)
    settle(platforms.telegram, "sendMessage")
    assert user_texts(channel_stack, f"telegram-{chat}") == ["where is my order"]
    assert len(texts(platforms.telegram, chat)) == len(bot_texts(channel_stack, f"telegram-{chat}"))


def test_a_message_acknowledged_before_a_restart_is_answered_after_it(
    channel_stack, platforms
) -> None:
    chat = new_chat()
    rasa = next(s for s in channel_stack.services if s.name == "rasa")
    url = webhook(channel_stack, "telegram")
    answer = platforms.telegram.deliver(
        url, platforms.telegram.update("hello there", chat_id=chat), TELEGRAM_SECRET
    )
    assert answer.status_code == 200
    assert rasa.process is not None
    rasa.process.send_signal(signal.SIGKILL)  # at once: before or during the turn
    rasa.process.wait(timeout=10)
    rasa.process = None
    rasa.start(channel_stack.environ())
    channel_stack.wait_ready(240, False)

    reply = wait_for_texts(platforms.telegram, chat, 1, timeout=90)
    assert "Brightbasket" in reply[0]
    settle(platforms.telegram, "sendMessage")
    assert user_texts(channel_stack, f"telegram-{chat}") == ["hello there"]
    # Answered once: as many messages went out as the tracker holds replies.
    assert len(texts(platforms.telegram, chat)) == len(bot_texts(channel_stack, f"telegram-{chat}"))
    inbox = ChannelInbox(channel_stack.settings.store_url)
    try:
        assert inbox.pending("telegram") == 0
    finally:
        inbox.close()


@pytest.fixture(scope="module")
def agent(channel_stack) -> httpx.Client:
    accounts = Accounts(channel_stack.settings.store_url)
    if accounts.authenticate("cara", PASSWORD) is None:
        accounts.add_user("cara", PASSWORD, AGENT, "Cara")
    accounts.close()
    client = httpx.Client(base_url=channel_stack.settings.web_url, timeout=30.0)
    reply = client.post("/api/console/login", json={"username": "cara", "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


def test_an_escalation_on_telegram_reaches_an_agent_whose_replies_go_back_to_telegram(
    channel_stack, platforms, agent
) -> None:
    fake = platforms.telegram
    chat = new_chat()
    conversation = f"telegram-{chat}"
    say(channel_stack, fake, chat, "where is my order")
    say(channel_stack, fake, chat, "10234")
    assert any(
        "8 days late" in t for t in say(channel_stack, fake, chat, "dana.whitfield@example.com")
    )
    say(channel_stack, fake, chat, "this is so annoying, it was supposed to be here last week")
    handed = say(
        channel_stack, fake, chat, "This is the THIRD time I'm asking, where is my order??"
    )
    assert any("bringing in a person" in t for t in handed), handed

    handoff_id = open_handoff_id(channel_stack, conversation)
    queue = agent.get("/api/console/queue").json()["handoffs"]
    entry = next(e for e in queue if e["id"] == handoff_id)
    assert entry["channel"] == "telegram"
    view: dict[str, Any] = agent.get(f"/api/console/handoffs/{handoff_id}").json()
    assert "THIRD time" in view["handoff"]["summary_text"] or view["handoff"]["summary"]

    # While the customer waits, what they write on Telegram reaches the console.
    assert say(channel_stack, fake, chat, "hello? anyone?", wait_for=None) == []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = agent.get(f"/api/console/handoffs/{handoff_id}").json()
        if any(m["text"] == "hello? anyone?" for m in view["messages"]):
            break
        time.sleep(0.2)
    assert any(m["text"] == "hello? anyone?" for m in view["messages"]), view["messages"]

    before = len(texts(fake, chat))
    assert agent.post(f"/api/console/handoffs/{handoff_id}/claim").status_code == 200
    joined = wait_for_texts(fake, chat, before + 1)[before:]
    assert any("Cara from our support team has joined" in t for t in joined)

    # Telegram down: the agent is told the reply did not go out, and it is not recorded.
    settle(fake, "sendMessage")
    fake.fail_next(503, times=2)
    down = agent.post(
        f"/api/console/handoffs/{handoff_id}/messages", json={"text": "Are you still there?"}
    )
    assert down.status_code == 503 and down.json()["error"] == "not_delivered"
    assert conversation not in down.json()["message"]  # the agent sees no conversation ids
    log = (channel_stack.settings.data_dir / "logs" / "rasa.log").read_text()
    assert "telegram did not take the message after 2 tries" in log
    view = agent.get(f"/api/console/handoffs/{handoff_id}").json()
    assert all(m["text"] != "Are you still there?" for m in view["messages"])

    before = len(texts(fake, chat))
    sent = agent.post(
        f"/api/console/handoffs/{handoff_id}/messages",
        json={"text": "Hi, I'm Cara. I've found your order and I'm sending a new one today."},
    )
    assert sent.status_code == 201, sent.text
    reply = wait_for_texts(fake, chat, before + 1)[before:]
    assert reply == ["Cara: Hi, I'm Cara. I've found your order and I'm sending a new one today."]

    # The customer's answer on Telegram reaches the agent; the bot stays silent.
    assert say(channel_stack, fake, chat, "thank you so much", wait_for=None) == []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = agent.get(f"/api/console/handoffs/{handoff_id}").json()
        if any(m["text"] == "thank you so much" for m in view["messages"]):
            break
        time.sleep(0.2)
    assert any(m["text"] == "thank you so much" for m in view["messages"])
    time.sleep(1.0)
    assert len(texts(fake, chat)) == before + 1  # nothing from the bot

    assert agent.post(f"/api/console/handoffs/{handoff_id}/resolve").status_code == 200
    closing = wait_for_texts(fake, chat, before + 2)[before + 1 :]
    assert any("marked this conversation as resolved" in t for t in closing)
    rating = fake.sent_messages(chat)[-1]
    assert "reply_markup" in rating and rating["reply_markup"]["inline_keyboard"]


def test_a_question_comes_with_an_inline_keyboard_and_a_press_answers_it(
    channel_stack, platforms
) -> None:
    fake = platforms.telegram
    chat = new_chat()
    say(channel_stack, fake, chat, "where is my order")
    say(channel_stack, fake, chat, "10234")
    say(channel_stack, fake, chat, "dana.whitfield@example.com")
    say(channel_stack, fake, chat, "ok thanks, bye", wait_for=2)
    question = fake.sent_messages(chat)[-1]
    keyboard = question["reply_markup"]["inline_keyboard"]
    presses = [key for row in keyboard for key in row]
    assert len(presses) == 5 and all(len(k["callback_data"].encode()) <= 64 for k in presses)
    best = presses[-1]
    before = len(texts(fake, chat))
    answer = fake.deliver(
        webhook(channel_stack, "telegram"),
        fake.callback_update(best["callback_data"], chat_id=chat),
        TELEGRAM_SECRET,
    )
    assert answer.status_code == 200
    thanks = wait_for_texts(fake, chat, before + 1)[before:]
    assert any("thank" in t.lower() for t in thanks), thanks
    assert fake.calls("answerCallbackQuery")  # the button stops spinning
    slots = tracker_of(channel_stack, f"telegram-{chat}")["slots"]
    assert slots["csat_score"] == 5


def test_a_reply_the_platform_refuses_is_logged_and_counted_not_dropped_silently(
    channel_stack, platforms
) -> None:
    fake = platforms.telegram
    health = f"{channel_stack.settings.rasa_url}/webhooks/telegram/"
    assert httpx.get(health).json() == {"status": "ok"}  # the counts are the operator's

    def undelivered() -> int:
        headers = api_headers(channel_stack.settings.rasa_api_token)
        return int(httpx.get(health, headers=headers).json()["inbox"]["undelivered"])

    before = undelivered()
    chat = new_chat()
    settle(fake, "sendMessage")
    fake.fail_next(400, times=1)  # "Bad Request": not retried
    say(channel_stack, fake, chat, "hi", wait_for=None)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if undelivered() > before:
            break
        time.sleep(0.2)
    assert undelivered() == before + 1
    log = (channel_stack.settings.data_dir / "logs" / "rasa.log").read_text()
    assert "a reply to telegram:" in log and "was not delivered" in log
    assert TELEGRAM_TOKEN not in log  # the Bot API URL holds it


def test_a_chat_is_linked_to_the_customer_only_by_a_one_time_code(channel_stack, platforms) -> None:
    fake = platforms.telegram
    proven, unproven = new_chat(), new_chat()
    assert "order number" in say(channel_stack, fake, proven, "I want to return something")[0]
    say(channel_stack, fake, proven, "10342")
    assert "6-digit code" in say(channel_stack, fake, proven, "marcus.lee@example.com")[0]
    coded = say(channel_stack, fake, proven, latest_code(channel_stack.settings))
    assert any('say "remember me"' in t for t in coded) and any("reason" in t for t in coded)
    done = say(channel_stack, fake, proven, "the bowls are smaller than I expected")
    assert any("R-" in t for t in done)
    # Asked in words (no consent panel here), the customer agrees to be remembered...
    assert any(
        "remember you next time" in t for t in say(channel_stack, fake, proven, "remember me")
    )
    # ...so a later session in the same Telegram chat knows them and the open return.
    say(channel_stack, fake, proven, "/session_start", wait_for=None)
    time.sleep(1.0)
    greeting = say(channel_stack, fake, proven, "hi")
    assert greeting[0].startswith("Welcome back, Marcus — is this about your return of order 10342")

    # The e-mail alone reads an order's status, and links nothing beyond the session.
    say(channel_stack, fake, unproven, "where is order 10342")
    assert any(
        "delivered" in t for t in say(channel_stack, fake, unproven, "marcus.lee@example.com")
    )
    say(channel_stack, fake, unproven, "/session_start", wait_for=None)
    time.sleep(1.0)
    assert not any("Welcome back" in t for t in say(channel_stack, fake, unproven, "hi"))


def test_an_oversized_body_is_refused_before_it_is_read_whole(channel_stack) -> None:
    huge = b'{"update_id": 1, "message": {"text": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    answer = httpx.post(
        webhook(channel_stack, "telegram"),
        content=huge,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "x"},
    )
    assert answer.status_code == 413
