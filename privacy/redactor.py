"""`Redactor`: every kind of personal data in a text, replaced by a typed placeholder.

    >>> redact("I'm Dana Whitfield, card 4111 1111 1111 1111, call +1 415 555 0132")
    Redacted(text="I'm [PERSON], card [CARD], call [PHONE]", spans=(...))

Formatted data (e-mail, phone, card, IBAN, national id, IP address, date of birth) is
found by `privacy.patterns`; names and street addresses by the project's own small
spaCy model (`privacy.ner`, trained by `make train-privacy` on data/privacy/). Where two
findings overlap, the more specific kind wins (a card over the phone number its digits
also resemble), then the longer one. Order numbers, product names and amounts are not
personal data and stay.

The model loads once per process, on the first text with letters in it; `redact` is
thread-safe (spaCy's `nlp` may be called from several threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.constants import (
    PII_ADDRESS,
    PII_CARD,
    PII_DOB,
    PII_EMAIL,
    PII_IBAN,
    PII_IP,
    PII_NATIONAL_ID,
    PII_PERSON,
    PII_PHONE,
)
from privacy.ner import MODEL_DIR, NameAndAddressModel
from privacy.patterns import find_all
from privacy.redacted import Redacted, Span, replace, resolve

# Of two overlapping findings, the kind listed first wins.
PRIORITY = {
    label: rank
    for rank, label in enumerate(
        (
            PII_EMAIL,
            PII_CARD,
            PII_IBAN,
            PII_NATIONAL_ID,
            PII_IP,
            PII_DOB,
            PII_PHONE,
            PII_ADDRESS,
            PII_PERSON,
        )
    )
}


class Redactor:
    """Finds and replaces personal data. Cheap to construct; the model loads on first use."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.model = NameAndAddressModel(model_dir)

    def spans(self, text: str, model: bool = True) -> list[Span]:
        """The personal data in `text`, as non-overlapping spans in text order; with
        `model=False`, the formatted kinds only (no names, fewer addresses)."""
        found = find_all(text)
        if model and any(ch.isalpha() for ch in text):
            found += self.model.spans(text)
        return resolve(found, PRIORITY)

    def redact(self, text: str, model: bool = True) -> Redacted:
        if not text:
            return Redacted(text)
        return replace(text, self.spans(text, model))


_shared: Redactor | None = None
_lock = threading.Lock()


def shared_redactor() -> Redactor:
    """This process's redactor (one model in memory)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Redactor()
        return _shared


def redact(text: str) -> Redacted:
    """`text` with its personal data replaced by "[EMAIL]", "[PHONE]", "[PERSON]", …"""
    return shared_redactor().redact(text)


def redact_text(text: str) -> str:
    """`redact(text).text`."""
    return redact(text).text


def redact_formatted(text: str) -> str:
    """`text` with its formatted personal data (e-mail, phone, card, IBAN, national id,
    IP, date of birth, street address by pattern) replaced: for text the service wrote
    itself, where a name is the verified customer's own and the model's guesses would
    only cost the agent words."""
    return shared_redactor().redact(text, model=False).text


def redact_json(value: Any, redactor: Callable[[str], str] = redact_text) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string redacted; keys and
    other values as they are."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {k: redact_json(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, redactor) for v in value]
    return value
