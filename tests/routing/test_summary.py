"""The extractive handoff summary, built from tracker events."""

from __future__ import annotations

from routing.summary import ConversationContext, ExtractiveSummarizer, HandoffSummary, Summarizer


def user(
    text: str,
    intent: str,
    frustration: float = 0.1,
    urgency: float = 0.05,
    entities: list[dict] | None = None,
) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent},
            "entities": entities or [],
            "emotion": {
                "sentiment": {"negative": frustration, "neutral": 1 - frustration, "positive": 0.0},
                "frustration": frustration,
                "urgency": urgency,
            },
        },
    }


EVENTS = [
    user("hi", "greet"),
    user(
        "where is my order 10234",
        "order_status",
        0.2,
        entities=[{"entity": "order_number", "value": "10234"}],
    ),
    {"event": "active_loop", "name": "order_lookup_form"},
    user(
        "dana.whitfield@example.com",
        "inform",
        0.1,
        entities=[{"entity": "email", "value": "dana.whitfield@example.com"}],
    ),
    {"event": "active_loop", "name": None},
    user("how long does a delivery trace take", "ask_faq", 0.4),
    {"event": "slot", "name": "kb_article_id", "value": "late-delivery"},
    {"event": "slot", "name": "kb_outcome", "value": "answered"},
    user("that doesn't answer my question", "not_helpful", 0.6),
    {"event": "slot", "name": "kb_outcome", "value": "not_helpful"},
    user("This is the THIRD time I'm asking, where is my order??", "order_status", 0.93),
    user("/request_human", "request_human"),
]
PROFILE = {"name": "Dana Whitfield", "tier": "plus", "contacts_7d": 3}


def summary() -> HandoffSummary:
    context = ConversationContext.from_events(EVENTS, {"order_number": "10234"}, PROFILE)
    return ExtractiveSummarizer().summarize(context, "frustration 0.86, rising over 3 turns")


def test_issue_names_the_request_the_order_and_the_repetition() -> None:
    s = summary()
    assert s.issue.startswith("Wants to know where an order is (order 10234).")
    assert "asked about it 2 times" in s.issue


def test_what_the_bot_tried_includes_forms_and_articles_with_outcomes() -> None:
    tried = summary().tried
    # In words, not intent and form names (an agent reads this).
    assert "understood: where an order is, a help-center question" in tried
    assert "order lookup completed" in tried
    assert "help center: late-delivery (shown, did not help)" in tried


def test_the_issue_is_the_request_that_led_to_the_handoff() -> None:
    """An earlier, settled request is not what the person takes over; the issue type the
    customer named says more than the intent."""
    events = [
        user("where is my order 10234", "order_status", 0.1),
        user(
            "someone just took money out of my account",
            "account_access",
            0.7,
            0.95,
            entities=[{"entity": "issue_type", "value": "unknown_charge"}],
        ),
    ]
    s = ExtractiveSummarizer().summarize(ConversationContext.from_events(events), "urgent")
    assert s.issue.startswith("A charge the customer does not recognise (possible fraud)")
    assert s.next_step.startswith("Verify identity")
    plain = [user("where is my order", "order_status"), user("I want a refund", "request_refund")]
    s = ExtractiveSummarizer().summarize(ConversationContext.from_events(plain), "asked")
    assert s.issue.startswith("Wants a refund")


def test_key_facts_and_profile() -> None:
    facts = summary().facts
    assert facts["orders"] == "10234"
    assert facts["emails"] == "dana.whitfield@example.com"
    assert facts["tier"] == "plus" and facts["contacts_7d"] == 3


def test_no_recent_contacts_is_not_shown_as_a_fact() -> None:
    context = ConversationContext.from_events([], profile={"tier": "standard", "contacts_7d": 0})
    facts = ExtractiveSummarizer().summarize(context, "asked for a person").facts
    assert facts == {"tier": "standard"}


def test_emotion_timeline_has_one_point_per_customer_turn() -> None:
    timeline = summary().emotion_timeline
    assert len(timeline) == 6  # the button payload is not a customer turn
    assert timeline[-1]["frustration"] == 0.93


def test_quotes_are_the_most_telling_customer_lines_in_order() -> None:
    quotes = summary().quotes
    assert 2 <= len(quotes) <= 3
    assert "This is the THIRD time I'm asking, where is my order??" in quotes
    assert "hi" not in quotes


def test_next_step_and_text_rendering() -> None:
    s = summary()
    assert "tracking" in s.next_step
    text = s.as_text()
    assert text.splitlines()[0] == f"Issue: {s.issue}"
    assert "Why a person: frustration 0.86, rising over 3 turns" in text


def test_empty_conversation_still_summarises() -> None:
    s = ExtractiveSummarizer().summarize(ConversationContext.from_events([]), "asked for a person")
    assert s.issue == "No message yet." and s.quotes == [] and s.emotion_timeline == []


def test_extractive_summarizer_satisfies_the_protocol() -> None:
    summarizer: Summarizer = ExtractiveSummarizer()
    assert isinstance(
        summarizer.summarize(ConversationContext.from_events(EVENTS), "x"), HandoffSummary
    )
