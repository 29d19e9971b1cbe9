"""Retention: what is older than RETENTION_DAYS is erased or reduced to numbers; what is
newer is untouched; the leads' figures survive."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

from bot.retention import DAY, Retention, main
from bot.tracker_store import UrlTrackerStore
from core.settings import Settings
from insights.facts import FactsStore
from insights.schema import broker_events
from routing.handoff import RESOLVED, CustomerMessage
from routing.queue import HandoffQueue
from tests.conftest import run_async
from tests.routing.test_backends import make_request

NOW = time.time()
OLD = NOW - 120 * DAY
SECRET = b"retention-test-secret"


def settings_at(tmp_path: Path) -> Settings:
    return Settings.load(
        environ={"DATA_DIR": str(tmp_path), "RETENTION_DAYS": "90"}, dotenv=tmp_path / "x.env"
    )


def conversation(settings: Settings, sender: str, at: float, words: str) -> None:
    trackers = UrlTrackerStore(host=settings.database_url)
    tracker = run_async(trackers.create_tracker(sender, append_action_listen=False))
    tracker.update(UserUttered(words, {"name": "order_status"}, timestamp=at))
    tracker.update(SlotSet("email", "kept.until.erased@example.com", timestamp=at))
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    run_async(trackers.save(tracker))
    trackers.engine.dispose()
    facts = FactsStore(settings.store_url, SECRET)
    facts.apply(
        [
            {"sender_id": sender, "event": "session_started", "timestamp": at},
            {
                "sender_id": sender,
                "event": "user",
                "timestamp": at,
                "text": words,
                "input_channel": "rest",
                "parse_data": {"intent": {"name": "order_status"}},
            },
        ]
    )
    facts.close()


def tracker_senders(settings: Settings) -> set[str]:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as c:
        senders = {row[0] for row in c.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    engine.dispose()
    return senders


def test_old_conversations_are_erased_and_their_facts_keep_only_numbers(tmp_path: Path) -> None:
    settings = settings_at(tmp_path)
    conversation(settings, "old-1", OLD, "my old words about order 10234")
    conversation(settings, "new-1", NOW, "my new words about order 10235")
    queue = HandoffQueue(settings.store_url)
    old = queue.open(make_request("old-1"), now=OLD).handoff
    queue.relay(old.id, CustomerMessage("hello?", OLD, {}))
    queue.claim(old.id, "dana", now=OLD)
    queue.finish(old.id, "dana", RESOLVED)
    queue.close()
    engine = sa.create_engine(settings.store_url)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE handoffs SET closed_at = :t"), {"t": OLD})
        c.execute(
            sa.insert(broker_events).values(body=json.dumps({"sender_id": "old-1"}), created_at=OLD)
        )
    engine.dispose()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "old.eml").write_text("To: x@example.com\n\n123456")
    os.utime(outbox / "old.eml", (OLD, OLD))
    (outbox / "new.eml").write_text("To: y@example.com\n\n654321")

    done = Retention(settings).apply(now=NOW)

    assert done["conversations erased"] == 1 and done["tracker events erased"] >= 3
    assert done["conversation facts reduced to numbers"] == 1
    assert done["handoff messages erased"] >= 1 and done["handoffs without their text"] == 1
    assert done["queued broker events erased"] == 1 and done["e-mails erased from the outbox"] == 1
    assert tracker_senders(settings) == {"new-1"}
    facts = FactsStore(settings.store_url, SECRET)
    try:
        (old_facts,) = facts.for_sender("old-1")
        (new_facts,) = facts.for_sender("new-1")
    finally:
        facts.close()
    assert old_facts.customer_text == "" and old_facts.turns == 1  # the numbers stay
    assert old_facts.first_intent == "order_status"
    assert "my new words" in new_facts.customer_text
    queue = HandoffQueue(settings.store_url)
    try:
        kept = queue.get(old.id)
        assert kept.transcript == [] and kept.summary_text == "" and kept.claimed_at == OLD
        assert queue.messages(old.id) == []
    finally:
        queue.close()
    assert [p.name for p in outbox.iterdir()] == ["new.eml"]
    for path in tmp_path.glob("*.db*"):
        assert b"my old words" not in path.read_bytes(), path.name
    # A second run finds nothing more to do.
    assert not any(Retention(settings).apply(now=NOW).values())


def test_the_command_prints_what_it_erased(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = settings_at(tmp_path)
    conversation(settings, "old-2", OLD, "old words")
    assert main(["--days", "30"]) == 0
    printed = capsys.readouterr().out
    assert "older than 30 days" in printed and "conversations erased" in printed
    assert main(["--days", "0"]) == 2
