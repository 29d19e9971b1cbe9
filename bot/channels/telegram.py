"""`TelegramInput`: Telegram bots, verified by the webhook's secret token.

Rasa's `telegram` channel, kept where it matters to a set-up (the path
`/webhooks/telegram/webhook`, the `credentials.yml` keys `access_token`, `verify`,
`webhook_url`), made safe to face the internet:

- Every update must carry `X-Telegram-Bot-Api-Secret-Token`, the secret given to
  `setWebhook`; compared in constant time. Missing: 401; wrong: 403. (Rasa's checks only
  the bot's own name, with an API call per update.)
- `update_id` is the inbox's key: a redelivered update is answered once.
- Private chats only: in a group, everyone would share one conversation (and one
  customer's proof); group messages are acknowledged and not answered.
- Buttons become an inline keyboard; a press comes back as a `callback_query`, answered
  so the button stops spinning. Texts over 4,096 characters go in several messages.

Settings: TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN, TELEGRAM_API_URL (or the credentials
keys `access_token`, `secret_token`). Register the webhook with

    make telegram-webhook URL=https://your.host/webhooks/telegram/webhook
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import re
import sys
from typing import Any

from sanic.request import Request

from bot.channels.inbox import InboundMessage, Leased
from bot.channels.messaging import (
    MessagingInput,
    MessagingOutput,
    Refused,
    Reply,
    clip,
    split_text,
)
from bot.channels.platform_api import DeliveryFailed, PlatformAPI
from core.constants import CHANNEL_TELEGRAM
from core.errors import ConfigurationError
from core.json_body import read_json
from core.settings import Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64  # bytes
MAX_BUTTON_TEXT = 64
BUTTONS_PER_ROW = 2
ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramOutput(MessagingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL_TELEGRAM

    def __init__(self, api: PlatformAPI) -> None:
        super().__init__(api)

    async def send_reply(self, recipient: str, reply: Reply) -> None:
        parts = split_text(reply.text, MAX_TEXT) or [""]
        for index, part in enumerate(parts):
            body: dict[str, Any] = {"chat_id": recipient, "text": part or "…"}
            if reply.buttons and index == len(parts) - 1:
                keys = [
                    {"text": clip(b.title, MAX_BUTTON_TEXT), "callback_data": callback_data(b)}
                    for b in reply.buttons
                ]
                body["reply_markup"] = {
                    "inline_keyboard": [
                        keys[i : i + BUTTONS_PER_ROW] for i in range(0, len(keys), BUTTONS_PER_ROW)
                    ]
                }
            await self.api.call("sendMessage", json=body)


def callback_data(button: Any) -> str:
    """The button's payload, or its title when the payload is over Telegram's 64 bytes
    (the title is what the customer would type)."""
    if len(button.payload.encode("utf-8")) <= MAX_CALLBACK_DATA:
        return str(button.payload)
    title = str(button.title)
    while len(title.encode("utf-8")) > MAX_CALLBACK_DATA:
        title = title[:-1]
    return title


def telegram_ok(response: Any) -> str | None:
    body = response.json() if response.content else {}
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("description") or "ok: false")
    return None


class TelegramInput(MessagingInput):
    """Telegram's webhook; see the module's documentation."""

    def __init__(
        self, settings: Settings, token: str, secret_token: str, api_url: str, **kwargs: Any
    ) -> None:
        super().__init__(settings, **kwargs)
        if not token:
            raise ConfigurationError(
                "The telegram channel needs TELEGRAM_TOKEN (the bot token from @BotFather)."
            )
        if not SECRET_TOKEN.fullmatch(secret_token or ""):
            raise ConfigurationError(
                "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -: "
                "Telegram sends it with every update, and updates without it are refused. "
                "Make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        self.token = token
        self.secret_token = secret_token
        self.api_url = api_url.rstrip("/")

    @classmethod
    def name(cls) -> str:
        return CHANNEL_TELEGRAM

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        settings = Settings.load()
        values = settings.channel(CHANNEL_TELEGRAM) or dict(settings.messaging)
        given = credentials or {}
        return cls(
            settings,
            token=str(given.get("access_token") or values.get("TELEGRAM_TOKEN") or ""),
            secret_token=str(
                given.get("secret_token") or values.get("TELEGRAM_SECRET_TOKEN") or ""
            ),
            api_url=str(values.get("TELEGRAM_API_URL") or "https://api.telegram.org"),
        )

    def make_output(self) -> TelegramOutput:
        return TelegramOutput(self.bot_api())

    def bot_api(self) -> PlatformAPI:
        return PlatformAPI("telegram", f"{self.api_url}/bot{self.token}", ok=telegram_ok)

    def verify(self, request: Request) -> None:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            raise Refused(401, "missing_secret_token", f"{SECRET_HEADER} is missing.")
        if not hmac.compare_digest(given.encode("utf-8"), self.secret_token.encode("utf-8")):
            raise Refused(403, "wrong_secret_token", f"{SECRET_HEADER} does not match.")

    def parse(self, request: Request) -> list[InboundMessage]:
        update = read_json(request.body or b"")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise Refused(400, "invalid_update", "An update is an object with an update_id.")
        external_id = str(update["update_id"])
        message = update.get("message")
        query = update.get("callback_query")
        if isinstance(query, dict):
            if ((query.get("message") or {}).get("chat") or {}).get("type") != "private":
                return []
            chat = ((query.get("message") or {}).get("chat") or {}).get("id")
            text = query.get("data")
            metadata = {"callback_query_id": str(query.get("id") or "")}
        elif isinstance(message, dict):
            if (message.get("chat") or {}).get("type") != "private":
                return []  # a group shares one chat: support talks to one person at a time
            chat = (message.get("chat") or {}).get("id")
            text = message.get("text") if "text" in message else message.get("caption")
            metadata = {}
        else:
            return []  # edits, channel posts, member changes: nothing to answer
        if not isinstance(chat, int):
            raise Refused(400, "invalid_update", "The update's message has no chat id.")
        return [
            InboundMessage(
                external_id,
                f"{CHANNEL_TELEGRAM}-{chat}",
                text if isinstance(text, str) else "",
                metadata,
            )
        ]

    async def interpret(self, message: Leased, app: Any) -> str:
        query_id = message.metadata.get("callback_query_id")
        if query_id:
            # Stops the pressed button's spinner; the answer itself comes as a message.
            await self.answer_callback(str(query_id))
        return message.text

    async def answer_callback(self, query_id: str) -> None:
        output = self.get_output_channel()
        assert isinstance(output, TelegramOutput)
        try:
            await output.api.call(
                "answerCallbackQuery", json={"callback_query_id": query_id}, what="button answer"
            )
        except DeliveryFailed as e:
            logger.warning("telegram: %s", e)


async def set_webhook(settings: Settings, url: str, drop_pending: bool = False) -> dict[str, Any]:
    """Register `url` as the bot's webhook, with the secret token Telegram will send."""
    channel = TelegramInput.from_credentials(None)
    api = channel.bot_api()
    try:
        return await api.call(
            "setWebhook",
            json={
                "url": url,
                "secret_token": channel.secret_token,
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": drop_pending,
            },
            what="webhook registration",
        )
    finally:
        await api.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.telegram",
        description="Register the Telegram webhook with the secret token (setWebhook).",
    )
    parser.add_argument("url", help="public HTTPS URL of /webhooks/telegram/webhook")
    parser.add_argument("--drop-pending", action="store_true", help="drop waiting updates")
    options = parser.parse_args(argv)
    if not options.url.startswith("https://"):
        print("error: Telegram sends updates to https:// URLs only.", file=sys.stderr)
        return 2
    try:
        answer = asyncio.run(set_webhook(Settings.load(), options.url, options.drop_pending))
    except (ConfigurationError, DeliveryFailed) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"Webhook set to {options.url}: {answer.get('description', answer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
