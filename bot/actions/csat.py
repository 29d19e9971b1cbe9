"""CSAT: a 1-5 rating when a conversation ends, with an optional comment.

Asked when the bot's conversation ends (the customer says goodbye after a request:
`action_ask_rating` after `utter_goodbye`), and
by the console when an agent resolves a conversation (`rating_question`, sent through
Rasa, so every channel shows it as buttons). A click is `/rate_service{"csat_score": N}`;
the rating is a slot, and so reaches the conversation facts (`insights`) through the event
broker. The customer's next typed message, if they write one, is the comment
(`routing.policy.RoutingPolicy` sends it to `action_record_csat_comment`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import SupportAction
from bot.rating import rating_question
from core.constants import (
    ACTION_ASK_RATING,
    ACTION_RECORD_CSAT,
    ACTION_RECORD_CSAT_COMMENT,
    CSAT_SCORES,
    ENTITY_CSAT_SCORE,
    INTENT_GOODBYE,
    INTENT_RATE,
    SLOT_CSAT_COMMENT,
    SLOT_CSAT_SCORE,
    SMALL_TALK_INTENTS,
)

MAX_COMMENT_CHARS = 1_000


def this_session(tracker: Tracker) -> list[dict[str, Any]]:
    """The events since the session started, newest first."""
    events = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        events.append(event)
    return events


def asked_this_session(tracker: Tracker) -> bool:
    """Whether the rating was asked since the session started."""
    return any(
        str(button.get("payload", "")).startswith(f"/{INTENT_RATE}")
        for event in this_session(tracker)
        if event.get("event") == "bot"
        for button in (event.get("data") or {}).get("buttons") or []
    )


def rated_this_session(tracker: Tracker) -> bool:
    """Whether a rating was recorded since the session started."""
    return any(
        event.get("event") == "slot"
        and event.get("name") == SLOT_CSAT_SCORE
        and event.get("value") is not None
        for event in this_session(tracker)
    )


def had_a_request(tracker: Tracker) -> bool:
    """Whether the customer asked for something this session (not only small talk)."""
    intents = (
        ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in this_session(tracker)
        if event.get("event") == "user"
    )
    return any(i and i not in SMALL_TALK_INTENTS and i != INTENT_RATE for i in intents)


class ActionAskRating(SupportAction):
    """After goodbye: the rating question, when the conversation had a request and the
    question was not asked yet this session."""

    empathetic = False

    def name(self) -> str:
        return ACTION_ASK_RATING

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if had_a_request(tracker) and not asked_this_session(tracker):
            dispatcher.utter_message(**rating_question())
        return []


class ActionRecordCsat(SupportAction):
    empathetic = False

    def name(self) -> str:
        return ACTION_RECORD_CSAT

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        score = None
        for entity in (tracker.latest_message or {}).get("entities") or []:
            if entity.get("entity") == ENTITY_CSAT_SCORE:
                try:
                    score = int(str(entity.get("value")))
                except ValueError:
                    continue
                break  # the first: "4 out of 5" is a 4
        if not asked_this_session(tracker) or rated_this_session(tracker):
            # A rating nobody asked for (a crafted payload, a typed "5 stars" out of the
            # blue), or a second one, is not recorded.
            dispatcher.utter_message(text="Thank you! Is there anything else I can help with?")
            return []
        if score not in CSAT_SCORES:
            dispatcher.utter_message(**{**rating_question(), "text": "Please pick 1 to 5."})
            return []
        thanks = "Thank you for rating us." if score >= 4 else "Thank you — sorry we fell short."
        dispatcher.utter_message(
            text=f"{thanks} Anything you'd like to add? Just type it here.",
            buttons=[{"title": "No, thanks", "payload": f"/{INTENT_GOODBYE}"}],
        )
        return [SlotSet(SLOT_CSAT_SCORE, score)]


class ActionRecordCsatComment(SupportAction):
    empathetic = False

    def name(self) -> str:
        return ACTION_RECORD_CSAT_COMMENT

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = ((tracker.latest_message or {}).get("text") or "").strip()[:MAX_COMMENT_CHARS]
        dispatcher.utter_message(
            text="Thank you, I've passed that on to the team. I'm here if you need anything else."
        )
        return [SlotSet(SLOT_CSAT_COMMENT, text)] if text else []
