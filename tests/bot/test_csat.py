"""CSAT: asked when a conversation with a request ends, recorded from the buttons, with
an optional comment."""

from __future__ import annotations

import json

from bot.actions.csat import ActionAskRating, ActionRecordCsat, ActionRecordCsatComment
from bot.rating import rating_event, rating_question
from tests.bot.test_actions import run, slot_events, tracker


def user_event(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def rated(messages: list[dict]) -> bool:
    return any(
        str(b.get("payload", "")).startswith("/rate_service")
        for m in messages
        for b in m.get("buttons") or []
    )


def test_goodbye_after_a_request_asks_for_a_rating_once() -> None:
    request = [{"event": "session_started"}, user_event("where is my order", "order_status")]
    messages, _ = run(ActionAskRating(), tracker(events=request))
    assert rated(messages)
    asked = [*request, {"event": "bot", "text": "Rate?", "data": rating_question()}]
    messages, _ = run(ActionAskRating(), tracker(events=asked))
    assert not rated(messages)
    small_talk = [{"event": "session_started"}, user_event("hello", "greet")]
    assert not rated(run(ActionAskRating(), tracker(events=small_talk))[0])
    # A request in an earlier session does not count.
    earlier = [user_event("refund", "request_refund"), {"event": "session_started"}]
    assert not rated(run(ActionAskRating(), tracker(events=earlier))[0])


def test_the_buttons_carry_one_to_five() -> None:
    payloads = [b["payload"] for b in rating_question()["buttons"]]
    assert [json.loads(p.split("rate_service", 1)[1])["csat_score"] for p in payloads] == [
        1,
        2,
        3,
        4,
        5,
    ]
    event = rating_event()
    assert event["event"] == "bot" and event["data"]["buttons"] == rating_question()["buttons"]


ASKED = [
    {"event": "session_started"},
    user_event("where is my order", "order_status"),
    {"event": "bot", "text": "Rate?", "data": rating_question()},
]


def rating(score: object, events: list[dict] = ASKED) -> object:
    t = tracker(text='/rate_service{"csat_score": 4}', events=list(events))
    t.latest_message["entities"] = [{"entity": "csat_score", "value": score}]
    return t


def test_a_rating_is_recorded_and_a_comment_invited() -> None:
    messages, events = run(ActionRecordCsat(), rating(4))
    assert slot_events(events) == {"csat_score": 4}
    assert "add" in messages[0]["text"] and messages[0]["buttons"][0]["payload"] == "/goodbye"
    for bad in (0, 6, "five", None):
        messages, events = run(ActionRecordCsat(), rating(bad))
        assert events == [] and rated(messages)


def test_a_rating_nobody_asked_for_or_a_second_one_is_not_recorded() -> None:
    unasked = [{"event": "session_started"}, user_event("hi", "greet")]
    messages, events = run(ActionRecordCsat(), rating(5, unasked))
    assert events == [] and not rated(messages)
    again = [*ASKED, {"event": "slot", "name": "csat_score", "value": 2}]
    assert run(ActionRecordCsat(), rating(5, again))[1] == []
    # The question of an earlier session does not count.
    earlier = [*ASKED, {"event": "session_started"}]
    assert run(ActionRecordCsat(), rating(5, earlier))[1] == []


def test_the_comment_is_kept_within_its_limit() -> None:
    _, events = run(ActionRecordCsatComment(), tracker(text="  quick and kind  "))
    assert slot_events(events) == {"csat_comment": "quick and kind"}
    _, events = run(ActionRecordCsatComment(), tracker(text="x" * 5000))
    assert len(slot_events(events)["csat_comment"]) == 1000
