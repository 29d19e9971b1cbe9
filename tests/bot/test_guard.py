from __future__ import annotations

import pytest

from bot.channels.guard import MAX_METADATA_DEPTH, MessageGuard


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


# --- Invisible characters (issue 12: they were stored as an empty user turn) ----------
INVISIBLE_ONLY = [
    "\u200b\u200c\u200d",  # zero-width space, non-joiner, joiner
    "\u2060\ufeff",  # word joiner, byte order mark
    "\x00\x00\x00",  # NUL
    "\x07\x1b\x7f",  # BEL, ESC, DEL
    "\ud800",  # a lone surrogate, as JSON's "\ud800" decodes
    " \u200b \n\t\u202e ",  # blanks around a bidi override
]


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_invisible_only_text_is_empty(guard: MessageGuard, text: str) -> None:
    rejection = guard.check_text(text)
    assert rejection is not None and rejection.code == "empty_message"
    assert rejection.status == 400 and "didn't receive any text" in rejection.reply


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("where is\x00 my order\x07?", "where is my order?"),
        ("\ufeffhi\u200b there\ud800", "hi there"),
        ("line one\nline two\tend\r", "line one\nline two\tend"),
        ("\u202eevil\u202c", "evil"),
        ("👩\u200d💻 help", "👩\u200d💻 help"),  # the joiner holds the emoji together
        ("\u200d hi \u200c", "hi"),  # joiners with nothing to join go
    ],
)
def test_clean_strips_invisible_characters_and_keeps_the_text(text: str, cleaned: str) -> None:
    assert MessageGuard.clean(text) == cleaned


@pytest.mark.parametrize("text", [42, 4.2, True, ["hi"], {"text": "hi"}])
def test_non_string_text_is_refused_politely(guard: MessageGuard, text) -> None:
    rejection = guard.check_text(text)
    assert rejection is not None and rejection.code == "invalid_message"
    assert "What can I help you with" in rejection.reply


def deep_dict(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_metadata_nested_too_deep_is_refused(guard: MessageGuard) -> None:
    assert guard.check_metadata(deep_dict(MAX_METADATA_DEPTH)) is None
    rejection = guard.check_metadata(deep_dict(MAX_METADATA_DEPTH + 1))
    assert rejection is not None and rejection.code == "invalid_metadata"
    assert str(MAX_METADATA_DEPTH) in rejection.message and rejection.reply


@pytest.mark.parametrize(
    "metadata",
    [{"customer_id": "\ud800"}, {"customer_id": "c1\x00"}, {"\udc00": 1}, {"a": ["\ud83d"]}],
)
def test_metadata_with_text_no_database_stores_is_refused(guard: MessageGuard, metadata) -> None:
    # A lone surrogate in customer_id crashed action_session_start on the SQL lookup.
    rejection = guard.check_metadata(metadata)
    assert rejection is not None and rejection.code == "invalid_metadata"
