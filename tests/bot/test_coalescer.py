"""`MessageCoalescer`: one turn at a time per conversation; waiting messages merge."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.coalescer import MAX_QUEUED_MESSAGES, TOO_MANY_MESSAGES, MessageCoalescer
from core.constants import METADATA_MESSAGE_IDS
from tests.conftest import run_async


class Turns:
    """A stand-in for Rasa's `on_new_message`: records each turn; the first waits until
    `release` is set, so that the messages after it queue up behind it."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.handled: list[UserMessage] = []
        self.release = asyncio.Event()
        self.fail_on = fail_on

    async def __call__(self, message: UserMessage) -> None:
        self.handled.append(message)
        if len(self.handled) == 1:
            await self.release.wait()
        if message.text == self.fail_on:
            raise RuntimeError("the turn failed")
        await message.output_channel.send_text_message(message.sender_id, f"re: {message.text}")

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.handled]


def submit(coalescer: MessageCoalescer, msg: UserMessage) -> asyncio.Future[UserMessage]:
    turn = coalescer.submit(msg)
    assert isinstance(turn, asyncio.Future), turn
    return turn


def message(text: str, sender: str = "s1", **metadata: str) -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), sender, metadata=metadata or None)


def replies(handled: UserMessage) -> list[str]:
    output = handled.output_channel
    assert isinstance(output, CollectingOutputChannel)
    return [m["text"] for m in output.messages]


def test_a_lone_message_is_handled_at_once_and_alone() -> None:
    async def scenario() -> None:
        turns = Turns()
        turns.release.set()
        coalescer = MessageCoalescer(turns, max_chars=100)
        first = message("hi")
        assert await submit(coalescer, first) is first
        assert replies(first) == ["re: hi"]
        assert coalescer.waiting("s1") == 0

    run_async(scenario())


def test_messages_arriving_during_a_turn_become_one_turn_in_order() -> None:
    async def scenario() -> None:
        turns = Turns()
        coalescer = MessageCoalescer(turns, max_chars=1000)
        first = submit(coalescer, message("one", customer_id="c1"))
        await asyncio.sleep(0)  # the first turn starts and waits for `release`
        sent = [message(t, customer_id="c1") for t in ("two", "three", "4")]
        later = [submit(coalescer, m) for m in sent]
        other = submit(coalescer, message("elsewhere", sender="s2"))  # not held up by s1
        assert coalescer.waiting("s1") == 3
        assert replies(await asyncio.wait_for(other, 5)) == ["re: elsewhere"]
        turns.release.set()
        await first
        merged = await asyncio.gather(*later)
        assert [m.text for m in merged] == ["two\nthree\n4"] * 3  # one turn, one reply
        assert replies(merged[0]) == ["re: two\nthree\n4"]
        # Each merged message's id goes with the turn (bot.replayed_turns).
        assert merged[0].metadata == {
            "customer_id": "c1",
            METADATA_MESSAGE_IDS: [m.message_id for m in sent],
        }
        assert turns.texts == ["one", "elsewhere", "two\nthree\n4"]

    run_async(scenario())


def test_a_message_sent_again_while_its_first_try_waits_or_runs_joins_that_turn() -> None:
    async def scenario() -> None:
        turns = Turns()
        coalescer = MessageCoalescer(turns, max_chars=1000)

        def again(text: str) -> UserMessage:
            return UserMessage(text, CollectingOutputChannel(), "s1", message_id=f"id-{text}")

        running = submit(coalescer, again("one"))
        await asyncio.sleep(0)  # "one" runs and waits for `release`
        running_again = submit(coalescer, again("one"))
        waiting = submit(coalescer, again("two"))
        waiting_again = submit(coalescer, again("two"))
        assert coalescer.waiting("s1") == 1  # "two" once
        turns.release.set()
        assert await running_again is await running
        assert await waiting_again is await waiting
        assert turns.texts == ["one", "two"]  # neither ran twice, nor merged with itself
        later = submit(coalescer, again("one"))  # after its turn: a turn of its own again
        await later  # (Rasa answers it from the stored turn: bot.replayed_turns)
        assert turns.texts == ["one", "two", "one"]

    run_async(scenario())


def test_intent_payloads_are_never_merged() -> None:
    async def scenario() -> None:
        turns = Turns()
        coalescer = MessageCoalescer(turns, max_chars=1000)
        first = submit(coalescer, message("hi"))
        await asyncio.sleep(0)
        later = [submit(coalescer, message(t)) for t in ("a", "b", "/request_human", "c", "d")]
        turns.release.set()
        await asyncio.gather(first, *later)
        assert turns.texts == ["hi", "a\nb", "/request_human", "c\nd"]

    run_async(scenario())


def test_a_merged_turn_stays_within_max_chars() -> None:
    async def scenario() -> None:
        turns = Turns()
        coalescer = MessageCoalescer(turns, max_chars=12)
        first = submit(coalescer, message("x"))
        await asyncio.sleep(0)
        later = [submit(coalescer, message(t)) for t in ("aaaaa", "bbbbb")]
        assert coalescer.submit(message("c")) is TOO_MANY_MESSAGES  # 5+1 + 5+1 + 1 > 12
        turns.release.set()
        await asyncio.gather(first, *later)
        assert turns.texts == ["x", "aaaaa\nbbbbb"]

    run_async(scenario())


def test_a_full_queue_refuses_with_429_and_keeps_what_waits() -> None:
    async def scenario() -> None:
        turns = Turns()
        coalescer = MessageCoalescer(turns, max_chars=10_000)
        first = submit(coalescer, message("first"))
        await asyncio.sleep(0)
        waiting = [submit(coalescer, message(f"m{i}")) for i in range(MAX_QUEUED_MESSAGES)]
        refused = coalescer.submit(message("one too many"))
        assert refused is TOO_MANY_MESSAGES and refused.status == 429
        assert refused.code == "too_many_messages" and refused.reply
        turns.release.set()
        await asyncio.gather(first, *waiting)
        assert turns.texts[1] == "\n".join(f"m{i}" for i in range(MAX_QUEUED_MESSAGES))
        # Once the queue has drained, the conversation takes messages again.
        assert replies(await submit(coalescer, message("again"))) == ["re: again"]

    run_async(scenario())


def test_a_failed_turn_fails_its_callers_only() -> None:
    async def scenario() -> None:
        turns = Turns(fail_on="a\nb")
        coalescer = MessageCoalescer(turns, max_chars=1000)
        first = submit(coalescer, message("hi"))
        await asyncio.sleep(0)
        failing = [submit(coalescer, message(t)) for t in ("a", "b")]
        turns.release.set()
        await first
        for turn in failing:
            with pytest.raises(RuntimeError):
                await turn
        assert replies(await submit(coalescer, message("next"))) == ["re: next"]

    run_async(scenario())


def test_a_failing_prepare_never_costs_the_turn() -> None:
    async def scenario() -> list[str]:
        turns = Turns()
        turns.release.set()

        async def prepare(message: UserMessage) -> None:
            raise RuntimeError("the encoder is broken")

        coalescer = MessageCoalescer(turns, max_chars=5000, prepare=prepare)
        msg = UserMessage("hello", CollectingOutputChannel(), "c1")
        handled = await submit(coalescer, msg)
        return [m["text"] for m in handled.output_channel.messages]

    assert run_async(scenario()) == ["re: hello"]


def test_prepare_runs_before_each_turn() -> None:
    async def scenario() -> list[str]:
        turns = Turns()
        turns.release.set()
        order: list[str] = []

        async def prepare(message: UserMessage) -> None:
            order.append(f"prepare {message.text}")

        async def handle(message: UserMessage) -> None:
            order.append(f"turn {message.text}")
            await turns(message)

        coalescer = MessageCoalescer(handle, max_chars=5000, prepare=prepare)
        await submit(coalescer, UserMessage("one", CollectingOutputChannel(), "c1"))
        await submit(coalescer, UserMessage("two", CollectingOutputChannel(), "c1"))
        return order

    assert run_async(scenario()) == ["prepare one", "turn one", "prepare two", "turn two"]


def test_preparing_a_turn_encodes_its_context_texts_not_yet_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reply before the turn (a help-center answer, an agent's message) is new text:
    it is encoded on the worker thread before the turn, with the message."""
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    import bot.tracker_store
    import nlu.encoder
    from bot.channels.coalescer import prepare_turn

    tracker = DialogueStateTracker.from_events(
        "s-1",
        [UserUttered("my parcel never arrived"), BotUttered("Sorry, I didn't quite get that.")],
    )
    monkeypatch.setattr(
        bot.tracker_store, "kept_tracker", lambda sender: tracker if sender == "s-1" else None
    )
    prepared: list[tuple[str, list[str]]] = []

    async def capture(text: str, context: list[str] = ()) -> None:
        prepared.append((text, list(context)))

    monkeypatch.setattr(nlu.encoder, "prepare_text", capture)
    run_async(prepare_turn(UserMessage("Can you help me?", sender_id="s-1")))
    run_async(prepare_turn(UserMessage("hello", sender_id="someone-else")))
    run_async(prepare_turn(UserMessage("/greet", sender_id="s-1")))
    assert prepared[0][0] == "Can you help me?"
    assert "Sorry, I didn't quite get that." in prepared[0][1]
    assert prepared[1] == ("hello", [])
    assert len(prepared) == 2  # an intent payload is not encoded
