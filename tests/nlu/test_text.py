"""Normalising messages before scoring: artefacts go, what the customer said stays."""

from __future__ import annotations

import pytest

from nlu.text import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@user where is my order?", "where is my order?"),
        ("@BrightbasketHelp: @user still waiting", "still waiting"),
        ("see https://t.co/abc123 and www.example.com/page now", "see and now"),
        ("third delay this month #fail #NeverAgain", "third delay this month fail NeverAgain"),
        ("fish &amp; chips &lt;3", "fish & chips <3"),
        ("  lots \n\n of   space\t", "lots of space"),
    ],
)
def test_artefacts_are_removed(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "my email is dana.whitfield@example.com",
        "order 10234 is late",
        "I code in C# and F#",
        "WHY IS THIS SO HARD",
        "¿Dónde está mi pedido? 😡",
    ],
)
def test_what_the_customer_said_is_kept(kept: str) -> None:
    assert normalise(kept) == kept


def test_order_number_hash_keeps_the_number() -> None:
    assert normalise("order #10234 never came") == "order 10234 never came"


@pytest.mark.parametrize("empty", ["", "@user", "https://example.com", "   "])
def test_nothing_left_is_the_empty_string(empty: str) -> None:
    assert normalise(empty) == ""


def test_normalising_twice_changes_nothing() -> None:
    once = normalise("@user #late order, see https://x.co &amp; reply")
    assert normalise(once) == once
