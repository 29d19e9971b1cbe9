"""`Span` and `Redacted`: what the detectors found, and the text with it replaced."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """Personal data at `text[start:end]`, of kind `label` (core.constants.PII_*)."""

    start: int
    end: int
    label: str

    def as_dict(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True)
class Redacted:
    """The redacted text, and the spans of the *original* text that were replaced."""

    text: str
    spans: tuple[Span, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.spans)


def placeholder(label: str) -> str:
    return f"[{label}]"


def replace(text: str, spans: Iterable[Span]) -> Redacted:
    """`text` with each span replaced by its placeholder; `spans` must not overlap."""
    ordered = tuple(sorted(spans))
    parts: list[str] = []
    position = 0
    for span in ordered:
        parts.append(text[position : span.start])
        parts.append(placeholder(span.label))
        position = span.end
    parts.append(text[position:])
    return Redacted("".join(parts), ordered)


def resolve(spans: Iterable[Span], priority: dict[str, int]) -> list[Span]:
    """Non-overlapping spans: of two that overlap, the higher-priority label wins, then
    the longer one."""
    chosen: list[Span] = []
    ranked = sorted(spans, key=lambda s: (priority.get(s.label, 99), -(s.end - s.start), s.start))
    for span in ranked:
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen)
