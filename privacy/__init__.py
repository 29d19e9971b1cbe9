"""Privacy by design: personal data found and replaced before anything is stored.

    >>> from privacy import redact
    >>> redact("card 4111 1111 1111 1111, call me on +44 7700 900123").text
    'card [CARD], call me on [PHONE]'

`redact(text) -> Redacted(text, spans)`: `privacy.redactor`. What is redacted where
(tracker store, handoff queue, logs, …) is in the README's "Privacy" section.
"""

from privacy.redacted import Redacted, Span
from privacy.redactor import Redactor, redact, redact_formatted, redact_json, redact_text

__all__ = [
    "Redacted",
    "Redactor",
    "Span",
    "redact",
    "redact_formatted",
    "redact_json",
    "redact_text",
]
