"""Outbound messages on each platform, against its fake API: retries with backoff on 429
and 5xx, a visible error when a platform will not take a message, and buttons, links and
long texts the way each platform shows them."""

from __future__ import annotations

import time

import pytest

from bot.channels.messaging import Button, Reply, reply_of, split_text
from bot.channels.messenger import MessengerOutput
from bot.channels.platform_api import DeliveryFailed, PlatformAPI
from bot.channels.slack import SlackOutput, slack_ok
from bot.channels.telegram import TelegramOutput, telegram_ok
from bot.channels.twilio import TwilioOutput
from tests.channels.conftest import (
    MESSENGER_TOKEN,
    SLACK_TOKEN,
    TELEGRAM_TOKEN,
    TWILIO_AUTH,
    TWILIO_NUMBER,
    TWILIO_SID,
)
from tests.channels.fake_platforms import FakeMessenger, FakeSlack, FakeTelegram, FakeTwilio
from tests.conftest import run_async

LONG = " ".join(f"Sentence number {i} of a very long answer." for i in range(600))  # ~25k
RATING = [Button(str(n), f'/rate_service{{"csat_score": {n}}}') for n in range(1, 6)]


@pytest.fixture
def telegram():
    with FakeTelegram(TELEGRAM_TOKEN) as fake:
        yield fake


def telegram_output(fake: FakeTelegram, **retry) -> TelegramOutput:
    api = PlatformAPI("telegram", f"{fake.api_url}/bot{TELEGRAM_TOKEN}", ok=telegram_ok, **retry)
    return TelegramOutput(api)


def test_a_rate_limit_is_waited_out_as_the_platform_asks(telegram) -> None:
    telegram.fail_next(429, times=2, retry_after=1)
    output = telegram_output(telegram, backoff_seconds=0.05)
    started = time.monotonic()
    run_async(output.send_reply("42", Reply("hello")))
    assert time.monotonic() - started >= 2.0  # Retry-After: 1, twice
    assert [m["text"] for m in telegram.sent_messages(42)] == ["hello"]
    assert len(telegram.calls("sendMessage")) == 3


def test_server_errors_are_retried_then_given_up_with_a_clear_error(telegram) -> None:
    telegram.fail_next(503, times=10)
    output = telegram_output(telegram, attempts=3, backoff_seconds=0.01)
    with pytest.raises(DeliveryFailed, match=r"after 3 tries: HTTP 503"):
        run_async(output.send_reply("42", Reply("hello")))
    assert len(telegram.calls("sendMessage")) == 3 and telegram.sent_messages(42) == []


def test_a_refusal_is_not_retried(telegram) -> None:
    api = PlatformAPI("telegram", f"{telegram.api_url}/botWRONG", ok=telegram_ok)
    with pytest.raises(DeliveryFailed, match=r"HTTP 401.*retrying will not help"):
        run_async(TelegramOutput(api).send_reply("42", Reply("hello")))
    assert len(telegram.calls("sendMessage")) == 1


def test_a_platform_asking_for_a_wait_longer_than_a_chat_can_take_is_given_up_at_once(
    telegram,
) -> None:
    telegram.fail_next(429, times=1, retry_after=600)
    output = telegram_output(telegram)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="HTTP 429"):
        run_async(output.send_reply("42", Reply("hello")))
    assert time.monotonic() - started < 2.0


def test_telegram_long_texts_are_split_and_buttons_become_an_inline_keyboard(telegram) -> None:
    run_async(telegram_output(telegram).send_reply("42", Reply(LONG, RATING)))
    sent = telegram.sent_messages(42)
    assert len(sent) == len(split_text(LONG, 4096)) > 1
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert " ".join(m["text"] for m in sent).split() == LONG.split()  # nothing lost
    keyboard = sent[-1]["reply_markup"]["inline_keyboard"]
    assert [k["callback_data"] for row in keyboard for k in row] == [b.payload for b in RATING]
    assert all("reply_markup" not in m for m in sent[:-1])


def test_telegram_button_payloads_over_64_bytes_send_the_title(telegram) -> None:
    long_payload = Button(
        "Track order 10234", '/track{"order_number": "10234", "x": "' + "y" * 80 + '"}'
    )
    run_async(telegram_output(telegram).send_reply("42", Reply("Which one?", [long_payload])))
    key = telegram.sent_messages(42)[0]["reply_markup"]["inline_keyboard"][0][0]
    assert key["callback_data"] == "Track order 10234"


def test_slack_buttons_become_blocks_and_long_texts_several_messages() -> None:
    with FakeSlack(SLACK_TOKEN) as fake:
        api = PlatformAPI(
            "slack", fake.api_url, headers={"Authorization": f"Bearer {SLACK_TOKEN}"}, ok=slack_ok
        )
        run_async(SlackOutput(api).send_reply("D1", Reply(LONG, RATING)))
        sent = fake.sent_messages("D1")
    assert len(sent) > 1 and all(len(m["text"]) <= 3000 for m in sent)
    actions = sent[-1]["blocks"][-1]
    assert actions["type"] == "actions"
    assert [e["value"] for e in actions["elements"]] == [b.payload for b in RATING]


def test_slack_answers_ok_false_as_a_refusal() -> None:
    with FakeSlack(SLACK_TOKEN) as fake:
        api = PlatformAPI(
            "slack", fake.api_url, headers={"Authorization": "Bearer xoxb-wrong"}, ok=slack_ok
        )
        with pytest.raises(DeliveryFailed, match="invalid_auth"):
            run_async(SlackOutput(api).send_reply("D1", Reply("hi")))


def test_sms_numbers_the_options_and_whatsapp_replies_from_the_whatsapp_number() -> None:
    with FakeTwilio(TWILIO_SID, TWILIO_AUTH) as fake:
        api = PlatformAPI("twilio", fake.api_url, auth=(TWILIO_SID, TWILIO_AUTH))
        output = TwilioOutput(api, TWILIO_SID, TWILIO_NUMBER)
        run_async(output.send_reply("+15550123", Reply("How did we do?", RATING)))
        run_async(output.send_reply("whatsapp:+15550123", Reply(LONG)))
        sms = fake.sent_messages("+15550123")
        whatsapp = fake.sent_messages("whatsapp:+15550123")
    assert sms[0]["Body"].startswith("How did we do?\n\n1. 1\n2. 2")
    assert sms[0]["Body"].endswith("(Reply with a number.)") and sms[0]["From"] == TWILIO_NUMBER
    assert len(whatsapp) > 1 and all(len(m["Body"]) <= 1600 for m in whatsapp)
    assert {m["From"] for m in whatsapp} == {f"whatsapp:{TWILIO_NUMBER}"}


def test_messenger_buttons_become_at_most_13_quick_replies_with_short_titles() -> None:
    many = [
        Button(f"Option number {i} with a long title", f'/choose{{"n": {i}}}') for i in range(20)
    ]
    with FakeMessenger(MESSENGER_TOKEN) as fake:
        api = PlatformAPI(
            "messenger", fake.api_url, headers={"Authorization": f"Bearer {MESSENGER_TOKEN}"}
        )
        run_async(MessengerOutput(api).send_reply("123", Reply(LONG, many)))
        sent = fake.sent_messages("123")
    assert len(sent) > 1 and all(len(m["message"]["text"]) <= 2000 for m in sent)
    quick = sent[-1]["message"]["quick_replies"]
    assert len(quick) == 13 and all(len(q["title"]) <= 20 for q in quick)


def test_an_agents_message_is_shown_with_their_name_and_web_chat_status_payloads_are_not_sent() -> (
    None
):
    agent = {
        "text": None,
        "custom": {"data": {"sender": "agent", "agent_name": "Cara", "text": "Hi!"}},
    }
    assert reply_of(agent) == Reply("Cara: Hi!", from_agent=True)
    status_only = {"custom": {"data": {"sender": "bot", "handoff_status": "claimed"}}}
    assert reply_of(status_only) is None
    with_link = {"text": "See our returns policy", "image": "https://example.com/returns.png"}
    assert reply_of(with_link) == Reply("See our returns policy\nhttps://example.com/returns.png")


def test_split_text_cuts_at_sentence_or_word_ends_and_loses_nothing() -> None:
    parts = split_text(LONG, 500)
    assert all(len(p) <= 500 for p in parts)
    assert all(p.endswith(".") for p in parts[:-1])
    assert " ".join(parts).split() == LONG.split()
    assert split_text("x" * 1200, 500) == ["x" * 500, "x" * 500, "x" * 200]
