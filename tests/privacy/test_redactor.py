"""`privacy.redact`: every kind replaced by its placeholder; business data stays."""

from __future__ import annotations

import logging

import pytest

from privacy import redact, redact_json
from privacy.events import redact_event
from privacy.log_records import install, uninstall


def test_a_message_full_of_personal_data_keeps_only_what_is_not() -> None:
    text = (
        "Hi, I'm Dana Whitfield. Order 10234 ($54.00, the 12-inch cast-iron skillet) should "
        "go to 27 Orchard Street, Apt 2R, New York, NY 10002. Card 4111 1111 1111 1111, "
        "call +1 (415) 555-0132 or mail dana.whitfield@example.com."
    )
    redacted = redact(text)
    assert redacted.text == (
        "Hi, I'm [PERSON]. Order 10234 ($54.00, the 12-inch cast-iron skillet) should "
        "go to [ADDRESS]. Card [CARD], call [PHONE] or mail [EMAIL]."
    )
    assert [s.label for s in redacted.spans] == ["PERSON", "ADDRESS", "CARD", "PHONE", "EMAIL"]
    assert all(text[s.start : s.end] for s in redacted.spans)


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact("my name is Priya Natarajan, ssn 123-45-6789").text
    assert redact(once).text == once
    assert "[PERSON]" in once and "[NATIONAL_ID]" in once


def test_a_message_without_personal_data_is_untouched() -> None:
    text = "where is order 10234? tracking 1Z999AA10123456784, it's 3 days late"
    assert redact(text).text == text and not redact(text).changed


def test_nested_values_are_redacted_keys_are_not() -> None:
    summary = {"issue": "late order", "facts": [{"Email": "x.y@example.org"}], "n": 3}
    assert redact_json(summary) == {"issue": "late order", "facts": [{"Email": "[EMAIL]"}], "n": 3}


def test_a_user_event_loses_the_text_and_the_entity_values_not_the_intent() -> None:
    text = "my email is dana.whitfield@example.com"
    event = {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": "give_email", "confidence": 0.9},
            "entities": [{"entity": "email", "start": 12, "end": 38, "value": text[12:]}],
        },
    }
    stored = redact_event(event, redact)
    assert stored["text"] == stored["parse_data"]["text"] == "my email is [EMAIL]"
    assert stored["parse_data"]["entities"][0]["value"] == "[EMAIL]"
    assert stored["parse_data"]["intent"]["name"] == "give_email"
    assert event["text"] == text  # the event in memory is unchanged


def test_an_agents_message_and_a_rating_comment_are_redacted() -> None:
    agent = {
        "event": "bot",
        "text": None,
        "data": {"custom": {"data": {"sender": "agent", "text": "I'll call +44 7700 900123"}}},
    }
    assert redact_event(agent, redact)["data"]["custom"]["data"]["text"] == "I'll call [PHONE]"
    comment = {
        "event": "slot",
        "name": "csat_comment",
        "value": "Cara Lindqvist at 07700 900456 was great",
    }
    assert redact_event(comment, redact, frozenset({"csat_comment"}))["value"] == (
        "[PERSON] at [PHONE] was great"
    )
    other = {"event": "slot", "name": "email", "value": "x@example.com"}
    assert redact_event(other, redact, frozenset({"csat_comment"})) == other


def test_log_records_are_redacted_when_made(caplog) -> None:
    install()
    try:
        log_with_personal_data(caplog)
    finally:
        uninstall()
    text = caplog.text
    assert "4111" not in text and "5500 0000" not in text and "x@example.com" not in text
    assert "customer wrote card [CARD]" in text and "[EMAIL]" in text


def log_with_personal_data(caplog) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("tests.privacy").info("customer wrote %s", "card 4111 1111 1111 1111")
        try:
            raise ValueError("bad card 5500 0000 0000 0004")
        except ValueError:
            logging.getLogger("tests.privacy").exception("failed for x@example.com")


@pytest.mark.parametrize(
    "text",
    ["I am unhappy", "I am frustrated and angry", "HUMAN", "i need a real person", "thanks, bye"],
)
def test_feelings_and_asking_for_a_person_are_not_names(text: str) -> None:
    assert redact(text).text == text
