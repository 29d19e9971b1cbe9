"""The routing decision: escalate when it should, not when it shouldn't, and say why."""

from __future__ import annotations

import pytest

from core.conversation import Turn
from routing import CONTINUE, EMPATHIZE, ESCALATE, Customer, RoutingConfig, decide, queue_for


def turn(
    text: str,
    frustration: float,
    urgency: float = 0.05,
    intent: str | None = None,
    failed: bool = False,
) -> Turn:
    return Turn.scored(text, frustration, urgency, frustration, intent=intent, failed=failed)


def test_growing_frustration_escalates_with_the_reason_queue_and_priority() -> None:
    turns = [
        turn("where is my order 10234", 0.2, intent="order_status"),
        turn("it says shipped a week ago, still nothing", 0.55, intent="delivery_problem"),
        turn("this is ridiculous, I need it", 0.8, intent="delivery_problem"),
        turn("I've asked three times now, where is my order??", 0.95, intent="delivery_problem"),
    ]
    d = decide(turns)
    assert d.action == ESCALATE
    assert d.queue == "orders_shipping"
    assert d.priority in {"high", "normal"}
    assert "distress" in d.explanation and "rising over" in d.explanation
    assert d.wait_target_seconds is not None


def test_one_sarcastic_line_in_a_calm_conversation_does_not_escalate() -> None:
    turns = [
        turn("hi, can you check order 10342", 0.05, intent="order_status"),
        turn("great, another delay. fine, when will it come?", 0.85, intent="order_status"),
    ]
    assert decide(turns).action != ESCALATE
    assert decide(turns[-1:]).action != ESCALATE  # a single message is never a trend


def test_calm_customer_with_one_negative_word_continues() -> None:
    turns = [
        turn("hello", 0.02),
        turn(
            "the box was a bit damaged but the item is fine, how do I return it?",
            0.3,
            intent="return_item",
        ),
    ]
    d = decide(turns)
    assert d.action == CONTINUE


def test_urgent_message_escalates_at_once_with_urgent_priority() -> None:
    d = decide(
        [
            turn(
                "someone just took money out of my account",
                0.3,
                urgency=0.95,
                intent="billing_issue",
            )
        ]
    )
    assert (d.action, d.priority, d.queue) == (ESCALATE, "urgent", "billing")
    assert "urgent request" in d.explanation


def test_asking_for_a_person_escalates_at_once() -> None:
    d = decide([turn("I want to talk to a human", 0.2, intent="request_human")])
    assert d.action == ESCALATE and d.queue == "general"
    assert d.explanation.startswith("asked for a person")


def test_the_same_request_again_counts_as_a_repetition() -> None:
    turns = [
        turn("where is my refund for order 10342", 0.3, intent="request_refund"),
        turn("ok", 0.1, intent="affirm"),
        turn("where is my refund for order 10342??", 0.5, intent="request_refund"),
    ]
    assert "1 repeated request" in decide(turns).explanation


def test_failed_answers_escalate_even_when_polite() -> None:
    turns = [turn(f"question {i}", 0.1, intent="ask_faq", failed=True) for i in range(3)]
    d = decide(turns)
    assert d.action == ESCALATE and "3 failed answers" in d.explanation


def test_tone_changes_before_escalation_and_holds_with_hysteresis() -> None:
    rising = [
        turn("where is it", 0.35, intent="order_status"),
        turn("this is getting annoying", 0.7, intent="complaint"),
    ]
    first = decide(rising)
    assert first.action == EMPATHIZE
    easing = [*rising, turn("ok thanks, that helps a bit", 0.4)]
    assert decide(easing, empathetic=True).action == EMPATHIZE  # stays above the release level
    assert decide(easing, empathetic=False).action == CONTINUE  # would not have entered


def test_plus_tier_and_repeat_contacts_raise_distress_and_priority() -> None:
    turns = [
        turn("my refund still isn't here", 0.5, intent="request_refund"),
        turn("still waiting on it", 0.55, intent="request_refund"),
    ]
    plain = decide(turns)
    vip = decide(turns, Customer(tier="plus", contacts_7d=4))
    assert vip.distress > plain.distress
    assert "plus customer" in vip.explanation and "4 contacts in 7 days" in vip.explanation


def test_queue_follows_the_latest_skill_intent() -> None:
    assert queue_for(["greet", "order_status", "billing_issue", "thanks"]) == "billing"
    assert queue_for(["account_access"]) == "account_security"
    assert queue_for(["greet", None]) == "general"


def test_config_rejects_unknown_settings_and_inverted_thresholds() -> None:
    with pytest.raises(ValueError, match="escalate_att"):
        RoutingConfig.from_dict({"escalate_att": 0.9})
    with pytest.raises(ValueError, match="empathize_release"):
        RoutingConfig.from_dict({"empathize_at": 0.9, "escalate_at": 0.8})
    assert RoutingConfig.from_dict({"escalate_at": 0.7}).escalate_at == 0.7


def test_an_urgent_sounding_issue_the_bot_settles_itself_does_not_jump_the_queue() -> None:
    duplicate = Turn.scored(
        "I was charged twice for my order",
        0.3,
        urgency=0.96,
        entities=(("issue_type", "charged_twice"),),
    )
    fraud = Turn.scored(
        "someone used my card in another country",
        0.3,
        urgency=0.96,
        entities=(("issue_type", "unknown_charge"),),
    )

    assert decide([duplicate]).action != "escalate"
    assert decide([fraud]).priority == "urgent"
    custom = RoutingConfig.from_dict({"self_service_issues": []})
    assert decide([duplicate], config=custom).priority == "urgent"


def test_an_escalation_for_distress_is_at_least_high_priority() -> None:
    """Written in capitals after two annoyed turns: a person, and never the 10-minute
    queue."""
    turns = [
        turn("where is my parcel", 0.7, intent="order_status"),
        turn("I ALREADY told you the order number!!", 0.95, intent="order_status"),
    ]
    d = decide(turns, Customer(tier="standard"))
    assert d.action == ESCALATE and d.reasons[0].startswith("distress")
    assert d.priority == "high" and d.wait_target_seconds == 180


def test_failed_answers_counted_by_the_caller_escalate_with_the_reason() -> None:
    """Clicked "That didn't help" turns are not among the typed turns; the caller counts
    them, and the third failed answer hands over."""
    calm = [turn("how do gift cards work", 0.1, intent="ask_faq")]
    assert decide(calm, failed_answers=2).action != ESCALATE
    d = decide(calm, failed_answers=3)
    assert d.action == ESCALATE and d.reasons[0] == "3 failed answers"


def test_the_person_button_escalates_at_the_customers_priority_even_before_any_words() -> None:
    plus = Customer(tier="plus")
    d = decide([], plus, asked_for_person=True)
    assert (d.action, d.priority) == (ESCALATE, "high")
    assert d.explanation.startswith("asked for a person")
    assert decide([], Customer(), asked_for_person=True).priority == "normal"
    assert decide([]).action == CONTINUE


def test_a_cancellation_that_sounds_urgent_stays_with_the_bot() -> None:
    cancel = turn("please stop my pantry box right away", 0.1, 0.9, intent="cancel_subscription")
    assert decide([cancel]).action != ESCALATE
    fraud = turn("money was taken from my account", 0.1, 0.9, intent="billing_issue")
    assert decide([fraud]).priority == "urgent"


def test_the_queue_follows_the_form_in_progress_unless_a_new_request_comes() -> None:
    assert queue_for(["order_status", "complaint"], "order_lookup_form") == "orders_shipping"
    assert queue_for(["order_status", "request_human"], "billing_form") == "billing"
    assert queue_for(["order_status", "account_access"], "order_lookup_form") == (
        "account_security"
    )
    assert queue_for(["complaint"], None) == "general"
