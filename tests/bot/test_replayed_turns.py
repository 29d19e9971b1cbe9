"""`bot.replayed_turns`: a message sent again (same id) is answered from its stored turn,
and neither stored nor run twice."""

from __future__ import annotations

import uuid

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.channels.coalescer import merge
from bot.replayed_turns import keep_only, message_ids, stored_replies, unanswered
from core.constants import METADATA_MESSAGE_IDS
from tests.conftest import RestChat, tracker_of


def test_the_replies_after_the_user_event_with_the_id_are_found() -> None:
    events = [
        UserUttered("hi", message_id="a"),
        BotUttered("Hello!", {"buttons": [{"title": "Order", "payload": "/order"}]}),
        ActionExecuted("action_listen"),
        UserUttered("two\nthree", message_id="merged", metadata={METADATA_MESSAGE_IDS: ["b", "c"]}),
        SlotSet("x", 1),
        BotUttered("About two and three"),
        BotUttered("Anything else?"),
        UserUttered("agent, please", message_id="d"),  # an agent holds it: no reply
        ActionExecuted("action_listen"),  # the turn ended
        BotUttered("Ava joined."),  # an agent's message after it: not the turn's reply
    ]
    first = stored_replies(events, {"a"})
    assert [(r["text"], r["buttons"]) for r in first] == [
        ("Hello!", [{"title": "Order", "payload": "/order"}])
    ]
    for merged_id in ("b", "c"):
        assert [r["text"] for r in stored_replies(events, {merged_id})] == [
            "About two and three",
            "Anything else?",
        ]
    assert stored_replies(events, {"d"}) == []
    assert stored_replies(events, {"never-sent"}) is None
    assert stored_replies(events, set()) is None


def test_a_merged_message_runs_with_the_messages_not_answered_before_only() -> None:
    # The web chat sent A again after a reconnect (its acknowledgement was lost), and C,
    # new, was merged with it: A is left out, C is not lost.
    class Waiting:
        def __init__(self, text: str, message_id: str) -> None:
            self.message = UserMessage(text, CollectingOutputChannel(), "s1", message_id=message_id)

    merged = merge([Waiting("where is my order?", "A"), Waiting("and my refund?", "C")])
    assert message_ids(merged) == ["A", "C"]
    stored = [UserUttered("where is my order?", message_id="A"), BotUttered("It ships today.")]
    left = unanswered(merged, stored)
    assert left == ["C"]
    keep_only(merged, left)
    assert merged.text == "and my refund?"
    assert message_ids(merged) == ["C"]
    assert merged.metadata[METADATA_MESSAGE_IDS] == ["C"]
    assert unanswered(merged, [*stored, UserUttered("and my refund?", message_id="C")]) == []
    assert unanswered(UserMessage("hi", message_id="B"), stored) == ["B"]


def user_events(stack, sender: str) -> list[str]:
    return [e.get("text") for e in tracker_of(stack, sender)["events"] if e.get("event") == "user"]


def send(chat: RestChat, text: str, **extra) -> httpx.Response:
    headers = extra.pop("headers", {})
    return chat.client.post(
        chat.url, json={"sender": chat.sender, "message": text, **extra}, headers=headers
    )


def test_a_message_sent_again_with_its_id_gets_the_same_replies_once_stored(
    stack, chat: RestChat
) -> None:
    first = send(chat, "where is my order?", message_id="m-1")
    assert first.status_code == 200, first.text
    assert first.json(), "no reply"
    again = send(chat, "where is my order?", message_id="m-1")
    assert again.status_code == 200, again.text
    assert [m.get("text") for m in again.json()] == [m.get("text") for m in first.json()]
    assert user_events(stack, chat.sender) == ["where is my order?"]
    # Another id is another message: a turn of its own.
    other = send(chat, "where is my order?", message_id="m-2")
    assert other.status_code == 200, other.text
    assert user_events(stack, chat.sender) == ["where is my order?"] * 2


def test_the_idempotency_key_header_counts_when_the_body_names_none(stack, chat: RestChat) -> None:
    request_id = uuid.uuid4().hex  # the client's, or HAProxy's (kept when it retries)
    first = send(chat, "hello", headers={"Idempotency-Key": request_id})
    again = send(chat, "hello", headers={"Idempotency-Key": request_id})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert user_events(stack, chat.sender) == ["hello"]
    # Without an id, the same text twice is two messages, as before.
    send(chat, "hello")
    send(chat, "hello")
    assert user_events(stack, chat.sender) == ["hello"] * 3


def test_the_web_chat_channel_acknowledges_and_answers_a_message_sent_again_once(
    stack,
) -> None:
    from tests.bot.test_bad_input import SocketChat
    from tests.conftest import run_async

    async def talk() -> tuple[list, list, list, str]:
        chat = await SocketChat(stack).open()
        message = {"message": "where is my order?", "message_id": "w-1", "customData": {}}
        first_ack = await chat.client.call("user_uttered", message, timeout=60)
        first = [await chat.reply()]
        while not chat.replies.empty():
            first.append(str(chat.replies.get_nowait().get("text")))
        again_ack = await chat.client.call("user_uttered", message, timeout=60)
        again = [await chat.reply()]
        while not chat.replies.empty():
            again.append(str(chat.replies.get_nowait().get("text")))
        bad_ack = await chat.client.call(
            "user_uttered", {**message, "message_id": "x" * 200}, timeout=60
        )
        await chat.reply()  # the polite "couldn't read that" reply
        await chat.close()
        return [first_ack, again_ack, bad_ack], first, again, chat.session

    acks, first, again, conversation = run_async(talk())
    assert acks == [{"status": "answered"}, {"status": "answered"}, {"status": "refused"}]
    assert again == first
    assert user_events(stack, conversation) == ["where is my order?"]
