"""One typed reading of a Rasa tracker's events: what every consumer of a conversation needs.

The conversation's distress (`nlu.distress`), the routing policy, the handoff summary
(`routing.summary`), the transcript agents read, the empathetic tone of the actions and
the CX leads' reports all read the same events. They read them here, once, so that a
user turn's emotion scores, its failure and the help-center outcomes mean the same thing
everywhere:

    >>> conversation = Conversation.from_events(tracker_events)   # dicts, as stored
    >>> [t.text for t in conversation.said]          # what the customer typed
    >>> conversation.transcript()                    # customer, bot and agent messages
    >>> conversation.current                         # turns since the session started
    ...                                              # or a person handed it back

A customer turn is `failed` when the bot did not understand it or could not help: its
intent is a fallback or "that didn't help", the fallback action ran after it, the help
center had no confident answer (`kb_outcome` = `miss`), or the answer was rejected or
the question asked again (`kb_outcome` = `not_helpful`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core.constants import (
    ACTION_DEFAULT_FALLBACK,
    CHANNEL_LABEL_SMS,
    CHANNEL_LABEL_WHATSAPP,
    CHANNEL_TWILIO,
    CUSTOM_AGENT_NAME,
    CUSTOM_TEXT,
    EMOTION,
    ENTITY_ISSUE_TYPE,
    EVENT_ACTION,
    EVENT_ACTIVE_LOOP,
    EVENT_BOT,
    EVENT_SESSION_STARTED,
    EVENT_SLOT,
    EVENT_USER,
    INTENT_NLU_FALLBACK,
    INTENT_NOT_HELPFUL,
    KB_MISS,
    KB_NOT_HELPFUL,
    PARSE_ENTITIES,
    PARSE_INTENT,
    SENDER_AGENT,
    SENDER_BOT,
    SENDER_CUSTOMER,
    SILENT_STATUSES,
    SLOT_HANDOFF_STATUS,
    SLOT_KB_ARTICLE,
    SLOT_KB_OUTCOME,
    WHATSAPP_SENDER_PREFIX,
)
from core.emotion import EmotionScores

FAILED_ACTIONS = frozenset({ACTION_DEFAULT_FALLBACK})
FAILED_INTENTS = frozenset({INTENT_NOT_HELPFUL, INTENT_NLU_FALLBACK})
NO_ARTICLE = "(no article found)"  # the article of a help-center miss


@dataclass(frozen=True)
class Turn:
    """One customer message, typed or clicked, and what happened to it."""

    text: str
    emotion: EmotionScores = field(default_factory=EmotionScores.neutral)
    intent: str | None = None
    entities: tuple[tuple[str, str], ...] = ()  # (entity, value) in the order found
    failed: bool = False  # the bot did not understand it or did not help
    timestamp: float | None = None
    replies: int = 0  # bot messages that followed it
    slots_set: tuple[str, ...] = ()  # slots set after it, before the next turn
    label: bool = False  # the typed text is the title of a button the bot just showed

    @classmethod
    def scored(
        cls,
        text: str,
        frustration: float = 0.0,
        urgency: float = 0.0,
        negative: float = 0.0,
        **fields: Any,
    ) -> Turn:
        """A turn with the given scores (tests, benchmarks, replays)."""
        negative = min(1.0, max(0.0, negative))
        emotion = EmotionScores(
            {"negative": negative, "neutral": 1.0 - negative, "positive": 0.0},
            frustration,
            urgency,
        )
        return cls(text, emotion, **fields)

    @property
    def button(self) -> bool:
        """A button: clicked (its payload, "/intent") or its title typed ("Yes, cancel
        it"). Either way a choice the bot offered, not words that carry emotion."""
        return self.label or self.text.startswith("/")

    @property
    def frustration(self) -> float:
        return self.emotion.frustration

    @property
    def urgency(self) -> float:
        return self.emotion.urgency

    @property
    def negative(self) -> float:
        return self.emotion.negative

    @property
    def issue(self) -> str | None:
        """The issue_type entity, e.g. "charged_twice" or "hacked"."""
        return next((value for name, value in self.entities if name == ENTITY_ISSUE_TYPE), None)


@dataclass(frozen=True)
class Message:
    """One line of the transcript a person reads."""

    sender: str  # customer, bot or agent
    text: str
    timestamp: float | None = None
    agent_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sender": self.sender, "text": self.text}
        data["timestamp"] = self.timestamp
        if self.agent_name:
            data["agent_name"] = self.agent_name
        return data


@dataclass(frozen=True)
class Conversation:
    """A tracker's events, read once (see the module docstring)."""

    turns: tuple[Turn, ...]  # every customer message, typed or clicked, in order
    messages: tuple[Message, ...]  # the transcript: typed customer text, bot and agent
    forms: tuple[tuple[str, bool], ...]  # (form name, finished) in the order they ran
    articles: tuple[tuple[str, str], ...]  # (help-center article id, outcome)
    current_from: int = 0  # index of the first turn since the session (re)started

    @property
    def said(self) -> list[Turn]:
        """The turns the customer typed (button payloads left out)."""
        return [t for t in self.turns if not t.button]

    @property
    def current(self) -> list[Turn]:
        """Typed turns of the current session since the last handoff ended: a handed-back
        conversation starts afresh, and what a person already dealt with does not count."""
        return [t for t in self.turns[self.current_from :] if not t.button]

    @property
    def last(self) -> Turn | None:
        """The latest customer turn, typed or clicked."""
        return self.turns[-1] if self.turns else None

    @property
    def intents(self) -> list[str | None]:
        """The intent of every turn, typed or clicked."""
        return [t.intent for t in self.turns]

    def entities(self) -> dict[str, list[str]]:
        """Each entity's distinct values, in the order the customer gave them."""
        found: dict[str, list[str]] = {}
        for turn in self.turns:
            for name, value in turn.entities:
                values = found.setdefault(name, [])
                if value not in values:
                    values.append(value)
        return found

    def transcript(self) -> list[dict[str, Any]]:
        """The messages as `{"sender", "text", "timestamp"[, "agent_name"]}` dicts."""
        return [m.as_dict() for m in self.messages]

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> Conversation:
        """Read a tracker's events (dicts in Rasa's wire format, as the tracker store and
        the action server hold them)."""
        reader = _Reader()
        for event in events:
            reader.read(event)
        return Conversation(
            turns=tuple(reader.turns),
            messages=tuple(reader.messages),
            forms=tuple(reader.forms),
            articles=tuple(reader.articles),
            current_from=reader.current_from,
        )


class _Reader:
    """The state of one pass over the events."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.messages: list[Message] = []
        self.forms: list[tuple[str, bool]] = []
        self.articles: list[tuple[str, str]] = []
        self.article: str | None = None  # the article shown last
        self.titles: set[str] = set()  # button titles shown since the last customer turn
        self.current_from = 0

    def read(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        if kind == EVENT_USER:
            self._user(event)
        elif kind == EVENT_BOT:
            self._bot(event)
        elif kind == EVENT_SLOT:
            self._slot(event.get("name"), event.get("value"))
        elif kind == EVENT_ACTION and event.get("name") in FAILED_ACTIONS:
            self._update_last(failed=True)
        elif kind == EVENT_ACTIVE_LOOP:
            name = event.get("name")
            if name:
                self.forms.append((str(name), False))
            elif self.forms:
                self.forms[-1] = (self.forms[-1][0], True)
        elif kind == EVENT_SESSION_STARTED:
            self.current_from = len(self.turns)

    def _user(self, event: Mapping[str, Any]) -> None:
        parse = event.get("parse_data") or {}
        intent = (parse.get(PARSE_INTENT) or {}).get("name")
        text = str(event.get("text") or "")
        turn = Turn(
            text=text,
            emotion=EmotionScores.from_stored(parse.get(EMOTION)),
            intent=intent,
            entities=tuple(
                (str(e.get("entity", "")), str(e.get("value")))
                for e in parse.get(PARSE_ENTITIES) or []
                if isinstance(e, Mapping)
            ),
            failed=intent in FAILED_INTENTS,
            timestamp=event.get("timestamp"),
            label=_folded(text) in self.titles,
        )
        self.titles = set()
        self.turns.append(turn)
        if not text.startswith("/"):  # a clicked button's title was shown as the bot's
            self.messages.append(Message(SENDER_CUSTOMER, text, turn.timestamp))

    def _bot(self, event: Mapping[str, Any]) -> None:
        self._update_last(replies=self.turns[-1].replies + 1 if self.turns else 0)
        data = event.get("data") or {}
        for button in data.get("buttons") or []:
            if isinstance(button, Mapping) and button.get("title"):
                self.titles.add(_folded(str(button["title"])))
        custom = data.get("custom") or {}
        if isinstance(custom, Mapping) and isinstance(custom.get("data"), Mapping):
            custom = custom["data"]  # socket.io payloads are wrapped in "data"
        if not isinstance(custom, Mapping):
            custom = {}
        agent = custom.get(CUSTOM_AGENT_NAME)
        text = event.get("text") or custom.get(CUSTOM_TEXT)
        if text:
            sender = SENDER_AGENT if agent else SENDER_BOT
            self.messages.append(
                Message(sender, str(text), event.get("timestamp"), str(agent) if agent else None)
            )

    def _slot(self, name: Any, value: Any) -> None:
        if self.turns:
            self._update_last(slots_set=(*self.turns[-1].slots_set, str(name)))
        if name == SLOT_HANDOFF_STATUS and value not in SILENT_STATUSES:
            self.current_from = len(self.turns)
        elif name == SLOT_KB_ARTICLE and value:
            self.article = str(value)
        elif name == SLOT_KB_OUTCOME and value:
            outcome = str(value)
            if outcome == KB_MISS:
                self.articles.append((NO_ARTICLE, KB_MISS))
                self._update_last(failed=True)
            elif outcome == KB_NOT_HELPFUL:
                self._update_last(failed=True)  # rejected, or the question asked again
                if self.articles and self.articles[-1][0] == self.article:
                    self.articles[-1] = (self.article, KB_NOT_HELPFUL)
                elif self.article is not None:
                    self.articles.append((self.article, KB_NOT_HELPFUL))
            elif self.article is not None:
                self.articles.append((self.article, outcome))

    def _update_last(self, **changes: Any) -> None:
        if self.turns:
            self.turns[-1] = replace(self.turns[-1], **changes)


def _folded(text: str) -> str:
    """`text` compared loosely: case, spacing and punctuation ignored."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def channel_label(input_channel: str | None, sender_id: str) -> str:
    """The channel a conversation is on, for people: Rasa's input channel name, except
    that Twilio's conversations are SMS or WhatsApp by their sender id."""
    if input_channel == CHANNEL_TWILIO:
        if sender_id.startswith(WHATSAPP_SENDER_PREFIX):
            return CHANNEL_LABEL_WHATSAPP
        return CHANNEL_LABEL_SMS
    return input_channel or "rest"
