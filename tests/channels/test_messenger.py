"""Facebook Messenger, end to end: the fake Send API, the real Rasa, action and web servers."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.channels.conftest import (
    MESSENGER_SECRET,
    MESSENGER_VERIFY,
    user_texts,
    wait_for,
    webhook,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
people = itertools.count(int(time.time()) * 1000)


def new_psid() -> str:
    return str(next(people))


def texts(platforms, psid: str) -> list[str]:
    return [m["message"].get("text", "") for m in platforms.messenger.sent_messages(psid)]


def test_a_signed_delivery_gets_a_reply_through_the_send_api(channel_stack, platforms) -> None:
    psid = new_psid()
    fake = platforms.messenger
    started = time.monotonic()
    answer = fake.deliver(
        webhook(channel_stack, "facebook"),
        fake.delivery(fake.entry("hi", psid=psid)),
        MESSENGER_SECRET,
    )
    assert answer.status_code == 200 and time.monotonic() - started < 1.0
    reply = wait_for(lambda: texts(platforms, psid), 1)
    assert "Brightbasket" in reply[0]
    assert user_texts(channel_stack, f"facebook-{psid}") == ["hi"]


def test_the_subscription_check_answers_only_the_verify_token(channel_stack, platforms) -> None:
    url = webhook(channel_stack, "facebook")
    good = platforms.messenger.verify_subscription(url, MESSENGER_VERIFY, challenge="4242")
    assert good.status_code == 200 and good.text == "4242"
    bad = platforms.messenger.verify_subscription(url, "guess", challenge="4242")
    assert bad.status_code == 403 and "4242" not in bad.text


@pytest.mark.parametrize(
    ("secret", "sha1_only", "status"),
    [
        (None, False, 401),
        ("not-the-app-secret", False, 403),
        (MESSENGER_SECRET, True, 401),  # SHA-1 alone is not enough
    ],
)
def test_an_unsigned_or_wrongly_signed_delivery_is_refused(
    channel_stack, platforms, secret, sha1_only, status
) -> None:
    psid = new_psid()
    fake = platforms.messenger
    answer = fake.deliver(
        webhook(channel_stack, "facebook"),
        fake.delivery(fake.entry("hi", psid=psid)),
        secret,
        sha1_only=sha1_only,
    )
    assert answer.status_code == status  # never 200: Meta would take it as delivered
    time.sleep(1.5)
    assert texts(platforms, psid) == []
    assert user_texts(channel_stack, f"facebook-{psid}") == []


def test_a_batched_delivery_is_processed_whole_and_a_redelivery_once(
    channel_stack, platforms
) -> None:
    fake = platforms.messenger
    ana, ben = new_psid(), new_psid()
    batch = fake.delivery(
        fake.entry("hi", psid=ana),
        fake.entry("hello", psid=ben),
        fake.entry("where is my order", psid=ana),
        fake.echo("an echo of the page's own message", psid=ana),
    )
    url = webhook(channel_stack, "facebook")
    assert fake.deliver(url, batch, MESSENGER_SECRET).status_code == 200
    assert fake.deliver(url, batch, MESSENGER_SECRET).status_code == 200  # redelivered
    wait_for(lambda: user_texts(channel_stack, f"facebook-{ana}"), 2)
    wait_for(lambda: texts(platforms, ben), 1)
    time.sleep(2.0)
    assert user_texts(channel_stack, f"facebook-{ana}") == ["hi", "where is my order"]
    assert user_texts(channel_stack, f"facebook-{ben}") == ["hello"]


def test_a_question_comes_with_quick_replies_and_a_tap_answers_it(channel_stack, platforms) -> None:
    fake = platforms.messenger
    psid = new_psid()
    url = webhook(channel_stack, "facebook")
    for number, text in enumerate(
        ["where is my order", "10234", "dana.whitfield@example.com", "ok thanks, bye"], start=1
    ):
        assert fake.deliver(url, fake.delivery(fake.entry(text, psid=psid)), MESSENGER_SECRET)
        wait_for(lambda: user_texts(channel_stack, f"facebook-{psid}"), number)
    question = wait_for(
        lambda: [m for m in fake.sent_messages(psid) if m["message"].get("quick_replies")], 1
    )[-1]
    options = question["message"]["quick_replies"]
    assert len(options) == 5 and all(len(o["title"]) <= 20 for o in options)
    before = len(texts(platforms, psid))
    tap = fake.quick_reply(options[-1]["payload"], title=options[-1]["title"], psid=psid)
    assert fake.deliver(url, fake.delivery(tap), MESSENGER_SECRET).status_code == 200
    thanks = wait_for(lambda: texts(platforms, psid), before + 1)[before:]
    assert any("thank" in t.lower() for t in thanks), thanks
