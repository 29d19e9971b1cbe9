"""The handoff summary: what an agent needs to answer without scrolling the transcript.

No summarisation model is available offline, so `ExtractiveSummarizer` builds the
summary from the structure of the conversation — intents, forms, slots, help-center
outcomes, entities, emotion scores — and quotes the customer's own words. Anything that
implements `Summarizer` (an abstractive model, later) can replace it.

    >>> context = ConversationContext.from_events(events, slots, profile)
    >>> summary = ExtractiveSummarizer().summarize(context, reason="asked for a person")
    >>> summary.issue
    'Late or missing delivery of order 10234. The customer has asked about it 3 times.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from core.constants import (
    ENTITY_AMOUNT,
    ENTITY_EMAIL,
    ENTITY_ORDER_NUMBER,
    KB_ANSWERED,
    KB_MISS,
    KB_NOT_HELPFUL,
    SLOT_AMOUNT,
    SLOT_EMAIL,
    SLOT_ORDER_NUMBER,
    SMALL_TALK_INTENTS,
)
from core.conversation import Conversation, Turn

QUOTE_CHARS = 200
# Profile entries the summary shows as facts, in this order (zero contacts: not shown).
PROFILE_FACTS = ("order_status", "name", "tier", "contacts_7d", "open_cases")
ISSUES = {
    "order_status": "Wants to know where an order is",
    "delivery_problem": "Late, lost or damaged delivery",
    "request_refund": "Wants a refund",
    "return_item": "Wants to return an item",
    "cancel_subscription": "Wants to cancel a subscription",
    "billing_issue": "Billing problem (a double charge, or one not recognised: possible fraud)",
    "account_access": "Account access or security problem (sign-in, lock or takeover)",
    "change_address": "Wants to change a delivery address",
    "complaint": "Complaint about the service",
    "ask_faq": "Question the help center did not settle",
    "request_human": "Asked for a person",
}
# What the issue_type entity of the triggering message says, more precisely than its intent.
ISSUE_TYPES = {
    "late": "Late delivery",
    "lost": "Lost delivery, or marked delivered but not received",
    "damaged": "Damaged or wrong item delivered",
    "charged_twice": "Charged twice",
    "unknown_charge": "A charge the customer does not recognise (possible fraud)",
    "password": "Cannot sign in (password)",
    "locked": "Account locked",
    "hacked": "Someone else is using the account (possible takeover)",
}
# The intents and forms in words, for the agent.
TOPICS = {
    "order_status": "where an order is",
    "delivery_problem": "a delivery problem",
    "request_refund": "a refund",
    "return_item": "a return",
    "cancel_subscription": "cancelling a subscription",
    "billing_issue": "a billing problem",
    "account_access": "account access",
    "change_address": "a new delivery address",
    "complaint": "a complaint",
    "ask_faq": "a help-center question",
    "request_human": "asking for a person",
}
FORMS = {
    "order_lookup_form": "order lookup",
    "delivery_problem_form": "delivery problem report",
    "return_form": "return or refund request",
    "address_form": "address change",
    "account_form": "account check",
    "billing_form": "billing check",
    "subscription_form": "subscription cancellation",
}
NEXT_STEPS = {
    "order_status": "Check the order's tracking and give a firm delivery date.",
    "delivery_problem": "Check the carrier trace and offer a replacement or refund.",
    "request_refund": "Confirm the refund amount and when it will arrive.",
    "return_item": "Confirm the return label and the refund amount.",
    "cancel_subscription": "Confirm the cancellation terms and cancel if they still want to.",
    "billing_issue": "Verify the charges on the account and refund any duplicate.",
    "account_access": "Verify identity, secure the account and restore access.",
    "change_address": "Check whether the order can still be redirected.",
    "complaint": "Acknowledge the complaint and offer a concrete remedy.",
    "ask_faq": "Answer the question directly; the help-center articles did not.",
}
SMALL_TALK = SMALL_TALK_INTENTS


@dataclass
class ConversationContext:
    """What the summarizer reads: customer turns, bot steps, slots and the profile."""

    turns: list[Turn]  # what the customer typed
    forms: list[tuple[str, bool]]  # (form name, completed)
    articles: list[tuple[str, str]]  # (article id, outcome)
    entities: dict[str, list[str]]
    slots: dict[str, Any]
    profile: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_events(
        cls,
        events: Iterable[Mapping[str, Any]],
        slots: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> ConversationContext:
        return cls.from_conversation(Conversation.from_events(events), slots, profile)

    @classmethod
    def from_conversation(
        cls,
        conversation: Conversation,
        slots: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> ConversationContext:
        return cls(
            turns=conversation.said,
            forms=list(conversation.forms),
            articles=list(conversation.articles),
            entities=conversation.entities(),
            slots=dict(slots or {}),
            profile=dict(profile or {}),
        )


@dataclass(frozen=True)
class HandoffSummary:
    issue: str
    tried: list[str]
    facts: dict[str, Any]
    emotion_timeline: list[dict[str, Any]]
    reason: str
    quotes: list[str]
    next_step: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_text(self) -> str:
        lines = [f"Issue: {self.issue}", f"Why a person: {self.reason}"]
        if self.tried:
            lines.append("Bot tried: " + "; ".join(self.tried))
        if self.facts:
            lines.append("Facts: " + "; ".join(f"{k}: {v}" for k, v in self.facts.items()))
        lines += [f"Customer said: “{q}”" for q in self.quotes]
        lines.append(f"Suggested next step: {self.next_step}")
        return "\n".join(lines)


class Summarizer(Protocol):
    def summarize(self, context: ConversationContext, reason: str) -> HandoffSummary: ...


class ExtractiveSummarizer:
    """Structural and extractive: every sentence comes from the tracker or a template."""

    def summarize(self, context: ConversationContext, reason: str) -> HandoffSummary:
        requests: list[str] = [
            t.intent for t in context.turns if t.intent and t.intent not in SMALL_TALK
        ]
        # The issue is the request that led to the handoff: the latest one (an earlier,
        # settled question is not what the person is taking over).
        main = requests[-1] if requests else None
        facts = self._facts(context)
        return HandoffSummary(
            issue=self._issue(context, main, requests, facts),
            tried=self._tried(context, requests),
            facts=facts,
            emotion_timeline=[
                {
                    "turn": i + 1,
                    "frustration": round(t.frustration, 2),
                    "urgency": round(t.urgency, 2),
                    "sentiment": t.emotion.label,
                }
                for i, t in enumerate(context.turns)
            ],
            reason=reason,
            quotes=self._quotes(context),
            next_step=NEXT_STEPS.get(main or "", "Ask what they need and take it from there."),
        )

    @staticmethod
    def _facts(context: ConversationContext) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        orders = list(context.entities.get(ENTITY_ORDER_NUMBER, []))
        if (
            context.slots.get(SLOT_ORDER_NUMBER)
            and str(context.slots[SLOT_ORDER_NUMBER]) not in orders
        ):
            orders.append(str(context.slots[SLOT_ORDER_NUMBER]))
        emails = list(context.entities.get(ENTITY_EMAIL, []))
        if context.slots.get(SLOT_EMAIL) and context.slots[SLOT_EMAIL] not in emails:
            emails.append(str(context.slots[SLOT_EMAIL]))
        amounts = list(context.entities.get(ENTITY_AMOUNT, []))
        if context.slots.get(SLOT_AMOUNT) and str(context.slots[SLOT_AMOUNT]) not in amounts:
            amounts.append(str(context.slots[SLOT_AMOUNT]))
        for key, values in (("orders", orders), ("emails", emails), ("amounts", amounts)):
            if values:
                facts[key] = ", ".join(values)
        for key in PROFILE_FACTS:
            if context.profile.get(key) not in (None, "", [], 0):
                facts[key] = context.profile[key]
        return facts

    @staticmethod
    def _issue(
        context: ConversationContext,
        main: str | None,
        requests: list[str],
        facts: dict[str, Any],
    ) -> str:
        if main is None:
            first = context.turns[0].text if context.turns else ""
            return f"Unclear request: “{_clip(first, 120)}”." if first else "No message yet."
        trigger = next(
            (t for t in reversed(context.turns) if t.intent and t.intent not in SMALL_TALK), None
        )
        issue = trigger.issue if trigger is not None else None
        sentence = ISSUE_TYPES.get(issue or "") or ISSUES.get(
            main, main.replace("_", " ").capitalize()
        )
        if facts.get("orders"):
            sentence += f" (order {facts['orders']})"
        sentence += "."
        asked = requests.count(main)
        if asked >= 2:
            sentence += f" The customer has asked about it {asked} times."
        return sentence

    @staticmethod
    def _tried(context: ConversationContext, requests: list[str]) -> list[str]:
        tried = []
        seen = list(dict.fromkeys(i for i in requests if i))
        if seen:
            tried.append(
                "understood: " + ", ".join(TOPICS.get(i, i.replace("_", " ")) for i in seen)
            )
        for name, completed in context.forms:
            form = FORMS.get(name, name.replace("_", " "))
            tried.append(f"{form} {'completed' if completed else 'not finished'}")
        for article, outcome in context.articles:
            label = {
                KB_ANSWERED: "shown",
                KB_NOT_HELPFUL: "shown, did not help",
                KB_MISS: "no confident answer",
            }.get(outcome, outcome)
            tried.append(f"help center: {article} ({label})")
        return tried

    @staticmethod
    def _quotes(context: ConversationContext, count: int = 3) -> list[str]:
        """The customer's most telling lines: the strongest emotion, then the longest."""
        ranked = sorted(
            (t for t in context.turns if len(t.text.split()) >= 3),
            key=lambda t: (-max(t.frustration, t.urgency), -len(t.text)),
        )
        quotes: list[str] = []
        for turn in ranked:
            text = _clip(turn.text, QUOTE_CHARS)
            if all(_normal(text) != _normal(q) for q in quotes):
                quotes.append(text)
            if len(quotes) == count:
                break
        order = {t.text: i for i, t in enumerate(context.turns)}
        return sorted(quotes, key=lambda q: order.get(q, len(order)))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()
