"""The four fake platforms, and one running assistant with all four channels on them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from tests.channels.fake_platforms import FakeMessenger, FakeSlack, FakeTelegram, FakeTwilio
from tests.conftest import stack_settings, start_stack, tracker_of

TELEGRAM_TOKEN = "7000001:test-telegram-bot-token"
TELEGRAM_SECRET = "telegram-secret_token-0123456789"
SLACK_TOKEN = "xoxb-test-slack-token"
SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TWILIO_SID = "AC" + "0" * 30 + "17"
TWILIO_AUTH = "test-twilio-auth-token-0123456789"
TWILIO_NUMBER = "+15559999"
MESSENGER_TOKEN = "EAAtest-page-token"
MESSENGER_SECRET = "test-messenger-app-secret"
MESSENGER_VERIFY = "test-verify-token"
T = TypeVar("T")


@dataclass
class Platforms:
    telegram: FakeTelegram
    slack: FakeSlack
    twilio: FakeTwilio
    messenger: FakeMessenger

    def close(self) -> None:
        for fake in (self.telegram, self.slack, self.twilio, self.messenger):
            fake.close()


@pytest.fixture(scope="package")
def platforms() -> Iterator[Platforms]:
    fakes = Platforms(
        FakeTelegram(TELEGRAM_TOKEN),
        FakeSlack(SLACK_TOKEN),
        FakeTwilio(TWILIO_SID, TWILIO_AUTH),
        FakeMessenger(MESSENGER_TOKEN),
    )
    yield fakes
    fakes.close()


def channel_environment(platforms: Platforms) -> dict[str, str]:
    return {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platforms.telegram.api_url,
        "SLACK_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_URL": platforms.slack.api_url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH,
        "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_URL": platforms.twilio.api_url,
        "MESSENGER_PAGE_TOKEN": MESSENGER_TOKEN,
        "MESSENGER_APP_SECRET": MESSENGER_SECRET,
        "MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY,
        "MESSENGER_API_URL": platforms.messenger.api_url,
    }


@pytest.fixture(scope="package")
def channel_stack(platforms: Platforms, tmp_path_factory: pytest.TempPathFactory):
    """The real Rasa, action and web servers, with every messaging channel on and talking
    to the fake platforms."""
    settings = stack_settings(tmp_path_factory.mktemp("channels"), **channel_environment(platforms))
    running = start_stack(settings)
    yield running
    running.stop()


def webhook(stack, channel: str) -> str:
    return f"{stack.settings.rasa_url}/webhooks/{channel}/webhook"


def user_texts(stack, conversation: str) -> list[str]:
    """What the tracker store holds as the customer's messages of a conversation."""
    events = tracker_of(stack, conversation, include_events="ALL")["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


def wait_for(read: Callable[[], list[T]], count: int, timeout: float = 60.0) -> list[T]:
    """`read()` once it has at least `count` items; fails with what it had."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"got {read()} within {timeout} s, not {count} items")


def bot_texts(stack, conversation: str) -> list[str]:
    """The bot's (and agents') messages the tracker store holds for a conversation."""
    events = tracker_of(stack, conversation, include_events="ALL")["events"]
    return [e for e in events if e.get("event") == "bot"]


def settle(fake, name: str, quiet: float = 0.7, timeout: float = 30.0) -> None:
    """Wait until the fake API has had no `name` call for `quiet` seconds: the replies of
    earlier turns are out (before a test makes the fake fail its next calls)."""
    deadline = time.monotonic() + timeout
    count, since = len(fake.calls(name)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(fake.calls(name))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
