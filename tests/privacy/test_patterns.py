"""Formatted personal data is found and checked; what only looks like it stays."""

from __future__ import annotations

import pytest

from privacy.patterns import find_all, luhn, possible_phone
from privacy.redacted import resolve
from privacy.redactor import PRIORITY


def found(text: str) -> list[tuple[str, str]]:
    """What the patterns find, overlaps resolved as the redactor does."""
    return sorted((text[s.start : s.end], s.label) for s in resolve(find_all(text), PRIORITY))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at dana.whitfield@example.com!", [("dana.whitfield@example.com", "EMAIL")]),
        (
            "call +1 (555) 010-4477 or (415) 555-0132",
            [("(415) 555-0132", "PHONE"), ("+1 (555) 010-4477", "PHONE")],
        ),
        ("uk mobile 07700 900123", [("07700 900123", "PHONE")]),
        ("Berlin office +49 30 901820", [("+49 30 901820", "PHONE")]),
        ("mon numéro 06 12 34 56 78", [("06 12 34 56 78", "PHONE")]),
        ("card 4111 1111 1111 1111 exp 12/28", [("4111 1111 1111 1111", "CARD")]),
        ("2-series mastercard 2221-0000-0000-0009", [("2221-0000-0000-0009", "CARD")]),
        ("amex 3782 822463 10005", [("3782 822463 10005", "CARD")]),
        ("IBAN DE89 3704 0044 0532 0130 00 please", [("DE89 3704 0044 0532 0130 00", "IBAN")]),
        ("GB82WEST12345698765432", [("GB82WEST12345698765432", "IBAN")]),
        ("my ssn is 123-45-6789", [("123-45-6789", "NATIONAL_ID")]),
        ("NI number AB 12 34 56 C", [("AB 12 34 56 C", "NATIONAL_ID")]),
        (
            "from 203.0.113.42 and 2001:db8::8a2e:370:7334",
            [("2001:db8::8a2e:370:7334", "IP"), ("203.0.113.42", "IP")],
        ),
        ("I was born on 14/03/1987.", [("14/03/1987", "DOB")]),
        ("date of birth: March 3, 1979", [("March 3, 1979", "DOB")]),
    ],
)
def test_formatted_personal_data_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert [item for item in found(text) if item in expected] == expected
    assert all(
        label in {e[1] for e in expected} or (value, label) in expected
        for value, label in found(text)
    )


@pytest.mark.parametrize(
    "text",
    [
        "where is order 10234?",
        "ref BB-2024-118842, tracking 1Z999AA10123456784",
        "tracking 9400 1000 0000 0000 0000 00",
        "it said 2026-11-18 14:32:05, unix time 1764000000",
        "I paid $54.00, then €120,50 and £19.99",
        "the card ending in 4242",
        "gift card 1234 5678 9012 3456",  # fails the Luhn check
        "delivery was due 12/11/2026",  # a date, not a birthday
        "SKU CK-12, qty 3, version 2.4.1",
        "at 14:32 or 9:05",
        "order ref 123456789",  # nine digits without the word SSN: a reference
    ],
)
def test_what_only_looks_like_personal_data_stays(text: str) -> None:
    assert found(text) == []


def test_luhn_and_phone_checks() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    assert possible_phone("+44 7700 900123") and not possible_phone("+44 12")
