"""SMS and WhatsApp through Twilio, end to end: the fake Messages API, the real servers.

Also one customer across channels: a customer whose phone number is on file, who asked
for a person on the web chat, is recognised on SMS and greeted with that open issue.
"""

from __future__ import annotations

import itertools
import random
import time

import pytest
import sqlalchemy as sa

from bot.store import SupportStore
from bot.store import schema as store_schema
from tests.channels.conftest import (
    TWILIO_AUTH,
    TWILIO_NUMBER,
    bot_texts,
    settle,
    user_texts,
    wait_for,
    webhook,
)
from tests.conftest import RestChat, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]
numbers = itertools.count(random.randrange(10_000, 90_000) * 10)


def new_number() -> str:
    return f"+1202{next(numbers):07d}"


def texts(platforms, to: str) -> list[str]:
    return [m["Body"] for m in platforms.twilio.sent_messages(to)]


def text_in(stack, platforms, sender: str, body: str, count: int = 1) -> list[str]:
    """Send an SMS (or WhatsApp message) from `sender`; the replies it got."""
    before = len(texts(platforms, sender))
    params = platforms.twilio.inbound(body, from_=sender, to=TWILIO_NUMBER)
    answer = platforms.twilio.deliver(webhook(stack, "twilio"), params, TWILIO_AUTH)
    assert answer.status_code == 200, answer.text
    return wait_for(lambda: texts(platforms, sender), before + count)[before:]


def test_a_signed_sms_gets_a_reply_from_our_number(channel_stack, platforms) -> None:
    sender = new_number()
    started = time.monotonic()
    params = platforms.twilio.inbound("hi", from_=sender, to=TWILIO_NUMBER)
    answer = platforms.twilio.deliver(webhook(channel_stack, "twilio"), params, TWILIO_AUTH)
    assert answer.status_code == 200 and time.monotonic() - started < 1.0
    assert answer.headers["content-type"].startswith("text/xml")  # empty TwiML
    reply = wait_for(lambda: platforms.twilio.sent_messages(sender), 1)[0]
    assert reply["From"] == TWILIO_NUMBER and "Brightbasket" in reply["Body"]
    assert user_texts(channel_stack, f"twilio-{sender}") == ["hi"]


def test_whatsapp_is_answered_on_whatsapp(channel_stack, platforms) -> None:
    sender = "whatsapp:" + new_number()
    reply = text_in(channel_stack, platforms, sender, "hello")
    sent = platforms.twilio.sent_messages(sender)[0]
    assert sent["From"] == f"whatsapp:{TWILIO_NUMBER}" and reply[0] == sent["Body"]


@pytest.mark.parametrize(
    ("auth", "signed_url", "status"),
    [
        (None, None, 401),
        ("not-the-auth-token", None, 403),
        (TWILIO_AUTH, "https://attacker.example/webhooks/twilio/webhook", 403),
    ],
)
def test_an_unsigned_or_wrongly_signed_request_is_refused(
    channel_stack, platforms, auth, signed_url, status
) -> None:
    sender = new_number()
    params = platforms.twilio.inbound("hi", from_=sender, to=TWILIO_NUMBER)
    answer = platforms.twilio.deliver(
        webhook(channel_stack, "twilio"), params, auth, signed_url=signed_url
    )
    assert answer.status_code == status
    time.sleep(1.5)
    assert texts(platforms, sender) == []
    assert user_texts(channel_stack, f"twilio-{sender}") == []


def test_a_request_signed_for_another_account_is_refused(channel_stack, platforms) -> None:
    sender = new_number()
    params = platforms.twilio.inbound("hi", from_=sender, to=TWILIO_NUMBER)
    params["AccountSid"] = "AC" + "9" * 32
    answer = platforms.twilio.deliver(webhook(channel_stack, "twilio"), params, TWILIO_AUTH)
    assert answer.status_code == 403 and answer.json()["error"] == "wrong_account"


def test_a_retried_message_sid_is_answered_once(channel_stack, platforms) -> None:
    sender = new_number()
    params = platforms.twilio.inbound("where is my order", from_=sender, to=TWILIO_NUMBER)
    url = webhook(channel_stack, "twilio")
    for _ in range(3):
        assert platforms.twilio.deliver(url, params, TWILIO_AUTH).status_code == 200
    wait_for(lambda: texts(platforms, sender), 1)
    settle(platforms.twilio, "Messages")
    assert user_texts(channel_stack, f"twilio-{sender}") == ["where is my order"]
    assert len(texts(platforms, sender)) == len(bot_texts(channel_stack, f"twilio-{sender}"))


def test_a_message_without_a_body_gets_a_note_not_an_error(channel_stack, platforms) -> None:
    sender = new_number()
    params = platforms.twilio.inbound("", from_=sender, to=TWILIO_NUMBER)
    del params["Body"]
    params.update({"NumMedia": "1", "MediaContentType0": "image/jpeg"})
    answer = platforms.twilio.deliver(webhook(channel_stack, "twilio"), params, TWILIO_AUTH)
    assert answer.status_code == 200
    note = wait_for(lambda: texts(platforms, sender), 1)
    assert "didn't receive any text" in note[0]
    assert user_texts(channel_stack, f"twilio-{sender}") == []


def add_customer(stack, customer_id: str, phone: str) -> None:
    store = SupportStore(stack.settings.store_url)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                sa.insert(store_schema.customers).values(
                    id=customer_id,
                    name="Nora Quinn",
                    email=f"{customer_id.lower()}@example.net",
                    tier="standard",
                    phone=phone,
                    account_status="active",
                )
            )
    finally:
        store.close()


def test_a_customer_recognised_by_phone_is_greeted_with_the_issue_from_the_web_chat(
    channel_stack, platforms
) -> None:
    number = new_number()
    customer = f"C{number[-6:]}"
    # On file as people write it; Twilio sends E.164.
    add_customer(channel_stack, customer, f"+1 ({number[2:5]}) {number[5:8]}-{number[8:]}")
    web = RestChat(channel_stack.settings, f"web-{customer}", signed_in_as=customer)
    assert "bringing in a person" in web.say("I want to talk to a human")

    greeting = text_in(channel_stack, platforms, number, "hi")
    assert greeting[0].startswith("Welcome back, Nora — is this about your request to talk")
    assert "1. Yes, that's it" in greeting[0] and "2. No, something else" in greeting[0]
    # A reply with an option's number is that option.
    answer = text_in(channel_stack, platforms, number, "2")
    assert answer and "Welcome back" not in answer[0]
    tracker_intents = [
        e["parse_data"]["intent"]["name"]
        for e in tracker_of(channel_stack, f"twilio-{number}")["events"]
        if e.get("event") == "user"
    ]
    assert tracker_intents[-1] == "deny"


def test_an_unknown_number_is_not_taken_for_a_customer(channel_stack, platforms) -> None:
    greeting = text_in(channel_stack, platforms, new_number(), "hi")
    assert "Welcome back" not in greeting[0]
