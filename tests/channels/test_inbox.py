"""The channels' durable inbox: all of a delivery or none, each platform id once, each
conversation in order, leases that run out when a worker dies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.channels.inbox import (
    DONE,
    FAILED,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    ChannelInbox,
    InboundMessage,
)


@pytest.fixture
def inbox(tmp_path: Path):
    box = ChannelInbox(f"sqlite:///{tmp_path / 'store.db'}")
    yield box
    box.close()


def message(external_id: str, conversation: str = "telegram-1", text: str = "hi") -> InboundMessage:
    return InboundMessage(external_id, conversation, text, {})


def test_a_redelivery_is_stored_once_even_within_one_delivery(inbox) -> None:
    assert inbox.accept("telegram", [message("1"), message("2"), message("1")]) == 2
    assert inbox.accept("telegram", [message("2"), message("3")]) == 1
    assert inbox.accept("slack", [message("1")]) == 1  # ids are per platform
    assert inbox.pending("telegram") == 3


def test_a_conversation_is_leased_one_message_at_a_time_in_order(inbox) -> None:
    inbox.accept("telegram", [message("1", "telegram-a"), message("2", "telegram-a")])
    inbox.accept("telegram", [message("3", "telegram-b")])
    first = inbox.lease("telegram", set(), now=1000.0)
    assert [(m.external_id, m.conversation_id) for m in first] == [
        ("1", "telegram-a"),
        ("3", "telegram-b"),
    ]
    # Its first message is held: a second worker gets nothing of conversation a.
    assert inbox.lease("telegram", set(), now=1001.0) == []
    inbox.finish(first[0])
    after = inbox.lease("telegram", set(), now=1002.0)
    assert [m.external_id for m in after] == ["2"]
    assert after[0].message_id == "telegram:2" and after[0].text == "hi"


def test_a_conversation_busy_in_this_process_is_skipped(inbox) -> None:
    inbox.accept("telegram", [message("1", "telegram-a"), message("2", "telegram-b")])
    taken = inbox.lease("telegram", {"telegram-a"}, now=1000.0)
    assert [m.conversation_id for m in taken] == ["telegram-b"]


def test_the_lease_of_a_dead_worker_runs_out_and_the_message_is_taken_again(inbox) -> None:
    inbox.accept("telegram", [message("1")])
    first = inbox.lease("telegram", set(), now=1000.0)
    assert inbox.lease("telegram", set(), now=1000.0 + LEASE_SECONDS - 1) == []
    again = inbox.lease("telegram", set(), now=1000.0 + LEASE_SECONDS + 1)
    assert [m.id for m in again] == [first[0].id] and again[0].attempts == 2


def test_finishing_drops_the_text_and_counts_an_undelivered_reply(inbox) -> None:
    inbox.accept("telegram", [message("1", text="my card is 4111 1111 1111 1111")])
    leased = inbox.lease("telegram", set())[0]
    inbox.finish(leased, error="telegram refused the message")
    assert inbox.counts("telegram") == {"pending": 0, DONE: 1, FAILED: 0, "undelivered": 1}
    with inbox.db.begin() as connection:
        payloads = connection.exec_driver_sql("SELECT payload FROM channel_inbox").all()
    assert payloads == [(None,)]


def test_a_failing_message_is_retried_then_given_up(inbox) -> None:
    inbox.accept("telegram", [message("1")])
    now = time.time()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        leased = inbox.lease("telegram", set(), now=now)
        assert [m.attempts for m in leased] == [attempt]
        retried = inbox.fail(leased[0], "boom", retry_in=0.0)
        assert retried is (attempt < MAX_ATTEMPTS)
        now += LEASE_SECONDS + 1
    assert inbox.lease("telegram", set(), now=now) == []
    assert inbox.counts("telegram")[FAILED] == 1


def test_the_same_delivery_stored_concurrently_is_kept_once(tmp_path: Path) -> None:
    import threading

    url = f"sqlite:///{tmp_path / 'store.db'}"
    ChannelInbox(url).pending()  # migrated once
    results: list[int] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        box = ChannelInbox(url)
        barrier.wait()
        results.append(box.accept("telegram", [message(str(n)) for n in range(20)]))
        box.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 20 and len(results) == 4
