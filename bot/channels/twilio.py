"""`TwilioInput`: SMS and WhatsApp through Twilio, verified by `X-Twilio-Signature`.

Rasa's `twilio` channel, kept where it matters to a set-up (the path
`/webhooks/twilio/webhook`, the `credentials.yml` keys `account_sid`, `auth_token`,
`twilio_number`), made safe:

- Every request is signed: `X-Twilio-Signature` is base64 HMAC-SHA1, keyed with the
  auth token, of the webhook URL followed by each POST parameter's name and value in
  name order; compared in constant time. The URL is TWILIO_WEBHOOK_URL when set (behind
  a TLS proxy the URL Twilio called is not the one the server sees), else the request's.
  A request for another account is refused too. Missing: 401; wrong: 403.
- `MessageSid` is the inbox's key: a retried webhook is answered once.
- A message without `Body` (a picture alone) is answered with a note, not a 500.
- Replies go through the Messages API with httpx (Rasa's uses Twilio's blocking client
  inside the event loop). SMS and WhatsApp have no buttons: a question's options are
  numbered, and a reply of just "2" is the second option.
- **Identity**: the sender's number is as Twilio delivered it on a signed request, so it
  is proof. A sender whose number is on file for exactly one customer is that customer
  (`identity_proof: phone`): recognised, greeted with their open issue; changing their
  account still takes a one-time code.

A conversation is one number: `twilio-+15550101` (SMS) or `twilio-whatsapp:+15550101`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbox import InboundMessage, Leased
from bot.channels.messaging import (
    NUMBER_REPLY,
    MessagingInput,
    MessagingOutput,
    Refused,
    Reply,
    last_buttons,
    split_text,
    tracker_events,
)
from bot.channels.platform_api import PlatformAPI
from bot.store import SupportStore
from core.constants import (
    CHANNEL_TWILIO,
    METADATA_CUSTOMER_ID,
    METADATA_IDENTITY_PROOF,
    METADATA_IDENTITY_VERIFIED,
    PROOF_PHONE,
)
from core.errors import ConfigurationError
from core.settings import Settings

MAX_TEXT = 1600  # Twilio's limit for one message's body
MAX_BODY_BYTES = 16 * 1024  # a webhook is a few dozen short fields
MAX_FIELDS = 100
E164 = re.compile(r"\+\d{7,15}")
WHATSAPP = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's request signature of a form POST to `url`."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def numbered(reply: Reply) -> str:
    """A question's options as lines to answer with a number."""
    if not reply.buttons:
        return reply.text
    options = "\n".join(f"{i}. {b.title}" for i, b in enumerate(reply.buttons, start=1))
    return f"{reply.text}\n\n{options}\n(Reply with a number.)"


class TwilioOutput(MessagingOutput):
    def __init__(self, api: PlatformAPI, account_sid: str, number: str) -> None:
        super().__init__(api)
        self.account_sid = account_sid
        self.number = number

    @classmethod
    def name(cls) -> str:
        return CHANNEL_TWILIO

    async def send_reply(self, recipient: str, reply: Reply) -> None:
        sender = f"{WHATSAPP}{self.number}" if recipient.startswith(WHATSAPP) else self.number
        for part in split_text(numbered(reply), MAX_TEXT):
            await self.api.call(
                f"2010-04-01/Accounts/{self.account_sid}/Messages.json",
                data={"To": recipient, "From": sender, "Body": part},
            )


class TwilioInput(MessagingInput):
    """Twilio's messaging webhook (SMS and WhatsApp); see the module's documentation."""

    def __init__(
        self,
        settings: Settings,
        account_sid: str,
        auth_token: str,
        number: str,
        api_url: str,
        webhook_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        if not (account_sid and auth_token and number):
            raise ConfigurationError(
                "The twilio channel needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_NUMBER (Twilio Console → Account info, and your number in E.164)."
            )
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number.removeprefix(WHATSAPP)
        self.api_url = api_url.rstrip("/")
        self.webhook_url = webhook_url
        self._store: SupportStore | None = None

    @classmethod
    def name(cls) -> str:
        return CHANNEL_TWILIO

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioInput:
        settings = Settings.load()
        values = settings.channel(CHANNEL_TWILIO) or dict(settings.messaging)
        given = credentials or {}
        return cls(
            settings,
            account_sid=str(given.get("account_sid") or values.get("TWILIO_ACCOUNT_SID") or ""),
            auth_token=str(given.get("auth_token") or values.get("TWILIO_AUTH_TOKEN") or ""),
            number=str(given.get("twilio_number") or values.get("TWILIO_NUMBER") or ""),
            api_url=str(values.get("TWILIO_API_URL") or "https://api.twilio.com"),
            webhook_url=str(values.get("TWILIO_WEBHOOK_URL") or ""),
        )

    def make_output(self) -> TwilioOutput:
        api = PlatformAPI("twilio", self.api_url, auth=(self.account_sid, self.auth_token))
        return TwilioOutput(api, self.account_sid, self.number)

    @property
    def store(self) -> SupportStore:
        if self._store is None:
            self._store = SupportStore(self.settings.store_url)
        return self._store

    @staticmethod
    def params(request: Request) -> list[tuple[str, str]]:
        try:
            return parse_qsl(
                (request.body or b"").decode("utf-8", "replace"),
                keep_blank_values=True,
                max_num_fields=MAX_FIELDS,
            )
        except ValueError:
            raise Refused(400, "too_many_fields", "The form has too many fields.") from None

    def verify(self, request: Request) -> None:
        given = request.headers.get("X-Twilio-Signature")
        if not given:
            raise Refused(401, "missing_signature", "X-Twilio-Signature is required.")
        if len(request.body or b"") > MAX_BODY_BYTES:
            raise Refused(413, "body_too_large", f"A webhook is under {MAX_BODY_BYTES} bytes.")
        url = self.webhook_url or request.url
        expected = signature(self.auth_token, url, self.params(request))
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise Refused(
                403,
                "wrong_signature",
                "X-Twilio-Signature does not match (behind a proxy, set TWILIO_WEBHOOK_URL "
                "to the URL entered at Twilio).",
            )

    def parse(self, request: Request) -> list[InboundMessage] | HTTPResponse:
        form = dict(self.params(request))
        if form.get("AccountSid") != self.account_sid:
            raise Refused(403, "wrong_account", "The request is for another Twilio account.")
        sid = form.get("MessageSid") or form.get("SmsMessageSid")
        sender = form.get("From", "")
        if not sid or not sender:
            raise Refused(400, "invalid_message", "MessageSid and From are required.")
        return [InboundMessage(sid, f"{CHANNEL_TWILIO}-{sender}", form.get("Body", ""), {})]

    def confirm_receipt(self, request: Request) -> HTTPResponse:
        # TwiML with nothing in it: the replies go through the API, after the turn.
        return response.text(EMPTY_TWIML, content_type="text/xml")

    def identify(self, message: Leased) -> dict[str, Any]:
        phone = message.conversation_id.split("-", 1)[1].removeprefix(WHATSAPP)
        if not E164.fullmatch(phone):
            return {}  # not a phone number (a short code, a channel address): no proof
        customer = self.store.customer_by_phone(phone)
        if customer is None:
            return {}
        return {
            METADATA_CUSTOMER_ID: customer.id,
            METADATA_IDENTITY_VERIFIED: True,
            METADATA_IDENTITY_PROOF: PROOF_PHONE,
        }

    async def interpret(self, message: Leased, app: Any) -> str:
        found = NUMBER_REPLY.match(message.text)
        if found is None:
            return message.text
        buttons = last_buttons(await tracker_events(app, message.conversation_id))
        index = int(found.group(1)) - 1
        if 0 <= index < len(buttons):
            return str(buttons[index].get("payload") or buttons[index].get("title") or "")
        return message.text
