"""`ConversationFacts`: one row per conversation, kept up to date from tracker events.

A conversation is one Rasa session of one sender (`session_started` begins the next
one). `FactsStore.apply(events)` takes the events as Rasa's event broker publishes them
(`{"sender_id": …, "event": "user", …}`), in order, and updates each conversation's row
in one transaction: nothing here reads a tracker. The same code serves the embedded
broker and RabbitMQ (`insights.consumer`).

What a row holds, and where it comes from:

| facts | events |
|---|---|
| channel, turns, intents, the customer's words | `user` (its input channel, intent, text) |
| emotion peak, mean, trajectory | `user` parse data: the scores in context, else alone |
| help-center answers and misses | slot `kb_outcome` |
| routing decisions and reasons, distress | slot `routing_decision` (each that is not "continue") |
| escalated, queue, priority, target | slot `routing_decision` (escalate) and `handoff_status` |
| time to claim, agent, first reply, handling time | slot `handoff_status`, the agent's messages |
| CSAT and comment | slots `csat_score`, `csat_comment`; the rating question's buttons |
| repeat contact within 7 days | the same pseudonymous customer starting another conversation |

Outcome (stored as it would be if the conversation ended now; `ended` in the queries
says whether it has): **person** when an agent resolved it; **abandoned** when it is
still waiting for or held by a person, or the bot's last answer failed (a fallback, a
help-center miss, "that didn't help"); **bot** otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.constants import (
    ACTION_DEFAULT_FALLBACK,
    ACTION_SESSION_START,
    CSAT_SCORES,
    CUSTOM_AGENT_NAME,
    CUSTOM_HANDOFF_AGENT,
    CUSTOM_HANDOFF_STATUS,
    CUSTOM_QUEUE,
    CUSTOM_SENDER,
    EMOTION,
    EMOTION_IN_CONTEXT,
    EVENT_ACTION,
    EVENT_BOT,
    EVENT_SESSION_STARTED,
    EVENT_SLOT,
    EVENT_USER,
    HANDOFF_CLAIMED,
    HANDOFF_HANDED_BACK,
    HANDOFF_RESOLVED,
    HANDOFF_WAITING,
    INTENT_GOODBYE,
    INTENT_NLU_FALLBACK,
    INTENT_NOT_HELPFUL,
    INTENT_RATE,
    KB_ANSWERED,
    KB_MISS,
    KB_NOT_HELPFUL,
    OUTCOME_ABANDONED,
    OUTCOME_BOT,
    OUTCOME_PERSON,
    PROVEN_IDENTITY,
    REPEAT_CONTACT_SECONDS,
    SENDER_AGENT,
    SLOT_CSAT_COMMENT,
    SLOT_CSAT_SCORE,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_KEY,
    SLOT_HANDOFF_STATUS,
    SLOT_KB_OUTCOME,
    SLOT_ROUTING_DECISION,
    SLOT_VERIFIED_BY,
    SMALL_TALK_INTENTS,
)
from core.conversation import channel_label
from core.database import Database
from core.emotion import EmotionScores
from insights.schema import consumed_events, facts, metadata

TRANSIENT = ("last_text", "customer_changed", "first_turn", "customer_id", "proven")  # not stored
SESSION_METADATA_SLOT = "session_started_metadata"
MAX_TRAJECTORY = 200  # points kept of a conversation's emotion (the first ones)
MAX_DECISIONS = 50
MAX_MISSED = 5
MAX_CUSTOMER_TEXT = 16_000
MAX_REASON = 400
ESCALATE = "escalate"
CONTINUE = "continue"
PAYLOAD_PREFIX = "/"


def pseudonym(key: bytes, customer: str) -> str:
    """A stable pseudonym for a customer key: the same customer always gets the same one,
    and it cannot be turned back into the key without the secret."""
    return hmac.new(key, customer.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def reason_kind(reason: str) -> str:
    """A routing reason without its numbers: "frustration 0.91" → "frustration",
    "2 failed answers" → "failed answers"."""
    reason = re.sub(r"\([^)]*\)", " ", reason)  # "urgent request (urgency 0.93)"
    words = re.sub(r"\d+(\.\d+)?", " ", reason).split()
    return " ".join(w for w in words if w not in {"over", "turns"} or len(words) == 1)[:80]


@dataclass
class ConversationFacts:
    """One conversation's row (`insights.schema.facts`), as Python values."""

    sender_id: str
    session: int
    started_at: float
    channel: str = ""
    customer: str | None = None
    last_event_at: float = 0.0
    closed_at: float | None = None
    turns: int = 0
    first_intent: str | None = None
    intents: dict[str, int] = field(default_factory=dict)
    kb_answered: int = 0
    kb_missed: int = 0
    missed_questions: list[str] = field(default_factory=list)
    frustration_peak: float = 0.0
    frustration_sum: float = 0.0
    urgency_peak: float = 0.0
    distress_max: float = 0.0
    trajectory: list[list[float]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    escalated: bool = False
    escalation_reason: str | None = None
    queue: str | None = None
    priority: str | None = None
    wait_target_seconds: int | None = None
    handoff_at: float | None = None
    claimed_at: float | None = None
    seconds_to_claim: float | None = None
    agent: str | None = None
    first_agent_reply_at: float | None = None
    seconds_to_first_reply: float | None = None
    handoff_closed_at: float | None = None
    handling_seconds: float | None = None
    handoff_status: str | None = None
    last_turn_failed: bool = False
    outcome: str = OUTCOME_BOT
    repeat_contact: bool = False
    csat_asked: bool = False
    csat: int | None = None
    csat_comment: str | None = None
    customer_text: str = ""
    id: int | None = None
    # Not stored: the last customer text (a miss's question), whether the row changed.
    last_text: str = field(default="", repr=False)
    customer_changed: bool = field(default=False, repr=False)
    first_turn: bool = field(default=False, repr=False)
    customer_id: str | None = field(default=None, repr=False)  # the slot, proven or not
    proven: bool = field(default=False, repr=False)  # verified_by is in PROVEN_IDENTITY

    JSON = ("intents", "missed_questions", "trajectory", "decisions")

    @property
    def frustration_mean(self) -> float:
        """Over the typed turns (the first `MAX_TRAJECTORY`)."""
        return self.frustration_sum / len(self.trajectory) if self.trajectory else 0.0

    def row(self) -> dict[str, Any]:
        values = {}
        for f in fields(self):
            if f.name in ("id", *TRANSIENT):
                continue
            value = getattr(self, f.name)
            values[f.name] = (
                json.dumps(value, separators=(",", ":")) if f.name in self.JSON else value
            )
        return values

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ConversationFacts:
        names = {f.name for f in fields(cls)} - set(TRANSIENT)
        values = {k: row[k] for k in names if k in row}
        for name in cls.JSON:
            values[name] = (
                json.loads(values[name]) if values.get(name) else ([] if name != "intents" else {})
            )
        return cls(**values)

    # --- events ----------------------------------------------------------------------
    def apply(self, event: Mapping[str, Any], key: bytes) -> None:
        """Update the facts with one event of this conversation."""
        kind = event.get("event")
        if kind == EVENT_SLOT and event.get("name") == SESSION_METADATA_SLOT:
            return  # Rasa sets it just before the next session starts: not this one's
        ts = _number(event.get("timestamp")) or self.last_event_at
        self.last_event_at = max(self.last_event_at, ts)
        if kind == EVENT_USER:
            self._user(event, ts)
        elif kind == EVENT_SLOT:
            self._slot(str(event.get("name") or ""), event.get("value"), ts, key)
        elif kind == EVENT_BOT:
            self._bot(event, ts)
        elif kind == EVENT_ACTION and event.get("name") == ACTION_DEFAULT_FALLBACK:
            self.last_turn_failed = True
        self.outcome = self._outcome()

    def _user(self, event: Mapping[str, Any], ts: float) -> None:
        text = str(event.get("text") or "")
        parse = event.get("parse_data") if isinstance(event.get("parse_data"), Mapping) else {}
        assert isinstance(parse, Mapping)
        intent = parse.get("intent") if isinstance(parse.get("intent"), Mapping) else {}
        assert isinstance(intent, Mapping)
        name = str(intent.get("name") or "")[:80]
        if not self.channel and event.get("input_channel"):
            self.channel = channel_label(str(event["input_channel"]), self.sender_id)[:40]
        if name == INTENT_RATE:
            return  # the rating's click is not a turn of the conversation
        self.turns += 1
        if self.turns == 1:
            self.first_turn = True  # the customer is back: see FactsStore._save
        if name == INTENT_GOODBYE:
            self.closed_at = self.closed_at or ts
        if name:
            self.intents[name] = self.intents.get(name, 0) + 1
            if self.first_intent is None and name not in SMALL_TALK_INTENTS:
                self.first_intent = name
        self.last_turn_failed = name in (INTENT_NLU_FALLBACK, INTENT_NOT_HELPFUL)
        typed = not text.startswith(PAYLOAD_PREFIX)
        text = " ".join(text.split())  # one line per turn in customer_text
        if typed and text:
            self.last_text = text
            joined = f"{self.customer_text}\n{text}" if self.customer_text else text
            self.customer_text = joined[:MAX_CUSTOMER_TEXT]
            stored = parse.get(EMOTION_IN_CONTEXT) or parse.get(EMOTION)
            scores = EmotionScores.from_stored(stored)
            self.frustration_peak = max(self.frustration_peak, scores.frustration)
            self.urgency_peak = max(self.urgency_peak, scores.urgency)
            if len(self.trajectory) < MAX_TRAJECTORY:  # the mean is over these turns
                self.frustration_sum += scores.frustration
                self.trajectory.append(
                    [round(ts, 3), scores.frustration, scores.urgency, scores.negative]
                )

    def _slot(self, name: str, value: Any, ts: float, key: bytes) -> None:
        # The conversation is the store customer's only once the customer proved it (a
        # signed identity, a one-time code, a verified phone number or an earlier code's
        # link), whichever of the two slots comes first: an e-mail typed to read an
        # order's status links nothing.
        if name == SLOT_CUSTOMER_ID:
            self.customer_id = value if isinstance(value, str) and value else None
        elif name == SLOT_VERIFIED_BY:
            self.proven = value in PROVEN_IDENTITY
        if name in (SLOT_CUSTOMER_ID, SLOT_VERIFIED_BY):
            if self.customer_id and self.proven:
                self._set_customer(pseudonym(key, f"id:{self.customer_id}"))
        elif name == SLOT_CUSTOMER_KEY and isinstance(value, str) and value:
            if self.customer is None:
                self._set_customer(pseudonym(key, f"key:{value}"))
        elif name == SLOT_KB_OUTCOME:
            if value == KB_ANSWERED:
                self.kb_answered += 1
            elif value in (KB_MISS, KB_NOT_HELPFUL):
                self.kb_missed += 1
                self.last_turn_failed = True
                question = self.last_text.strip()
                known = question in self.missed_questions
                if question and not known and len(self.missed_questions) < MAX_MISSED:
                    self.missed_questions.append(question[:300])
        elif name == SLOT_ROUTING_DECISION and isinstance(value, Mapping):
            self._decision(value, ts)
        elif name == SLOT_HANDOFF_STATUS:
            self._handoff(value, ts)
        elif name == SLOT_CSAT_SCORE:
            # Only an answer to the question, and only the first: a rating nobody asked
            # for (a crafted payload) or a second one would skew CSAT.
            score = _number(value)
            if self.csat_asked and self.csat is None and score in CSAT_SCORES:
                self.csat = int(score)  # type: ignore[arg-type]
                self.closed_at = self.closed_at or ts
        elif (
            name == SLOT_CSAT_COMMENT
            and isinstance(value, str)
            and value.strip()
            and self.csat is not None
            and self.csat_comment is None
        ):
            self.csat_comment = value.strip()[:1000]

    def _set_customer(self, customer: str) -> None:
        if customer != self.customer:
            self.customer = customer
            self.customer_changed = True

    def _decision(self, value: Mapping[str, Any], ts: float) -> None:
        action = str(value.get("action") or CONTINUE)
        distress = _number(value.get("distress")) or 0.0
        self.distress_max = max(self.distress_max, distress)
        if action == CONTINUE:
            return
        reasons = [str(r)[:120] for r in value.get("reasons") or []][:10]
        if len(self.decisions) < MAX_DECISIONS:
            self.decisions.append(
                {
                    "t": round(ts, 3),
                    "action": action[:20],
                    "distress": round(distress, 4),
                    "reasons": reasons,
                    "priority": value.get("priority"),
                    "queue": value.get("queue"),
                }
            )
        if action == ESCALATE and not self.escalated:
            self.escalation_reason = "; ".join(reasons)[:MAX_REASON] or "escalated"
            self.queue = _short(value.get("queue"), 40)
            self.priority = _short(value.get("priority"), 10)
            target = _number(value.get("wait_target_seconds"))
            self.wait_target_seconds = int(target) if target is not None else None

    def _handoff(self, status: Any, ts: float) -> None:
        if status not in (HANDOFF_WAITING, HANDOFF_CLAIMED, HANDOFF_RESOLVED, HANDOFF_HANDED_BACK):
            return
        self.handoff_status = str(status)
        if not self.turns:
            # Carried over into a new session (`CARRY_OVER_SLOTS`): the state, not a new
            # handoff, claim or close of this conversation.
            return
        if status == HANDOFF_WAITING:
            if not self.escalated:
                self.escalated = True
                self.escalation_reason = self.escalation_reason or "asked for a person"
            self.handoff_at = self.handoff_at or ts
        elif status == HANDOFF_CLAIMED and self.claimed_at is None:
            self.claimed_at = ts
            if self.handoff_at is not None:
                self.seconds_to_claim = round(max(0.0, ts - self.handoff_at), 3)
        elif status in (HANDOFF_RESOLVED, HANDOFF_HANDED_BACK):
            self.handoff_closed_at = ts
            if self.claimed_at is not None:
                self.handling_seconds = round(max(0.0, ts - self.claimed_at), 3)
            if status == HANDOFF_RESOLVED:
                self.closed_at = self.closed_at or ts

    def _bot(self, event: Mapping[str, Any], ts: float) -> None:
        data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
        assert isinstance(data, Mapping)
        custom = data.get("custom")
        inner = custom.get("data") if isinstance(custom, Mapping) else None
        inner = inner if isinstance(inner, Mapping) else {}
        if inner.get(CUSTOM_SENDER) == SENDER_AGENT:
            if self.agent is None and inner.get(CUSTOM_AGENT_NAME):
                self.agent = str(inner[CUSTOM_AGENT_NAME])[:120]
            if self.first_agent_reply_at is None:
                self.first_agent_reply_at = ts
                if self.handoff_at is not None:  # the customer's wait for a person's word
                    self.seconds_to_first_reply = round(max(0.0, ts - self.handoff_at), 3)
        if inner.get(CUSTOM_HANDOFF_STATUS) == HANDOFF_WAITING and not self.queue:
            self.queue = _short(inner.get(CUSTOM_QUEUE), 40)  # the person button's queue
        if inner.get(CUSTOM_HANDOFF_STATUS) == HANDOFF_CLAIMED and inner.get(CUSTOM_HANDOFF_AGENT):
            self.agent = str(inner[CUSTOM_HANDOFF_AGENT])[:120]
        buttons = data.get("buttons")
        if isinstance(buttons, list) and any(
            isinstance(b, Mapping) and str(b.get("payload", "")).startswith(f"/{INTENT_RATE}")
            for b in buttons
        ):
            self.csat_asked = True

    def _outcome(self) -> str:
        if self.handoff_status == HANDOFF_RESOLVED and self.handoff_closed_at is not None:
            return OUTCOME_PERSON  # resolved in this conversation (not carried over)
        if self.handoff_status in (HANDOFF_WAITING, HANDOFF_CLAIMED):
            return OUTCOME_ABANDONED
        return OUTCOME_ABANDONED if self.last_turn_failed else OUTCOME_BOT


def rating(event: Mapping[str, Any]) -> bool:
    """Whether `event` is part of answering the rating question."""
    if event.get("event") == EVENT_SLOT:
        return event.get("name") in (SLOT_CSAT_SCORE, SLOT_CSAT_COMMENT)
    if event.get("event") == EVENT_USER:
        parse = event.get("parse_data")
        intent = parse.get("intent") if isinstance(parse, Mapping) else None
        return isinstance(intent, Mapping) and intent.get("name") == INTENT_RATE
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _short(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value else None


class FactsStore:
    """The facts table; `apply(events)` brings rows up to date (one transaction).

    Cheap to construct; the database opens (and migrates) on first use. `key` is the
    secret of the customer pseudonyms."""

    def __init__(self, url: str, key: bytes) -> None:
        self.db = Database(url, metadata)
        self.key = key

    def close(self) -> None:
        self.db.close()

    def apply(
        self, events: Iterable[Mapping[str, Any]], connection: Connection | None = None
    ) -> int:
        """Apply events in order; returns how many were applied. With `connection`,
        inside the caller's transaction (the consumer deletes what it applied in the same one)."""
        if connection is None:
            with self.db.begin() as own:
                return self._apply(events, own)
        return self._apply(events, connection)

    def _apply(self, events: Iterable[Mapping[str, Any]], c: Connection) -> int:
        current: dict[str, ConversationFacts] = {}
        touched: dict[tuple[str, int], ConversationFacts] = {}
        applied = 0
        for event in self._first_deliveries(list(events), c):
            sender = event.get("sender_id")
            if not isinstance(sender, str) or not sender:
                continue
            sender = sender[:200]
            ts = _number(event.get("timestamp")) or 0.0
            conversation = current.get(sender) or self._latest(c, sender)
            starts = event.get("event") == EVENT_SESSION_STARTED or (
                event.get("event") == EVENT_ACTION and event.get("name") == ACTION_SESSION_START
            )
            if starts:
                if conversation is None or conversation.turns or conversation.escalated:
                    session = conversation.session + 1 if conversation else 1
                    conversation = ConversationFacts(sender, session, ts, last_event_at=ts)
                else:  # an empty one (action_session_start just began it): it starts now
                    conversation.started_at = conversation.last_event_at = ts
            elif conversation is None:
                conversation = ConversationFacts(sender, 1, ts, last_event_at=ts)
            elif not conversation.turns and conversation.session > 1 and rating(event):
                # A rating clicked after the session expired belongs to the conversation
                # that asked for it, not to the new, empty one.
                key = (sender, conversation.session - 1)
                earlier = touched.get(key) or self._session(c, *key)
                if earlier is not None and earlier.csat_asked:
                    earlier.apply(event, self.key)
                    touched[key] = earlier
                    applied += 1
                    continue
            conversation.apply(event, self.key)
            current[sender] = conversation
            touched[(sender, conversation.session)] = conversation
            applied += 1
        for conversation in touched.values():
            self._save(c, conversation)
        return applied

    @staticmethod
    def _first_deliveries(
        events: list[Mapping[str, Any]], c: Connection
    ) -> list[Mapping[str, Any]]:
        """The events not applied before: an `event_id` (bot.event_relay) seen already,
        in an earlier batch or in this one, is skipped; the new ids are recorded in the
        caller's transaction, with the facts they change."""
        ids = [e.get("event_id") for e in events]
        known = {i for i in ids if isinstance(i, str)}
        if known:
            known = {
                row.event_id
                for row in c.execute(
                    sa.select(consumed_events.c.event_id).where(
                        consumed_events.c.event_id.in_(sorted(known))
                    )
                )
            }
        fresh: list[Mapping[str, Any]] = []
        new_ids: list[str] = []
        for event, event_id in zip(events, ids, strict=True):
            if isinstance(event_id, str):
                if event_id in known:
                    continue
                known.add(event_id)
                new_ids.append(event_id)
            fresh.append(event)
        if new_ids:
            now = time.time()
            c.execute(
                sa.insert(consumed_events),
                [{"event_id": i, "consumed_at": now} for i in new_ids],
            )
        return fresh

    def _session(self, c: Connection, sender: str, session: int) -> ConversationFacts | None:
        row = (
            c.execute(
                sa.select(facts).where(facts.c.sender_id == sender, facts.c.session == session)
            )
            .mappings()
            .first()
        )
        return ConversationFacts.from_row(row) if row is not None else None

    def _latest(self, c: Connection, sender: str) -> ConversationFacts | None:
        row = (
            c.execute(
                sa.select(facts)
                .where(facts.c.sender_id == sender)
                .order_by(facts.c.session.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return ConversationFacts.from_row(row) if row is not None else None

    def _save(self, c: Connection, conversation: ConversationFacts) -> None:
        values = conversation.row()
        if conversation.id is None:
            conversation.id = c.execute(sa.insert(facts).values(**values)).inserted_primary_key[0]
        else:
            c.execute(sa.update(facts).where(facts.c.id == conversation.id).values(**values))
        back = conversation.first_turn or (conversation.customer_changed and conversation.turns)
        if back and conversation.customer:
            # The customer's conversation before this one, if it was within 7 days: they
            # came back, so it was not resolved at first contact.
            c.execute(
                sa.update(facts)
                .where(
                    facts.c.customer == conversation.customer,
                    facts.c.id != conversation.id,
                    facts.c.started_at <= conversation.started_at,
                    facts.c.last_event_at >= conversation.started_at - REPEAT_CONTACT_SECONDS,
                )
                .values(repeat_contact=True)
            )
        if conversation.turns:  # until the customer writes, it is no return
            conversation.customer_changed = conversation.first_turn = False

    def get(self, conversation_id: int) -> ConversationFacts | None:
        with self.db.begin() as c:
            row = (
                c.execute(sa.select(facts).where(facts.c.id == conversation_id)).mappings().first()
            )
        return ConversationFacts.from_row(row) if row is not None else None

    def for_sender(self, sender_id: str) -> Sequence[ConversationFacts]:
        with self.db.begin() as c:
            rows = c.execute(
                sa.select(facts).where(facts.c.sender_id == sender_id).order_by(facts.c.session)
            ).mappings()
            return [ConversationFacts.from_row(r) for r in rows]

    def for_customer(self, customer_id: str, limit: int = 20) -> Sequence[ConversationFacts]:
        """The conversations of one identified customer on every channel, newest first
        (at most `limit`). `customer_id` is the store's id ("C1001"), matched through the
        pseudonym the rows hold (`pseudonym(key, "id:C1001")`): only conversations in
        which the customer was identified by that id are found."""
        customer = pseudonym(self.key, f"id:{customer_id}")
        with self.db.begin() as c:
            rows = c.execute(
                sa.select(facts)
                .where(facts.c.customer == customer)  # ix_conversation_facts_customer
                .order_by(facts.c.started_at.desc(), facts.c.id.desc())
                .limit(max(1, limit))
            ).mappings()
            return [ConversationFacts.from_row(r) for r in rows]
