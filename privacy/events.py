"""`redact_event`: a Rasa tracker event (its wire format, as stored) without personal data.

- a user event: its text, the text in its parse data, and the values of entities that
  lie in (or hold) personal data;
- a bot event: its text (a reply may repeat an address or a name), and the text of an
  agent's message in its custom payload.

- a slot of the customer's own words (the rating's comment): its value redacted;
- a slot holding one kind of personal data (the e-mail to verify, the new address, the
  customer's name): its value replaced whole by that kind's placeholder.

Other slots, intents, scores and everything else are kept as they are.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from core.constants import CUSTOM_TEXT, EVENT_BOT, EVENT_SLOT, EVENT_USER
from privacy.redacted import Redacted, placeholder

Redact = Callable[[str], Redacted]


def redact_event(
    data: dict[str, Any],
    redact: Redact,
    free_text_slots: frozenset[str] = frozenset(),
    redact_reply: Redact | None = None,
    personal_slots: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A copy of the event with personal data replaced (the event itself is unchanged);
    `free_text_slots`: slots holding the customer's own words (a rating's comment), whose
    values are redacted too; `redact_reply`: for the bot's and agents' messages, where
    the same text comes back often (a cached `redact`), else `redact`; `personal_slots`:
    slot name -> the label of the personal data it holds, whose value is replaced whole
    by the label's placeholder."""
    kind = data.get("event")
    if kind == EVENT_USER:
        return _user(data, redact)
    if kind == EVENT_BOT:
        return _bot(data, redact_reply or redact)
    if kind == EVENT_SLOT and personal_slots and data.get("name") in personal_slots:
        if data.get("value") in (None, ""):
            return data
        return {**data, "value": placeholder(personal_slots[data["name"]])}
    if kind == EVENT_SLOT and data.get("name") in free_text_slots:
        value = data.get("value")
        if isinstance(value, str) and value:
            redacted = redact(value)
            if redacted.changed:
                return {**data, "value": redacted.text}
    return data


def _user(data: dict[str, Any], redact: Redact) -> dict[str, Any]:
    text = data.get("text")
    if not isinstance(text, str) or not text:
        return data
    redacted = redact(text)
    if not redacted.changed:
        return data
    event = copy.deepcopy(data)
    event["text"] = redacted.text
    parse = event.get("parse_data")
    if isinstance(parse, dict):
        if parse.get("text") == text:
            parse["text"] = redacted.text
        for entity in parse.get("entities") or []:
            if not isinstance(entity, dict):
                continue
            start, end = entity.get("start"), entity.get("end")
            covering = [
                s
                for s in redacted.spans
                if isinstance(start, int)
                and isinstance(end, int)
                and s.start < end
                and start < s.end
            ]
            if covering:
                entity["value"] = placeholder(covering[0].label)
            elif isinstance(entity.get("value"), str):
                entity["value"] = redact(entity["value"]).text
    return event


def _bot(data: dict[str, Any], redact: Redact) -> dict[str, Any]:
    event = data
    text = data.get("text")
    if isinstance(text, str) and text:
        redacted = redact(text)
        if redacted.changed:
            event = copy.deepcopy(data)
            event["text"] = redacted.text
    custom = (
        ((event.get("data") or {}).get("custom") or {})
        if isinstance(event.get("data"), dict)
        else {}
    )
    inner = custom.get("data", custom) if isinstance(custom, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get(CUSTOM_TEXT), str):
        redacted = redact(inner[CUSTOM_TEXT])
        if redacted.changed:
            if event is data:
                event = copy.deepcopy(data)
                custom = event["data"]["custom"]
                inner = custom.get("data", custom)
            inner[CUSTOM_TEXT] = redacted.text
    return event
