from __future__ import annotations

import pytest

from bot.channels.guard import MessageGuard


@pytest.fixture
def guard() -> MessageGuard:
    return MessageGuard(max_chars=100)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_text_is_rejected_with_a_polite_reply(guard: MessageGuard, text) -> None:
    rejection = guard.check_text(text)
    assert rejection is not None and rejection.status == 400
    assert rejection.code == "empty_message"
    assert "What can I help you with" in rejection.reply


def test_too_long_text_names_the_size_and_the_limit(guard: MessageGuard) -> None:
    rejection = guard.check_text("x" * 20_000)
    assert rejection is not None and rejection.status == 413
    assert "20,000 characters" in rejection.message and "100" in rejection.message
    assert "20,000 characters" in rejection.reply


@pytest.mark.parametrize("text", ["hi", "😡😡😡", "¿dónde está mi pedido?", "x" * 100])
def test_ordinary_text_passes(guard: MessageGuard, text: str) -> None:
    assert guard.check_text(text) is None


@pytest.mark.parametrize("sender", [None, "", "  ", 42, "a" * 201, "bad\x00id"])
def test_invalid_senders_are_rejected(guard: MessageGuard, sender) -> None:
    rejection = guard.check_sender(sender)
    assert rejection is not None and rejection.status == 400


def test_metadata_must_be_an_object(guard: MessageGuard) -> None:
    assert guard.check_metadata(None) is None
    assert guard.check_metadata({"customer_id": "c1"}) is None
    assert guard.check_metadata("customer_id=c1").code == "invalid_metadata"


def test_clean_drops_control_characters_but_keeps_newlines() -> None:
    assert MessageGuard.clean("  hi\x00 there\nok\x07 ") == "hi there\nok"


def test_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "12")
    assert MessageGuard().max_chars == 12
