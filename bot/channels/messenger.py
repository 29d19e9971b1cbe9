"""`MessengerInput`: Facebook Messenger, verified by `X-Hub-Signature-256`.

Rasa's `facebook` channel, kept where it matters to a set-up (the path
`/webhooks/facebook/webhook`, the `credentials.yml` keys `verify`, `secret`,
`page-access-token`), made safe:

- Every delivery must carry `X-Hub-Signature-256`: `sha256=` + HMAC-SHA256 of the raw
  body with the app secret, compared in constant time. Missing (a SHA-1 `X-Hub-Signature`
  alone does not count): 401; wrong: 403. Rasa's checks only SHA-1, not in constant time,
  and answers 200 when the check fails.
- A delivery may batch several entries and messages: all of them are stored, in one
  transaction, each under its `mid` (a postback without one under its sender and time),
  so a redelivery is answered once and nothing after the first message is dropped.
- The subscription check (GET with `hub.verify_token`) answers the challenge only for
  MESSENGER_VERIFY_TOKEN.
- Buttons become quick replies (at most 13, titles of 20 characters); texts over 2,000
  characters go in several messages.

A conversation is one person on the page: `facebook-<page-scoped id>`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbox import InboundMessage
from bot.channels.messaging import (
    MessagingInput,
    MessagingOutput,
    Refused,
    Reply,
    clip,
    error,
    split_text,
)
from bot.channels.platform_api import PlatformAPI
from core.constants import CHANNEL_MESSENGER
from core.errors import ConfigurationError
from core.json_body import read_json
from core.settings import Settings

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000
SIGNATURE_HEADER = "X-Hub-Signature-256"


class MessengerOutput(MessagingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL_MESSENGER

    async def send_reply(self, recipient: str, reply: Reply) -> None:
        parts = split_text(reply.text, MAX_TEXT) or [""]
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part or "…"}
            if reply.buttons and index == len(parts) - 1:
                message["quick_replies"] = [
                    {
                        "content_type": "text",
                        "title": clip(b.title, MAX_QUICK_REPLY_TITLE),
                        "payload": b.payload[:MAX_QUICK_REPLY_PAYLOAD],
                    }
                    for b in reply.buttons[:MAX_QUICK_REPLIES]
                ]
            body: dict[str, Any] = {"recipient": {"id": recipient}, "message": message}
            if reply.from_agent:
                # A person's reply may come after Messenger's 24-hour window for a page's
                # answers; the HUMAN_AGENT tag gives it 7 days.
                body.update({"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})
            else:
                body["messaging_type"] = "RESPONSE"
            await self.api.call("me/messages", json=body)


class MessengerInput(MessagingInput):
    """Messenger's webhook; see the module's documentation."""

    def __init__(
        self,
        settings: Settings,
        page_token: str,
        app_secret: str,
        verify_token: str,
        api_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        if not (page_token and app_secret and verify_token):
            raise ConfigurationError(
                "The facebook (Messenger) channel needs MESSENGER_PAGE_TOKEN, "
                "MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN (docs/channels.md)."
            )
        self.page_token = page_token
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.api_url = api_url.rstrip("/")

    @classmethod
    def name(cls) -> str:
        return CHANNEL_MESSENGER

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MessengerInput:
        settings = Settings.load()
        values = settings.channel(CHANNEL_MESSENGER) or dict(settings.messaging)
        given = credentials or {}
        return cls(
            settings,
            page_token=str(
                given.get("page-access-token") or values.get("MESSENGER_PAGE_TOKEN") or ""
            ),
            app_secret=str(given.get("secret") or values.get("MESSENGER_APP_SECRET") or ""),
            verify_token=str(given.get("verify") or values.get("MESSENGER_VERIFY_TOKEN") or ""),
            api_url=str(values.get("MESSENGER_API_URL") or "https://graph.facebook.com/v18.0"),
        )

    def make_output(self) -> MessengerOutput:
        api = PlatformAPI(
            "messenger", self.api_url, headers={"Authorization": f"Bearer {self.page_token}"}
        )
        return MessengerOutput(api)

    def subscription(self, request: Request) -> HTTPResponse:
        given = request.args.get("hub.verify_token") or ""
        if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
            given.encode("utf-8"), self.verify_token.encode("utf-8")
        ):
            return response.text(str(request.args.get("hub.challenge") or ""))
        return error(403, "wrong_verify_token", "hub.verify_token does not match.")

    def verify(self, request: Request) -> None:
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise Refused(401, "missing_signature", f"{SIGNATURE_HEADER} is required.")
        digest = hmac.new(self.app_secret.encode(), request.body or b"", hashlib.sha256)
        expected = "sha256=" + digest.hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise Refused(403, "wrong_signature", f"{SIGNATURE_HEADER} does not match.")

    def parse(self, request: Request) -> list[InboundMessage]:
        body = read_json(request.body or b"")
        if not isinstance(body, dict) or body.get("object") != "page":
            return []
        messages: list[InboundMessage] = []
        for entry in body.get("entry") or []:
            for item in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
                parsed = self.item(item)
                if parsed is not None:
                    messages.append(parsed)
        return messages

    @staticmethod
    def item(item: Any) -> InboundMessage | None:
        """One `messaging` item as a customer message; None for echoes, deliveries, reads."""
        if not isinstance(item, dict):
            return None
        sender = (item.get("sender") or {}).get("id")
        if not isinstance(sender, str) or (not sender.isdigit() and not sender.isalnum()):
            return None
        conversation = f"{CHANNEL_MESSENGER}-{sender}"
        message = item.get("message")
        postback = item.get("postback")
        if isinstance(message, dict) and not message.get("is_echo"):
            mid = message.get("mid")
            if not isinstance(mid, str) or not mid:
                return None
            quick = message.get("quick_reply") or {}
            text = quick.get("payload") if isinstance(quick, dict) else None
            text = text or message.get("text")
            return InboundMessage(mid, conversation, text if isinstance(text, str) else "", {})
        if isinstance(postback, dict):
            key = postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}"
            text = postback.get("payload") or postback.get("title")
            return InboundMessage(str(key), conversation, text if isinstance(text, str) else "", {})
        return None
