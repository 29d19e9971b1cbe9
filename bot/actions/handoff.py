"""Handing a conversation to a person, and relaying what the customer writes meanwhile.

`action_contact_human` runs when the customer asks for a person or when the routing
policy escalates (distress, urgency, failed answers). It records a case, builds the
handoff summary from the tracker, opens the handoff with the configured backend (the
agent console by default) and tells the customer their place in the queue and the
estimated wait. From then on the routing policy keeps the bot silent and sends every
customer message to `action_relay_to_agent`, until the agent resolves the conversation
or hands it back.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import (
    EMAIL_PATTERN,
    SupportAction,
    customer_key,
    get_store,
    request_done,
)
from bot.errors import StoreError
from bot.store.models import CASE_HUMAN_REQUEST
from bot.support import order_facts
from core.constants import (
    ACTION_CONTACT_HUMAN,
    ACTION_RELAY_TO_AGENT,
    CUSTOM_HANDOFF_STATUS,
    CUSTOM_QUEUE,
    CUSTOM_SENDER,
    CUSTOM_TEAM,
    EMOTION,
    PRIORITY_URGENT,
    REQUESTED_SLOT,
    ROUTE_ESCALATE,
    SENDER_BOT,
    SLOT_CONTACTS_7D,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_NAME,
    SLOT_CUSTOMER_TIER,
    SLOT_EMAIL,
    SLOT_HANDOFF_REFERENCE,
    SLOT_HANDOFF_STATUS,
    SLOT_OPEN_CASE_ID,
    SLOT_ORDER_NUMBER,
    SLOT_ROUTING_DECISION,
)
from core.conversation import Conversation, channel_label
from core.settings import Settings
from routing.backends import backend_from_settings
from routing.decision import NORMAL, RoutingConfig
from routing.handoff import (
    RESOLVED,
    WAITING,
    CustomerMessage,
    HandoffBackend,
    HandoffError,
    HandoffRequest,
    HandoffTicket,
    UnknownHandoff,
)
from routing.skills import QUEUE_TITLES, queue_for
from routing.summary import ConversationContext, ExtractiveSummarizer, Summarizer

ORDER_NUMBER = re.compile(r"\d{5}")
CONTACT_OPTIONS = (
    "Our support team is available Monday–Friday 8 am–8 pm Eastern and Saturday–Sunday "
    "9 am–5 pm Eastern: phone 1-800-555-0199, email support@brightbasket.example."
)

logger = logging.getLogger(__name__)

_backend: HandoffBackend | None = None
_summarizer: Summarizer = ExtractiveSummarizer()


def get_backend() -> HandoffBackend:
    """The process-wide handoff backend (HANDOFF_BACKEND), built on first use."""
    global _backend
    if _backend is None:
        _backend = backend_from_settings(Settings.load())
    return _backend


def set_backend(backend: HandoffBackend | None) -> None:
    """Replace the process-wide backend (tests)."""
    global _backend
    _backend = backend


def answered(tracker: Tracker) -> dict[str, Any]:
    """The slots, less a form answer not yet validated: a handoff decided on the message
    that answers a form's question comes before the form checks it, and the summary must
    not call "I'm afraid that's no use" an order number."""
    slots = dict(tracker.slots)
    if not ORDER_NUMBER.fullmatch(str(slots.get(SLOT_ORDER_NUMBER) or "")):
        slots[SLOT_ORDER_NUMBER] = None
    if not EMAIL_PATTERN.fullmatch(str(slots.get(SLOT_EMAIL) or "")):
        slots[SLOT_EMAIL] = None
    return slots


def build_request(tracker: Tracker) -> HandoffRequest:
    """The handoff request for the conversation in `tracker`: decision, profile, summary."""
    conversation = Conversation.from_events(tracker.events)
    decision = tracker.get_slot(SLOT_ROUTING_DECISION) or {}
    if decision.get("action") != ROUTE_ESCALATE:  # e.g. the "talk to a person" button
        decision = {
            "explanation": "asked for a person",
            "priority": NORMAL,
            "queue": queue_for(conversation.intents),
            "distress": 0.0,
            "wait_target_seconds": RoutingConfig().wait_target_seconds[NORMAL],
        }
    profile: dict[str, Any] = {
        "name": tracker.get_slot(SLOT_CUSTOMER_NAME),
        "tier": tracker.get_slot(SLOT_CUSTOMER_TIER),
        "contacts_7d": tracker.get_slot(SLOT_CONTACTS_7D),
    }
    try:
        store = get_store()
        number = answered(tracker)[SLOT_ORDER_NUMBER]
        order = store.get_order(str(number)) if number else None
        if order is not None:
            profile["order_status"] = f"{order.number}: {order_facts(order, store.today())}"
        cases = store.cases_for_customer(customer_key(tracker))
        profile["open_cases"] = ", ".join(
            f"#{c.id} {c.kind.replace('_', ' ')}" for c in cases if c.status == "open"
        )
    except StoreError:
        logger.exception("handoff: the store failed; the summary goes without order and cases")
    context = ConversationContext.from_conversation(conversation, answered(tracker), profile)
    summary = _summarizer.summarize(context, str(decision.get("explanation") or ""))
    return HandoffRequest(
        conversation_id=tracker.sender_id,
        channel=channel_label(tracker.get_latest_input_channel(), tracker.sender_id),
        queue=str(decision.get("queue") or queue_for([])),
        priority=str(decision.get("priority") or NORMAL),
        reason=str(decision.get("explanation") or "asked for a person"),
        distress=float(decision.get("distress") or 0.0),
        wait_target_seconds=int(decision.get("wait_target_seconds") or 600),
        summary=summary.as_dict(),
        summary_text=summary.as_text(),
        customer_key=customer_key(tracker),
        customer_name=tracker.get_slot(SLOT_CUSTOMER_NAME),
        # The e-mail on file of the customer the conversation is linked to, never one
        # merely typed (a customer recognised by phone may type someone else's).
        customer_email=email_on_file(tracker.get_slot(SLOT_CUSTOMER_ID)),
        transcript=conversation.transcript(),
    )


def email_on_file(customer_id: Any) -> str | None:
    if not customer_id:
        return None
    try:
        customer = get_store().get_customer(str(customer_id))
    except StoreError:
        logger.exception("handoff: the store failed; the handoff goes without the e-mail")
        return None
    return customer.email if customer is not None else None


def waiting_message(ticket: HandoffTicket, queue: str, priority: str) -> str:
    team = QUEUE_TITLES.get(queue, "support").lower()
    text = f"I'm bringing in a person from our {team} team. "
    if ticket.position is not None:
        place = "next in line" if ticket.position == 1 else f"number {ticket.position} in line"
        text += f"You're {place}"
        if ticket.estimated_wait_seconds is not None:
            text += f", and the estimated wait is {describe_wait(ticket.estimated_wait_seconds)}"
        text += ". "
    else:
        text += "They'll be with you as soon as possible. "
    if priority == PRIORITY_URGENT:
        text += "I've marked this as urgent. "
    return text + (
        "They'll see everything we've discussed, so you won't have to repeat yourself — and "
        "anything you write meanwhile goes straight to them."
    )


def describe_wait(seconds: int) -> str:
    if seconds < 90:
        return "about a minute"
    return f"about {round(seconds / 60)} minutes"


class ActionContactHuman(SupportAction):
    """Hand the conversation to a person: case, summary, queue, and what to expect."""

    empathetic = False

    def name(self) -> str:
        return ACTION_CONTACT_HUMAN

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        request = build_request(tracker)
        events: list[dict[str, Any]] = [
            ActiveLoop(None),
            SlotSet(REQUESTED_SLOT, None),
            *request_done(),
        ]
        case_id = None
        try:
            case = get_store().open_case(
                customer_key(tracker),
                CASE_HUMAN_REQUEST,
                f"Handed to a person ({request.reason}): {request.summary.get('issue', '')}",
                order_number=tracker.get_slot(SLOT_ORDER_NUMBER),
                customer_id=tracker.get_slot(SLOT_CUSTOMER_ID),
            )
            case_id = case.id
            events.append(SlotSet(SLOT_OPEN_CASE_ID, case.id))
        except StoreError:
            logger.exception("handoff: could not record the case")
        try:
            ticket = await get_backend().open(request)
        except HandoffError as e:
            logger.error("handoff of %s failed: %s", tracker.sender_id, e)
            logged = f" I've logged your request (case #{case_id})." if case_id else ""
            dispatcher.utter_message(
                text="I'm sorry — I can't reach our support team's queue right now."
                + logged
                + " Please try again in a few minutes, or use one of these:"
            )
            dispatcher.utter_message(text=CONTACT_OPTIONS)
            return events
        team = QUEUE_TITLES.get(request.queue, "support").lower()
        change = {
            CUSTOM_SENDER: SENDER_BOT,
            CUSTOM_HANDOFF_STATUS: WAITING,
            CUSTOM_QUEUE: request.queue,
            CUSTOM_TEAM: team,
        }
        dispatcher.utter_message(
            text=waiting_message(ticket, request.queue, request.priority),
            json_message={"data": change},
        )
        return [
            *events,
            SlotSet(SLOT_HANDOFF_STATUS, WAITING),
            SlotSet(SLOT_HANDOFF_REFERENCE, ticket.reference),
        ]


class ActionRelayToAgent(SupportAction):
    """A customer message while a person holds the conversation: pass it on, say nothing."""

    empathetic = False

    def name(self) -> str:
        return ACTION_RELAY_TO_AGENT

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        text = latest.get("text") or ""
        reference = tracker.get_slot(SLOT_HANDOFF_REFERENCE)
        if not text or text.startswith("/") or not reference:
            return []
        message = CustomerMessage(text, time.time(), dict(latest.get(EMOTION) or {}))
        try:
            await get_backend().relay(str(reference), message)
        except UnknownHandoff:
            # The handoff was closed elsewhere: the bot takes the conversation back.
            logger.warning("relay: handoff %s is gone; the bot answers again", reference)
            dispatcher.utter_message(
                text="It looks like our team closed your earlier conversation. I'm the "
                "virtual assistant — how can I help?",
                json_message={"data": {CUSTOM_SENDER: SENDER_BOT, CUSTOM_HANDOFF_STATUS: RESOLVED}},
            )
            return [SlotSet(SLOT_HANDOFF_STATUS, None), SlotSet(SLOT_HANDOFF_REFERENCE, None)]
        except HandoffError:
            # Still in the tracker, so the agent sees it in the transcript.
            logger.exception("relay: could not pass a message of %s on", tracker.sender_id)
        return []
