"""The tracker store hands back the tracker it saved only when a reload would give the
same one, and never stores an event twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.tracker_store import UrlTrackerStore
from tests.conftest import run_async

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, order_status]
slots:
  email:
    type: text
    mappings: [{type: custom}]
  order_number:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hi}]
"""
)


def store_at(path: Path) -> UrlTrackerStore:
    return UrlTrackerStore(domain=DOMAIN, host=f"sqlite:///{path}")


def turn(
    tracker: DialogueStateTracker, text: str, order: str | None = None, email: str | None = None
) -> None:
    tracker.update(
        UserUttered(
            text,
            {"name": "greet", "confidence": 0.9},
            parse_data={"text": text, "emotion": {"frustration": 0.1}},
        )
    )
    if order:
        tracker.update(SlotSet("order_number", order))
    if email:
        tracker.update(SlotSet("email", email))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("hi"))
    tracker.update(ActionExecuted("action_listen"))


def state(tracker: DialogueStateTracker) -> dict:
    return tracker.current_state(EventVerbosity.ALL)


def stored_rows(path: Path, sender: str) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar()


def new_conversation(store: UrlTrackerStore, sender: str) -> DialogueStateTracker:
    tracker = run_async(store.get_or_create_tracker(sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_a_kept_tracker_is_what_the_database_gives(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    turn(tracker, "hello")
    run_async(store.save(tracker))
    # The first turn started the session: a reload drops the events before it.
    second = run_async(store.retrieve("c1"))
    assert second is not tracker
    assert state(second) == state(run_async(store_at(path).retrieve("c1")))
    for text, order in (("where is my order", "10234"), ("thanks", None)):
        turn(second, text, order)
        run_async(store.save(second))
        kept = run_async(store.retrieve("c1"))
        assert kept is second
        reloaded = run_async(store_at(path).retrieve("c1"))
        assert state(kept) == state(reloaded)
        assert kept.get_slot("order_number") == "10234"
    # The first turn's 8 events, then the 5 and 4 of the two turns after it.
    assert stored_rows(path, "c1") == len(tracker.events) + 5 + 4


def test_events_are_stored_once_however_often_it_saves(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    for i in range(3):
        turn(tracker, f"message {i}")
        run_async(store.save(tracker))
        run_async(store.save(tracker))
    assert stored_rows(path, "c1") == len(tracker.events)


def test_another_writer_makes_it_reload(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store, other = store_at(path), store_at(path)
    tracker = new_conversation(store, "c1")
    run_async(store.save(tracker))
    mine = run_async(store.retrieve("c1"))
    turn(mine, "hello")
    run_async(store.save(mine))
    # Another Rasa process takes the next turn of the same conversation.
    theirs = run_async(other.retrieve("c1"))
    turn(theirs, "from the other process")
    run_async(other.save(theirs))
    again = run_async(store.retrieve("c1"))
    assert again is not mine
    assert again.latest_message.text == "from the other process"
    assert state(again) == state(run_async(store_at(path).retrieve("c1")))


def test_a_turn_that_failed_half_way_is_not_handed_back(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    run_async(store.save(tracker))
    kept = run_async(store.retrieve("c1"))
    turn(kept, "hello")
    run_async(store.save(kept))
    failing = run_async(store.retrieve("c1"))
    assert failing is kept
    rows = stored_rows(path, "c1")
    failing.update(UserUttered("lost", {"name": "greet", "confidence": 1.0}))
    run_async(store.save(failing))
    assert stored_rows(path, "c1") == rows + 1
    # A turn adds an event, then fails before its save; the next turn must not see it.
    broken = run_async(store.retrieve("c1"))
    broken.update(UserUttered("never saved", {"name": "greet", "confidence": 1.0}))
    fresh = run_async(store.retrieve("c1"))
    assert fresh is not broken
    assert fresh.latest_message.text == "lost"


def test_after_a_new_session_only_its_events_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    turn(tracker, "hello")
    run_async(store.save(tracker))
    tracker = run_async(store.retrieve("c1"))
    time.sleep(0.01)
    # The session expired: the next turn starts a new one.
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "back again")
    run_async(store.save(tracker))
    reloaded = run_async(store.retrieve("c1"))
    assert reloaded is not tracker
    assert [e.text for e in reloaded.events if isinstance(e, UserUttered)] == ["back again"]
    assert state(reloaded) == state(run_async(store_at(path).retrieve("c1")))


@pytest.mark.parametrize("senders", [600])
def test_only_the_most_recent_conversations_are_kept(tmp_path: Path, senders: int) -> None:
    from bot.tracker_store import RECENT_TRACKERS

    store = store_at(tmp_path / "tracker.db")
    for i in range(senders):
        tracker = run_async(store.get_or_create_tracker(f"c{i}"))
        run_async(store.save(tracker))
    assert len(store._recent) == min(senders, RECENT_TRACKERS)


def test_a_tracker_it_did_not_load_is_saved_rasa_s_way_and_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    turn(tracker, "hello")
    run_async(store.save(tracker))
    # The HTTP API replaces a conversation's events with a tracker of its own making.
    replacement = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")], [])
    run_async(store.save(replacement))
    assert "c1" not in store._recent
    assert state(run_async(store.retrieve("c1"))) == state(run_async(store_at(path).retrieve("c1")))


def test_a_new_model_s_domain_drops_the_kept_trackers(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.db")
    tracker = new_conversation(store, "c1")
    run_async(store.save(tracker))
    assert "c1" in store._recent
    store.domain = DOMAIN
    assert not store._recent


def test_the_kept_tracker_can_be_read_ahead_of_a_turn(tmp_path: Path) -> None:
    """The channels read it to prepare the turn's context; reading leaves it kept."""
    from bot.tracker_store import kept_tracker

    store = store_at(tmp_path / "tracker.db")
    tracker = new_conversation(store, "c1")
    turn(tracker, "hello")
    run_async(store.save(tracker))
    kept = run_async(store.retrieve("c1"))
    turn(kept, "where is my order")
    run_async(store.save(kept))
    assert store.kept("c1") is kept
    assert kept_tracker("c1") is kept  # the store created last in this process
    assert run_async(store.retrieve("c1")) is kept
    assert store.kept("unknown") is None


def test_personal_data_never_reaches_the_database(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.db")
    tracker = run_async(store.create_tracker("privacy-1"))
    turn(tracker, "I'm Dana Whitfield, card 4111 1111 1111 1111, call +44 7700 900123")
    run_async(store.save(tracker))
    with store.engine.connect() as connection:
        stored = [row[0] for row in connection.execute(sa.text("SELECT data FROM events"))]
    everything = "\n".join(stored)
    assert "4111" not in everything and "7700 900123" not in everything
    assert "Dana" not in everything
    assert "[PERSON], card [CARD], call [PHONE]" in everything
    assert tracker.latest_message.text.startswith("I'm Dana")  # as typed, in memory


def test_a_slot_of_personal_data_is_stored_as_its_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = new_conversation(store, "c1")
    turn(tracker, "it's dana.whitfield@example.com", email="dana.whitfield@example.com")
    run_async(store.save(tracker))
    with store.engine.connect() as connection:
        stored = "\n".join(r[0] for r in connection.execute(sa.text("SELECT data FROM events")))
    assert "dana" not in stored and '"value": "[EMAIL]"' in stored
    assert run_async(store.retrieve("c1")).get_slot("email") == "dana.whitfield@example.com"
    # Loaded from the database (another process, a restart): asked again, never "[EMAIL]".
    reloaded = run_async(store_at(path).retrieve("c1"))
    assert reloaded.get_slot("email") is None
