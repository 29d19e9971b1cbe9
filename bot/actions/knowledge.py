"""Answers from the help center, the honest "I'm not sure", and "that didn't help"."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import SupportAction
from core.constants import (
    ACTION_ANSWER_FROM_HELP_CENTER,
    ACTION_HELP_CENTER_NOT_HELPFUL,
    INTENT_NOT_HELPFUL,
    INTENT_REQUEST_HUMAN,
    INTENT_THANKS,
    KB_ANSWERED,
    KB_MISS,
    KB_NOT_HELPFUL,
    KNOWLEDGE,
    SLOT_FAILED_ANSWERS,
    SLOT_KB_ARTICLE,
    SLOT_KB_CANDIDATES,
    SLOT_KB_CONFIDENCE,
    SLOT_KB_OUTCOME,
    SLOT_KB_SCORE,
    SLOT_KB_SHOWN,
)
from knowledge.catalog import PassageCatalog
from knowledge.errors import KnowledgeError

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 420
NEXT_BEST_MIN_SCORE = 0.35  # a runner-up article below this is not worth offering
NOT_SURE = (
    "I'm not sure I have the right answer to that, and I'd rather not guess. "
    "Would you like me to get a person to help?"
)

_catalog: PassageCatalog | None = None


def catalog() -> PassageCatalog:
    global _catalog
    if _catalog is None:
        _catalog = PassageCatalog()
    return _catalog


def concise(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """The passage cut at a sentence end near `limit` characters."""
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) > limit and out:
            break
        out = f"{out} {sentence}".strip()
    return out if out else text[:limit].rsplit(" ", 1)[0] + "…"


def knowledge_of(tracker: Tracker) -> dict[str, Any]:
    data = (tracker.latest_message or {}).get(KNOWLEDGE)
    return data if isinstance(data, dict) else {}


def failed(tracker: Tracker) -> SlotSet:
    return SlotSet(SLOT_FAILED_ANSWERS, float(tracker.get_slot(SLOT_FAILED_ANSWERS) or 0) + 1)


def feedback_buttons() -> list[dict[str, str]]:
    return [
        {"title": "That answers it", "payload": f"/{INTENT_THANKS}"},
        {"title": "That didn't help", "payload": f"/{INTENT_NOT_HELPFUL}"},
    ]


def person_button() -> list[dict[str, str]]:
    return [{"title": "Yes, get a person", "payload": f"/{INTENT_REQUEST_HUMAN}"}]


def show_article(dispatcher: CollectingDispatcher, hit: dict[str, Any], lead: str = "") -> bool:
    """Reply with the hit's passage and its source; False if the passage is gone."""
    try:
        passage = catalog().passage(hit["article_id"], hit.get("section", ""))
    except KnowledgeError:
        logger.exception("help center unavailable")
        return False
    if passage is None:
        return False
    answer = concise(passage.text)
    dispatcher.utter_message(
        text=f"{lead}{answer}\nSource: “{passage.title}” — {passage.url}",
        buttons=feedback_buttons(),
    )
    return True


def answer_from_help_center(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]] | None:
    """Answer the latest message if the help center is confident; None when it is not."""
    data = knowledge_of(tracker)
    hits = data.get("hits") or []
    confidence = float(data.get("confidence") or 0.0)
    if not hits or confidence < float(data.get("threshold") or 0.5):
        return None
    top = hits[0]
    if not show_article(dispatcher, top):
        return None
    return [
        SlotSet(SLOT_KB_ARTICLE, top["article_id"]),
        SlotSet(SLOT_KB_SCORE, float(top["score"])),
        SlotSet(SLOT_KB_CONFIDENCE, confidence),
        SlotSet(SLOT_KB_CANDIDATES, hits),
        SlotSet(SLOT_KB_SHOWN, [top["article_id"]]),
        SlotSet(SLOT_KB_OUTCOME, KB_ANSWERED),
    ]


def help_center_miss(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    data = knowledge_of(tracker)
    hits = data.get("hits") or []
    dispatcher.utter_message(text=NOT_SURE, buttons=person_button())
    return [
        SlotSet(SLOT_KB_ARTICLE, None),
        SlotSet(SLOT_KB_SCORE, float(hits[0]["score"]) if hits else None),
        SlotSet(SLOT_KB_CONFIDENCE, float(data.get("confidence") or 0.0)),
        SlotSet(SLOT_KB_CANDIDATES, hits),
        SlotSet(SLOT_KB_SHOWN, []),
        SlotSet(SLOT_KB_OUTCOME, KB_MISS),
        failed(tracker),
    ]


class ActionAnswerFromHelpCenter(SupportAction):
    def name(self) -> str:
        return ACTION_ANSWER_FROM_HELP_CENTER

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if asked_again(tracker):
            # The same question in other words, right after its answer: the answer did
            # not help, whatever words say so.
            return not_helpful(dispatcher, tracker)
        return answer_from_help_center(dispatcher, tracker) or help_center_miss(dispatcher, tracker)


def asked_again(tracker: Tracker) -> bool:
    """Whether the latest question finds, first, the article that was just shown as the
    answer to the previous one."""
    hits = knowledge_of(tracker).get("hits") or []
    shown = tracker.get_slot(SLOT_KB_ARTICLE)
    return (
        bool(hits)
        and shown is not None
        and tracker.get_slot(SLOT_KB_OUTCOME) == KB_ANSWERED
        and hits[0].get("article_id") == shown
    )


def not_helpful(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """The answer shown did not help: the next best article for the question, or a person."""
    shown = list(tracker.get_slot(SLOT_KB_SHOWN) or [])
    candidates = tracker.get_slot(SLOT_KB_CANDIDATES) or []
    events: list[dict[str, Any]] = [SlotSet(SLOT_KB_OUTCOME, KB_NOT_HELPFUL), failed(tracker)]
    following = next(
        (
            c
            for c in candidates
            if c["article_id"] not in shown and float(c["score"]) >= NEXT_BEST_MIN_SCORE
        ),
        None,
    )
    if following is not None and show_article(
        dispatcher, following, lead="Sorry about that. This article may fit better: "
    ):
        return [
            *events,
            SlotSet(SLOT_KB_ARTICLE, following["article_id"]),
            SlotSet(SLOT_KB_SCORE, float(following["score"])),
            SlotSet(SLOT_KB_SHOWN, [*shown, following["article_id"]]),
        ]
    dispatcher.utter_message(
        text="Sorry that didn't help, and I don't have a better article for it. Would you "
        "like me to get a person who can look into it?",
        buttons=person_button(),
    )
    return events


class ActionHelpCenterNotHelpful(SupportAction):
    """The customer says the answer did not help: next best article, or a person."""

    def name(self) -> str:
        return ACTION_HELP_CENTER_NOT_HELPFUL

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return not_helpful(dispatcher, tracker)
