"""The handoff queue: order, places and waits, updates, exclusive claims, closing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from routing.handoff import (
    CLAIMED,
    HANDED_BACK,
    RESOLVED,
    WAITING,
    CustomerMessage,
    HandoffError,
    UnknownHandoff,
)
from routing.queue import DEFAULT_SECONDS_PER_PLACE, FROM_CUSTOMER, HandoffQueue
from tests.conftest import postgres_admin_url
from tests.routing.test_backends import make_request


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[HandoffQueue]:
    q = HandoffQueue(f"sqlite:///{tmp_path / 'queue.db'}")
    yield q
    q.close()


def test_places_count_priority_then_waiting_time_within_the_skill_queue(queue) -> None:
    first = queue.open(make_request("c1", "normal", queue="billing"), now=100.0)
    second = queue.open(make_request("c2", "normal", queue="billing"), now=110.0)
    urgent = queue.open(make_request("c3", "urgent", queue="billing"), now=120.0)
    other = queue.open(make_request("c4", "normal", queue="general"), now=130.0)

    assert (first.position, second.position, urgent.position, other.position) == (1, 2, 1, 1)
    assert queue.placement(second.handoff.id)[0] == 3  # the urgent one went ahead
    assert first.estimated_wait_seconds == DEFAULT_SECONDS_PER_PLACE
    order = [h.conversation_id for h in queue.waiting_and_held()]
    assert order == ["c3", "c1", "c2", "c4"]


def test_estimated_wait_follows_recent_claim_times(queue) -> None:
    done = queue.open(make_request("old", "normal", queue="billing"), now=1000.0)
    assert queue.claim(done.handoff.id, "dana", now=1030.0)  # claimed after 30 s
    waiting = queue.open(make_request("new", "normal", queue="billing"), now=1100.0)

    assert waiting.position == 1
    assert waiting.estimated_wait_seconds == 30


def test_opening_an_open_conversation_again_updates_it_and_never_lowers_priority(queue) -> None:
    first = queue.open(make_request("same", "urgent"))
    again = queue.open(make_request("same", "normal", reason="asked for a person"))

    assert again.handoff.id == first.handoff.id and not again.created
    assert again.handoff.priority == "urgent"
    assert again.handoff.reason == "asked for a person"
    assert len(queue.waiting_and_held()) == 1


def test_a_closed_conversation_gets_a_new_handoff(queue) -> None:
    first = queue.open(make_request("back-again"))
    queue.claim(first.handoff.id, "dana")
    queue.finish(first.handoff.id, "dana", HANDED_BACK)

    second = queue.open(make_request("back-again"))
    assert second.created and second.handoff.id != first.handoff.id


def test_relayed_messages_are_kept_in_order_with_their_scores(queue) -> None:
    placed = queue.open(make_request("relay"))
    for i, text in enumerate(["anyone?", "<b>hello</b>", "still here"]):
        queue.relay(placed.handoff.id, CustomerMessage(text, 10.0 + i, {"frustration": 0.5}))

    stored = [m for m in queue.messages(placed.handoff.id) if m.sender == FROM_CUSTOMER]
    assert [m.text for m in stored] == ["anyone?", "<b>hello</b>", "still here"]
    assert stored[0].emotion == {"frustration": 0.5}


def test_relay_to_a_closed_or_unknown_handoff_is_refused(queue) -> None:
    placed = queue.open(make_request("closed"))
    queue.claim(placed.handoff.id, "dana")
    queue.finish(placed.handoff.id, "dana", RESOLVED)

    with pytest.raises(UnknownHandoff):
        queue.relay(placed.handoff.id, CustomerMessage("hello?", 1.0))
    with pytest.raises(UnknownHandoff):
        queue.relay(999, CustomerMessage("hello?", 1.0))


def test_only_the_holder_or_a_lead_can_close_a_handoff(queue) -> None:
    placed = queue.open(make_request("held"))
    assert queue.claim(placed.handoff.id, "dana")
    with pytest.raises(HandoffError, match="held by sam"):
        queue.finish(placed.handoff.id, "sam", RESOLVED)
    closed = queue.finish(placed.handoff.id, "lee", RESOLVED, force=True)
    assert closed.status == RESOLVED and closed.closed_at is not None
    with pytest.raises(HandoffError, match="ends as resolved or handed_back"):
        queue.finish(placed.handoff.id, "dana", WAITING)


def race(queue: HandoffQueue, handoff_id: int, agents: int) -> list[str]:
    """`agents` threads claim at the same instant; returns the winners."""
    barrier = threading.Barrier(agents)
    winners: list[str] = []

    def claim(name: str) -> None:
        barrier.wait()
        if queue.claim(handoff_id, name):
            winners.append(name)

    threads = [threading.Thread(target=claim, args=(f"agent{i}",)) for i in range(agents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return winners


def test_concurrent_claims_have_exactly_one_winner(queue) -> None:
    for round_ in range(5):
        placed = queue.open(make_request(f"race-{round_}"))
        winners = race(queue, placed.handoff.id, 8)
        assert len(winners) == 1
        held = queue.get(placed.handoff.id)
        assert held.status == CLAIMED and held.agent == winners[0]


@pytest.mark.postgres
def test_concurrent_claims_have_exactly_one_winner_on_postgres() -> None:
    admin = postgres_admin_url()  # skips when there is no server
    engine = sa.create_engine(
        admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"bb_queue_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(admin).set(database=name)
    q = HandoffQueue(url.render_as_string(hide_password=False))
    try:
        for round_ in range(5):
            placed = q.open(make_request(f"pg-race-{round_}"))
            assert len(race(q, placed.handoff.id, 8)) == 1
    finally:
        q.close()
        with engine.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def test_a_close_can_be_undone_once_and_only_as_it_was(queue) -> None:
    """The console closes first and reopens when the customer could not be told."""
    placed = queue.open(make_request("undo"))
    queue.claim(placed.handoff.id, "dana")
    queue.finish(placed.handoff.id, "dana", RESOLVED)

    assert not queue.reopen(placed.handoff.id, HANDED_BACK)  # it did not end that way
    assert queue.reopen(placed.handoff.id, RESOLVED)
    held = queue.get(placed.handoff.id)
    assert (held.status, held.agent, held.closed_at) == (CLAIMED, "dana", None)
    assert [m.text for m in queue.messages(placed.handoff.id)] == ["dana joined"]
    assert not queue.reopen(placed.handoff.id, RESOLVED)  # nothing to undo any more
    with pytest.raises(HandoffError):
        queue.finish(placed.handoff.id, "sam", RESOLVED)  # still dana's


def test_the_queue_stores_no_personal_data(queue) -> None:
    request = make_request(
        "conv-privacy",
        transcript=[{"sender": "customer", "text": "card 4111 1111 1111 1111, I'm Dana"}],
    )
    handoff = queue.open(request).handoff
    message = queue.relay(handoff.id, CustomerMessage("call me on +44 7700 900123", 1.0, {}))
    with queue.db.begin() as c:
        stored = "\n".join(
            str(value)
            for table in ("handoffs", "handoff_messages")
            for row in c.execute(sa.text(f"SELECT * FROM {table}"))
            for value in row
        )
    for value in ("4111 1111", "7700 900123", "dana.whitfield@example.com"):
        assert value not in stored.replace(str(request.customer_email), "")
    assert "card [CARD]" in stored and message.text == "call me on [PHONE]"
    assert queue.get(handoff.id).summary["facts"]["email"] == "[EMAIL]"
