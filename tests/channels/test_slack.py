"""Slack, end to end: the fake Web API, the real Rasa, action and web servers."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.channels.conftest import (
    SLACK_SIGNING_SECRET,
    bot_texts,
    settle,
    user_texts,
    wait_for,
    webhook,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
users = itertools.count(1)


def new_user() -> tuple[str, str, str]:
    """A Slack user in a direct-message channel: (channel, user, conversation id)."""
    n = next(users)
    channel, user = f"D{int(time.time())}{n:03d}", f"U{n:06d}"
    return channel, user, f"slack-T0123-{channel}-{user}"


def texts(platforms, channel: str) -> list[str]:
    return [m.get("text", "") for m in platforms.slack.sent_messages(channel)]


def test_a_signed_event_gets_a_reply_in_its_channel(channel_stack, platforms) -> None:
    channel, user, conversation = new_user()
    started = time.monotonic()
    answer = platforms.slack.deliver(
        webhook(channel_stack, "slack"),
        platforms.slack.event("hi", channel=channel, user=user),
        SLACK_SIGNING_SECRET,
    )
    assert answer.status_code == 200 and time.monotonic() - started < 1.0
    reply = wait_for(lambda: texts(platforms, channel), 1)
    assert "Brightbasket" in reply[0]
    assert user_texts(channel_stack, conversation) == ["hi"]


def test_the_url_check_is_answered_with_its_challenge(channel_stack, platforms) -> None:
    check = platforms.slack.url_verification("challenge-123")
    answer = platforms.slack.deliver(webhook(channel_stack, "slack"), check, SLACK_SIGNING_SECRET)
    assert answer.status_code == 200 and answer.json() == {"challenge": "challenge-123"}


@pytest.mark.parametrize(
    ("secret", "age", "status", "code"),
    [
        (None, 0, 401, "missing_signature"),
        ("not-the-signing-secret", 0, 403, "wrong_signature"),
        (SLACK_SIGNING_SECRET, 6 * 60, 403, "stale_request"),  # a replay
    ],
)
def test_an_unsigned_wrongly_signed_or_replayed_event_is_refused(
    channel_stack, platforms, secret, age, status, code
) -> None:
    channel, user, conversation = new_user()
    answer = platforms.slack.deliver(
        webhook(channel_stack, "slack"),
        platforms.slack.event("hi", channel=channel, user=user),
        secret,
        timestamp=int(time.time()) - age,
    )
    assert answer.status_code == status and answer.json()["error"] == code
    time.sleep(1.5)
    assert texts(platforms, channel) == []
    assert user_texts(channel_stack, conversation) == []


def test_slack_retries_of_an_event_are_answered_once(channel_stack, platforms) -> None:
    channel, user, conversation = new_user()
    event = platforms.slack.event("where is my order", channel=channel, user=user)
    url = webhook(channel_stack, "slack")
    assert platforms.slack.deliver(url, event, SLACK_SIGNING_SECRET).status_code == 200
    for retry, reason in ((1, "http_timeout"), (2, "http_error"), (3, "too_many_conns")):
        again = platforms.slack.deliver(
            url, event, SLACK_SIGNING_SECRET, retry_num=retry, retry_reason=reason
        )
        assert again.status_code == 200
    wait_for(lambda: texts(platforms, channel), 1)
    settle(platforms.slack, "chat.postMessage")
    assert user_texts(channel_stack, conversation) == ["where is my order"]
    assert len(texts(platforms, channel)) == len(bot_texts(channel_stack, conversation))


def test_the_bots_own_messages_and_edits_are_not_answered(channel_stack, platforms) -> None:
    channel, user, conversation = new_user()
    own = platforms.slack.event("I'm the bot", channel=channel, user=user)
    own["event"]["bot_id"] = "B0001"
    edit = platforms.slack.event("edited", channel=channel, user=user)
    edit["event"]["subtype"] = "message_changed"
    url = webhook(channel_stack, "slack")
    assert platforms.slack.deliver(url, own, SLACK_SIGNING_SECRET).status_code == 200
    assert platforms.slack.deliver(url, edit, SLACK_SIGNING_SECRET).status_code == 200
    time.sleep(1.5)
    assert texts(platforms, channel) == []
    assert user_texts(channel_stack, conversation) == []


def test_a_question_comes_with_buttons_and_a_press_answers_it(channel_stack, platforms) -> None:
    channel, user, conversation = new_user()
    url = webhook(channel_stack, "slack")

    def rating_questions() -> list[dict]:
        return [
            m
            for m in platforms.slack.sent_messages(channel)
            if m.get("blocks")
            and any(
                str(e.get("value", "")).startswith("/rate_service")
                for e in m["blocks"][-1].get("elements", [])
            )
        ]

    for number, text in enumerate(
        ["where is my order", "10234", "dana.whitfield@example.com", "ok thanks, bye"], start=1
    ):
        event = platforms.slack.event(text, channel=channel, user=user)
        assert platforms.slack.deliver(url, event, SLACK_SIGNING_SECRET).status_code == 200
        wait_for(lambda: user_texts(channel_stack, conversation), number)
    # The rating question, the reply to the last message (sent after its turn is stored;
    # an earlier reply may have a button of its own, "Talk to a person").
    question = wait_for(rating_questions, 1)[-1]
    buttons = question["blocks"][-1]["elements"]
    assert len(buttons) == 5
    before = len(texts(platforms, channel))
    press = platforms.slack.interaction(buttons[-1]["value"], channel=channel, user=user)
    answer = platforms.slack.deliver(url, press, SLACK_SIGNING_SECRET, form=True)
    assert answer.status_code == 200
    thanks = wait_for(lambda: texts(platforms, channel), before + 1)[before:]
    assert any("thank" in t.lower() for t in thanks), thanks


def test_a_help_center_answer_cites_its_source_as_a_link(channel_stack, platforms) -> None:
    channel, user, _ = new_user()
    event = platforms.slack.event(
        "how long do refunds take to show on my card", channel=channel, user=user
    )
    assert (
        platforms.slack.deliver(webhook(channel_stack, "slack"), event, SLACK_SIGNING_SECRET)
    ).status_code == 200
    answer = wait_for(lambda: platforms.slack.sent_messages(channel), 1)[0]
    assert "Source:" in answer["text"] and "https://" in answer["text"]
    assert "<" not in answer["text"].replace("&lt;", "")  # mrkdwn control characters escaped
    # Its "did that help?" buttons come along as Block Kit buttons.
    assert answer["blocks"][-1]["type"] == "actions"
