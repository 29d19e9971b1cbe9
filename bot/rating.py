"""The CSAT question: a 1-5 rating as five buttons, the same on every channel.

Sent by the goodbye action (`bot.actions.csat`) and by the console when an agent resolves
a conversation. A click sends `/rate_service{"csat_score": N}`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from core.constants import CSAT_SCORES, ENTITY_CSAT_SCORE, INTENT_RATE

QUESTION = "How would you rate this conversation? 1 is poor, 5 is excellent."
LABELS = {1: "1 · poor", 2: "2", 3: "3", 4: "4", 5: "5 · excellent"}


def rating_question() -> dict[str, Any]:
    """The question and its five buttons (a Rasa bot message's text and buttons)."""
    return {
        "text": QUESTION,
        "buttons": [
            {
                "title": LABELS[score],
                "payload": f"/{INTENT_RATE}" + json.dumps({ENTITY_CSAT_SCORE: score}),
            }
            for score in CSAT_SCORES
        ],
    }


def rating_event() -> dict[str, Any]:
    """The question as a bot event for Rasa's tracker API (the console appends it)."""
    question = rating_question()
    return {
        "event": "bot",
        "timestamp": time.time(),
        "text": question["text"],
        "data": {"buttons": question["buttons"]},
        "metadata": {},
    }
