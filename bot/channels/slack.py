"""`SlackInput`: a Slack app's Events API and interactivity, verified by Slack's v0
signature.

Rasa's `slack` channel, kept where it matters to a set-up (the path
`/webhooks/slack/webhook`, the `credentials.yml` keys `slack_token`,
`slack_signing_secret`), made safe:

- Every request is signed: `X-Slack-Signature` is `v0=` + HMAC-SHA256 of
  `v0:<timestamp>:<body>` with the signing secret, compared in constant time, and
  `X-Slack-Request-Timestamp` must be within 5 minutes (a replayed request is refused).
  Missing: 401; wrong or stale: 403.
- Slack retries an event it thinks was not acknowledged (`X-Slack-Retry-Num`), whatever
  the reason; every retry carries the same `event_id`, the inbox's key, so it is
  answered once (Rasa's processes every retry but `http_timeout` again, rasa#3882).
- The bot's own messages, edits and other subtypes are not answered.
- Buttons become a Block Kit actions block; a press comes back as `block_actions`.

A conversation is one person in the app's direct messages (`slack-<team>-<channel>-<user>`);
messages and buttons in shared channels are not answered there, where everyone reads.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbox import InboundMessage
from bot.channels.messaging import MessagingInput, MessagingOutput, Refused, Reply, clip, split_text
from bot.channels.platform_api import PlatformAPI
from core.constants import CHANNEL_SLACK
from core.errors import ConfigurationError
from core.json_body import read_json
from core.settings import Settings

REPLAY_WINDOW_SECONDS = 300
MAX_TEXT = 3000  # a section block's text
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 25  # per actions block


def slack_ok(response: Any) -> str | None:
    body = response.json() if response.content else {}
    if isinstance(body, dict) and body.get("ok") is False:
        problem = str(body.get("error") or "ok: false")
        return f"retry:{problem}" if problem in {"ratelimited", "service_unavailable"} else problem
    return None


def escape(text: str) -> str:
    """Slack's mrkdwn control characters escaped (a "<" would start a link or mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackOutput(MessagingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL_SLACK

    def recipient(self, conversation_id: str) -> str:
        # slack-<team>-<channel>-<user>
        parts = conversation_id.split("-")
        return parts[2] if len(parts) >= 4 else parts[-1]

    async def send_reply(self, recipient: str, reply: Reply) -> None:
        parts = split_text(escape(reply.text), MAX_TEXT) or [""]
        for index, part in enumerate(parts):
            body: dict[str, Any] = {"channel": recipient, "text": part or " "}
            if reply.buttons and index == len(parts) - 1:
                body["blocks"] = [
                    {"type": "section", "text": {"type": "mrkdwn", "text": part or " "}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {
                                    "type": "plain_text",
                                    "text": clip(b.title, MAX_BUTTON_TEXT),
                                },
                                "value": b.payload[:MAX_BUTTON_VALUE],
                                "action_id": f"button-{i}",
                            }
                            for i, b in enumerate(reply.buttons[:MAX_BUTTONS])
                        ],
                    },
                ]
            await self.api.call("chat.postMessage", json=body)


class SlackInput(MessagingInput):
    """Slack's Events API and interactivity requests; see the module's documentation."""

    def __init__(
        self, settings: Settings, token: str, signing_secret: str, api_url: str, **kwargs: Any
    ) -> None:
        super().__init__(settings, **kwargs)
        if not token or not signing_secret:
            raise ConfigurationError(
                "The slack channel needs SLACK_TOKEN (the bot token, xoxb-…) and "
                "SLACK_SIGNING_SECRET (Basic Information → App Credentials)."
            )
        self.token = token
        self.signing_secret = signing_secret
        self.api_url = api_url.rstrip("/")

    @classmethod
    def name(cls) -> str:
        return CHANNEL_SLACK

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        settings = Settings.load()
        values = settings.channel(CHANNEL_SLACK) or dict(settings.messaging)
        given = credentials or {}
        return cls(
            settings,
            token=str(given.get("slack_token") or values.get("SLACK_TOKEN") or ""),
            signing_secret=str(
                given.get("slack_signing_secret") or values.get("SLACK_SIGNING_SECRET") or ""
            ),
            api_url=str(values.get("SLACK_API_URL") or "https://slack.com/api"),
        )

    def make_output(self) -> SlackOutput:
        return SlackOutput(
            PlatformAPI(
                "slack",
                self.api_url,
                headers={"Authorization": f"Bearer {self.token}"},
                ok=slack_ok,
            )
        )

    def verify(self, request: Request, now: float | None = None) -> None:
        stamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if not stamp or not signature:
            raise Refused(
                401, "missing_signature", "X-Slack-Signature and its timestamp are required."
            )
        try:
            age = abs((time.time() if now is None else now) - int(stamp))
        except ValueError:
            raise Refused(
                403, "invalid_timestamp", "X-Slack-Request-Timestamp is not a number."
            ) from None
        if age > REPLAY_WINDOW_SECONDS:
            raise Refused(403, "stale_request", "The request is older than 5 minutes.")
        base = b"v0:" + stamp.encode() + b":" + (request.body or b"")
        expected = "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise Refused(403, "wrong_signature", "X-Slack-Signature does not match.")

    def parse(self, request: Request) -> list[InboundMessage] | HTTPResponse:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs((request.body or b"").decode("utf-8", "replace"))
            return self.interaction(read_json((form.get("payload") or ["{}"])[0]))
        body = read_json(request.body or b"")
        if not isinstance(body, dict):
            raise Refused(400, "invalid_event", "An Events API request is a JSON object.")
        if body.get("type") == "url_verification":
            return response.json({"challenge": str(body.get("challenge", ""))})
        if body.get("type") != "event_callback":
            return []
        event = body.get("event") or {}
        if (
            not isinstance(event, dict)
            or event.get("type") != "message"
            or event.get("channel_type") != "im"  # a reply in a channel is read by all
            or event.get("subtype")  # edits, joins, the bot's own messages
            or event.get("bot_id")
        ):
            return []
        conversation = conversation_id(body.get("team_id"), event.get("channel"), event.get("user"))
        event_id = body.get("event_id")
        if conversation is None or not isinstance(event_id, str) or not event_id:
            raise Refused(400, "invalid_event", "The event lacks its event_id, channel or user.")
        text = event.get("text")
        return [InboundMessage(event_id, conversation, text if isinstance(text, str) else "", {})]

    def interaction(self, payload: Any) -> list[InboundMessage]:
        """A button press (`block_actions`): its value is the customer's answer."""
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return []
        actions = payload.get("actions") or []
        channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get(
            "channel_id"
        )
        conversation = conversation_id(
            (payload.get("team") or {}).get("id"), channel, (payload.get("user") or {}).get("id")
        )
        if not actions or conversation is None or not isinstance(actions[0], dict):
            raise Refused(400, "invalid_interaction", "The interaction names no action or user.")
        if not str(channel).startswith("D"):
            return []  # a button under a message in a channel: only direct messages
        action = actions[0]
        key = payload.get("trigger_id") or action.get("action_ts")
        if not isinstance(key, str) or not key:
            raise Refused(400, "invalid_interaction", "The interaction has no trigger_id.")
        key = f"action:{key}"
        return [InboundMessage(key, conversation, str(action.get("value") or ""), {})]


def conversation_id(team: Any, channel: Any, user: Any) -> str | None:
    parts = [team, channel, user]
    if not all(isinstance(p, str) and p and p.isalnum() for p in parts):
        return None
    return "-".join([CHANNEL_SLACK, *parts])
