"""What the internal API accepts: `HandoffRequest` and `CustomerMessage` bodies, checked.

The action server is the only intended caller of `/internal/handoffs`, but a body that
reaches the queue unchecked fails late and far away: a `summary` that is a list stored
fine and then broke every queue snapshot (`summary.get`), a `customer_key` over 200
characters failed PostgreSQL's insert (a 500), a NUL character in any text too, and a
`timestamp` of "soon" raised `ValueError` in the handler. Every field's type and length
is checked here, before anything is stored, and a bad one is answered with a 400 that
names the field.
"""

from __future__ import annotations

import math
from typing import Any

from routing.decision import PRIORITIES
from routing.handoff import CustomerMessage, HandoffRequest

# Column widths of routing.queue's handoffs table, and limits for the free texts.
TEXT_LIMITS = {
    "conversation_id": 200,
    "channel": 40,
    "queue": 40,
    "customer_key": 200,
    "customer_name": 200,
    "customer_email": 320,
    "reason": 2_000,
    "summary_text": 20_000,
}
OPTIONAL = ("customer_key", "customer_name", "customer_email")
REQUIRED = (
    *(name for name in TEXT_LIMITS if name not in OPTIONAL),
    *("priority", "distress", "wait_target_seconds", "summary"),
)
SUMMARY_STRINGS = ("issue", "reason", "next_step")
SUMMARY_STRING_LISTS = ("tried", "quotes")
MAX_SUMMARY_STRING = 4_000
MAX_TRANSCRIPT_ENTRIES = 5_000
MAX_TRANSCRIPT_TEXT = 100_000  # several customer messages merged into one turn
MAX_RELAY_TEXT = 100_000
MAX_WAIT_TARGET_SECONDS = 7 * 24 * 3600
MAX_EMOTION_KEYS = 20


class PayloadError(ValueError):
    """A body field of the wrong type or size; `code` and the message go to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(field: str, expected: str, value: Any) -> PayloadError:
    return PayloadError("invalid_handoff", f"`{field}` must be {expected}, got {_seen(value)}.")


def _seen(value: Any) -> str:
    if isinstance(value, str):
        return f"a string of {len(value):,} characters"
    return type(value).__name__ if value is not None else "null"


def _text(field: str, value: Any, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise _invalid(field, f"a non-empty string of at most {limit:,} characters", value)
    if len(value) > limit:
        raise _invalid(field, f"at most {limit:,} characters", value)
    if "\x00" in value:
        raise PayloadError("invalid_handoff", f"`{field}` holds a NUL character.")
    return value


def _number(field: str, value: Any, low: float, high: float) -> float:
    # bool is an int in Python, and NaN passes every comparison: refuse both.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(field, f"a number from {low:g} to {high:g}", value)
    if not low <= value <= high:
        raise _invalid(field, f"a number from {low:g} to {high:g}", value)
    return float(value)


def _summary(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid("summary", "an object (HandoffSummary.as_dict())", value)
    for key in SUMMARY_STRINGS:
        if key in value:
            _text(f"summary.{key}", value[key], MAX_SUMMARY_STRING, required=False)
    for key in SUMMARY_STRING_LISTS:
        items = value.get(key, [])
        if not isinstance(items, list):
            raise _invalid(f"summary.{key}", "a list of strings", items)
        for item in items:
            _text(f"summary.{key}[]", item, MAX_SUMMARY_STRING, required=False)
    if not isinstance(value.get("facts", {}), dict):
        raise _invalid("summary.facts", "an object", value.get("facts"))
    timeline = value.get("emotion_timeline", [])
    if not isinstance(timeline, list) or not all(isinstance(t, dict) for t in timeline):
        raise _invalid("summary.emotion_timeline", "a list of objects", timeline)
    return value


def _transcript(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise _invalid("transcript", "a list of message objects", value)
    if len(value) > MAX_TRANSCRIPT_ENTRIES:
        raise _invalid("transcript", f"at most {MAX_TRANSCRIPT_ENTRIES:,} messages", value)
    for message in value:
        for key in ("sender", "text", "agent_name"):
            if message.get(key) is not None:
                _text(f"transcript[].{key}", message[key], MAX_TRANSCRIPT_TEXT, required=False)
    return value


def handoff_request(body: dict[str, Any]) -> HandoffRequest:
    """The `HandoffRequest` in `body`, every field checked; `PayloadError` otherwise."""
    missing = sorted(name for name in REQUIRED if name not in body)
    if missing:
        raise PayloadError("invalid_handoff", f"Handoff request is missing {', '.join(missing)}.")
    fields: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        value = body.get(name)
        if name in OPTIONAL and value is None:
            fields[name] = None
            continue
        fields[name] = _text(name, value, limit, required=name not in ("reason", "summary_text"))
    if body["priority"] not in PRIORITIES:
        raise PayloadError(
            "invalid_handoff",
            f"Unknown priority {body['priority']!r}; use one of {', '.join(PRIORITIES)}.",
        )
    wait = _number("wait_target_seconds", body["wait_target_seconds"], 1, MAX_WAIT_TARGET_SECONDS)
    return HandoffRequest(
        **fields,
        priority=body["priority"],
        distress=_number("distress", body["distress"], 0.0, 1.0),
        wait_target_seconds=int(wait),
        summary=_summary(body["summary"]),
        transcript=_transcript(body.get("transcript", [])),
    )


def customer_message(body: dict[str, Any], now: float) -> CustomerMessage:
    """The relayed `CustomerMessage` in `body` (`now` when it has no timestamp)."""
    text = body.get("text")
    if not isinstance(text, str):
        raise PayloadError("missing_text", 'Send {"text": ..., "timestamp": ...}.')
    if len(text) > MAX_RELAY_TEXT or "\x00" in text:
        raise PayloadError(
            "invalid_text", f"`text` must be at most {MAX_RELAY_TEXT:,} characters, without NUL."
        )
    stamp = body.get("timestamp")
    timestamp = now if stamp in (None, 0) else _number("timestamp", stamp, 0, 1e11)
    emotion = body.get("emotion") or {}
    if not isinstance(emotion, dict) or len(emotion) > MAX_EMOTION_KEYS:
        raise _invalid("emotion", f"an object of at most {MAX_EMOTION_KEYS} scores", emotion)
    for key, score in emotion.items():
        inner = score if isinstance(score, dict) else {key: score}
        if len(key) > 40 or len(inner) > MAX_EMOTION_KEYS:
            raise _invalid(f"emotion.{key[:40]}", "a score or an object of scores", score)
        for name, value in inner.items():
            _number(f"emotion.{name[:40]}", value, -1e6, 1e6)
    return CustomerMessage(text, timestamp, emotion)
