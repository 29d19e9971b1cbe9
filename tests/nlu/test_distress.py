from __future__ import annotations

from core.conversation import Turn
from nlu.distress import count_repeats, estimate_distress


def turn(text: str, f: float, intent: str | None = None, failed: bool = False) -> Turn:
    return Turn.scored(text, f, intent=intent, failed=failed)


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
