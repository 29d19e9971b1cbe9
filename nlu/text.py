"""`normalise`: strip social-media artefacts that carry no emotion before scoring.

Messages from messaging channels (and the public corpora the emotion model learns from)
carry @mentions, links, hashtags and HTML entities. They say nothing about how the
customer feels, but they are not spread evenly over the training data: TweetEval's
emotion tweets were collected by hashtag and half of them start with "@user", while the
neutral examples come from other sources. A model trained on them as they are learns
"@user" and "#" as signs of emotion. The emotion model is trained on, and scores,
normalised text:

    >>> normalise("@user @bob I waited 3 days #fail https://t.co/x &amp; nothing")
    'I waited 3 days fail & nothing'

E-mail addresses and order numbers are kept; a message that is nothing but artefacts
normalises to the empty string, which the scorer accepts.
"""

from __future__ import annotations

import html
import re

_MENTION = re.compile(r"(?<![\w.@])@\w+:?")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])#(\w)")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The text without mentions, links and hashtag signs, with HTML entities decoded."""
    if not text:
        return ""
    text = html.unescape(text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _HASHTAG.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()
