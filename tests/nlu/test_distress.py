from __future__ import annotations

from nlu.distress import Turn, count_repeats, estimate_distress, turns_from_events


def turn(text: str, f: float, intent: str | None = None, failed: bool = False) -> Turn:
    return Turn(text=text, frustration=f, intent=intent, failed=failed)


def test_no_turns_no_distress() -> None:
    assert estimate_distress([]).score == 0.0


def test_calm_conversation_stays_low() -> None:
    d = estimate_distress(
        [turn("hi", 0.05), turn("where is my order", 0.1, "order_status"), turn("thanks!", 0.02)]
    )
    assert d.score < 0.2 and d.reasons == []


def test_rising_frustration_scores_higher_than_the_same_level_flat() -> None:
    rising = [turn("a", 0.2), turn("b", 0.45), turn("c", 0.7)]
    flat = [turn("a", 0.7), turn("b", 0.7), turn("c", 0.7)]
    r, f = estimate_distress(rising), estimate_distress(flat)
    assert r.frustration_trend > 0.2 and f.frustration_trend == 0
    assert r.rising_turns == 3 and "rising over 3 turns" in r.reasons
    assert r.score > estimate_distress([turn("c", 0.55)]).score


def test_repeated_requests_and_failures_add_up() -> None:
    base = [turn("where is my refund", 0.3, "request_refund")]
    repeated = [
        *base,
        turn("where is my refund??", 0.3, "request_refund"),
        turn("hello?? my refund", 0.3, "request_refund"),
    ]
    failed = [*repeated, turn("???", 0.3, "nlu_fallback", failed=True)]
    a, b, c = (estimate_distress(t) for t in (base, repeated, failed))
    assert b.repeats == 2 and c.failures == 1
    assert a.score < b.score < c.score
    assert "2 repeated requests" in c.reasons and "1 failed answer" in c.reasons


def test_greetings_and_yes_are_not_repeated_requests() -> None:
    turns = [
        turn("hi", 0, "greet"),
        turn("hello", 0, "greet"),
        turn("yes", 0, "affirm"),
        turn("yes", 0, "affirm"),
    ]
    assert count_repeats(turns) == 0


def test_turns_from_tracker_events_read_scores_and_fallbacks() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "where is my order",
            "parse_data": {
                "intent": {"name": "order_status"},
                "emotion": {
                    "sentiment": {"negative": 0.6, "neutral": 0.3, "positive": 0.1},
                    "frustration": 0.4,
                    "urgency": 0.1,
                },
            },
        },
        {"event": "action", "name": "order_lookup_form"},
        {"event": "user", "text": "/affirm", "parse_data": {"intent": {"name": "affirm"}}},
        {"event": "user", "text": "blah", "parse_data": {"intent": {"name": "out_of_scope"}}},
        {"event": "action", "name": "action_default_fallback"},
    ]
    turns = turns_from_events(events)
    assert [t.text for t in turns] == ["where is my order", "blah"]
    assert turns[0].frustration == 0.4 and turns[0].negative == 0.6
    assert turns[1].failed and not turns[0].failed


def test_a_help_center_miss_counts_as_a_failed_turn() -> None:
    events = [
        {
            "event": "user",
            "text": "do you have an affiliate program",
            "parse_data": {"intent": {"name": "ask_faq"}},
        },
        {"event": "action", "name": "action_answer_from_help_center"},
        {"event": "slot", "name": "kb_outcome", "value": "miss"},
        {
            "event": "user",
            "text": "how long do refunds take",
            "parse_data": {"intent": {"name": "ask_faq"}},
        },
        {"event": "slot", "name": "kb_outcome", "value": "answered"},
    ]
    turns = turns_from_events(events)
    assert [t.failed for t in turns] == [True, False]
