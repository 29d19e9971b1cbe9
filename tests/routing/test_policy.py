"""`RoutingPolicy` inside Rasa: what it predicts and which events it stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from core.paths import PROJECT_ROOT
from routing.policy import RoutingPolicy


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "bot" / "domain.yml")


def policy(tmp_path: Path, **config) -> RoutingPolicy:
    return RoutingPolicy(
        {**RoutingPolicy.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("routing"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user(text: str, intent: str = "order_status", frustration: float = 0.1, urgency: float = 0.0):
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        parse_data={
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "text": text,
            "emotion": {
                "sentiment": {"negative": frustration, "neutral": 1 - frustration, "positive": 0},
                "frustration": frustration,
                "urgency": urgency,
            },
        },
    )


def tracker(domain: Domain, *events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "someone", [ActionExecuted(ACTION_LISTEN_NAME), *events], domain.slots
    )


def predicted(prediction, domain: Domain) -> str | None:
    best = max(prediction.probabilities)
    return domain.action_names_or_texts[prediction.probabilities.index(best)] if best else None


def stored_decision(prediction) -> dict:
    return next(e.value for e in prediction.events if e.key == "routing_decision")


def test_asking_for_a_person_wins_over_the_rules(tmp_path: Path, domain: Domain) -> None:
    p = policy(tmp_path)
    prediction = p.predict_action_probabilities(
        tracker(domain, user("I want to talk to a human", "request_human")), domain
    )
    assert predicted(prediction, domain) == "action_contact_human"
    assert p.priority > 6  # above the RulePolicy
    assert stored_decision(prediction)["explanation"].startswith("asked for a person")


def test_a_calm_turn_stores_its_decision_and_leaves_the_answer_to_other_policies(
    tmp_path: Path, domain: Domain
) -> None:
    prediction = policy(tmp_path).predict_action_probabilities(
        tracker(domain, user("where is my order")), domain
    )
    assert predicted(prediction, domain) is None
    assert stored_decision(prediction)["action"] == "continue"


def test_elevated_distress_turns_the_tone_empathetic_and_keeps_it(
    tmp_path: Path, domain: Domain
) -> None:
    p = policy(tmp_path)
    first = [user("where is it", frustration=0.3), user("ugh", frustration=0.75)]
    prediction = p.predict_action_probabilities(tracker(domain, *first), domain)
    assert SlotSet("tone", "empathetic") in prediction.events
    calmer = user("ok thanks", "thanks", frustration=0.25)
    kept = p.predict_action_probabilities(
        tracker(domain, *first, SlotSet("tone", "empathetic"), calmer), domain
    )
    decision = stored_decision(kept)
    assert 0.35 <= decision["distress"] < 0.5
    assert decision["action"] == "empathize"  # hysteresis: below the entry, above release
    assert not any(e.key == "tone" for e in kept.events)
    fresh = p.predict_action_probabilities(tracker(domain, *first, calmer), domain)
    assert stored_decision(fresh)["action"] == "continue"  # never empathetic: stays calm


def test_while_a_person_holds_the_conversation_the_bot_only_relays(
    tmp_path: Path, domain: Domain
) -> None:
    p = policy(tmp_path)
    held = tracker(domain, SlotSet("handoff_status", "claimed"), user("hello?"))
    assert predicted(p.predict_action_probabilities(held, domain), domain) == (
        "action_relay_to_agent"
    )
    held.update(ActionExecuted("action_relay_to_agent"))
    assert predicted(p.predict_action_probabilities(held, domain), domain) == ACTION_LISTEN_NAME


def test_a_handed_back_conversation_starts_afresh(tmp_path: Path, domain: Domain) -> None:
    angry = [user(f"this is awful {i}", frustration=0.95) for i in range(4)]
    back = tracker(
        domain,
        *angry,
        SlotSet("handoff_status", "waiting"),
        SlotSet("handoff_status", "handed_back"),
        user("thanks, one more question about returns", "return_item", frustration=0.1),
    )
    prediction = policy(tmp_path).predict_action_probabilities(back, domain)
    assert stored_decision(prediction)["action"] == "continue"


def test_bad_thresholds_name_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"config\.yml"):
        policy(tmp_path, escalate_at=0.3, empathize_at=0.5)


def test_the_failed_answer_that_reaches_the_limit_hands_over_at_once(
    tmp_path: Path, domain: Domain
) -> None:
    events = []
    for question in ("do you run cooking classes", "any referral bonus", "wholesale prices?"):
        events += [
            user(question, "ask_faq"),
            ActionExecuted("action_answer_from_help_center"),
            SlotSet("kb_outcome", "miss"),
        ]
    p = policy(tmp_path)
    prediction = p.predict_action_probabilities(tracker(domain, *events), domain)
    assert predicted(prediction, domain) == "action_contact_human"
    assert stored_decision(prediction)["explanation"].startswith("3 failed answers")
    # Two misses are not yet the limit: the other policies carry on.
    two = events[:6]
    assert predicted(p.predict_action_probabilities(tracker(domain, *two), domain), domain) is None


def test_the_person_button_gets_the_plus_customers_priority(tmp_path: Path, domain: Domain) -> None:
    events = [SlotSet("customer_tier", "plus"), user("/request_human", "request_human")]
    prediction = policy(tmp_path).predict_action_probabilities(tracker(domain, *events), domain)
    assert predicted(prediction, domain) == "action_contact_human"
    assert stored_decision(prediction)["priority"] == "high"


def test_the_words_after_a_rating_are_its_comment(tmp_path: Path, domain: Domain) -> None:
    p = policy(tmp_path)
    rated = [
        user("where is my order"),
        ActionExecuted("action_ask_rating"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user('/rate_service{"csat_score": 4}', "rate_service"),
        ActionExecuted("action_record_csat"),
        SlotSet("csat_score", 4),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    comment = tracker(domain, *rated, user("the tracking link was great", "thanks"))
    prediction = p.predict_action_probabilities(comment, domain)
    assert predicted(prediction, domain) == "action_record_csat_comment"
    comment.update(ActionExecuted("action_record_csat_comment"))
    assert predicted(p.predict_action_probabilities(comment, domain), domain) == (
        ACTION_LISTEN_NAME
    )
    # A click ("No, thanks") is no comment; nor is a message after another turn.
    clicked = tracker(domain, *rated, user("/goodbye", "goodbye"))
    assert predicted(p.predict_action_probabilities(clicked, domain), domain) is None
    later = tracker(
        domain,
        *rated,
        user("nice", "thanks"),
        ActionExecuted("action_record_csat_comment"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user("where is my other order"),
    )
    assert predicted(p.predict_action_probabilities(later, domain), domain) is None
    # After "please pick 1 to 5" (no rating recorded), the next words are not a comment.
    reasked = [*rated[:4], ActionExecuted("action_record_csat"), ActionExecuted(ACTION_LISTEN_NAME)]
    typed = tracker(domain, *reasked, user("4 out of 5", "rate_service"))
    assert predicted(p.predict_action_probabilities(typed, domain), domain) is None
    # A new request after the rating is a request.
    question = tracker(domain, *rated, user("how do refunds work", "ask_faq"))
    assert predicted(p.predict_action_probabilities(question, domain), domain) is None
    # Feedback that sounds like asking for a person, said less surely, is the comment.
    feedback = user("the agent was nice but it took three tries to get anyone", "request_human")
    feedback.intent["confidence"] = 0.77
    unsure = tracker(domain, *rated, feedback)
    assert predicted(p.predict_action_probabilities(unsure, domain), domain) == (
        "action_record_csat_comment"
    )
    # Asking for a person after rating, surely, is a request, not a comment.
    person = tracker(domain, *rated, user("actually get me a human", "request_human"))
    assert predicted(p.predict_action_probabilities(person, domain), domain) == (
        "action_contact_human"
    )
