"""The fake platforms themselves: signatures against the platforms' documented examples,
the documented answers, refusals and limits, injected failures, waiting, threads.

The signatures are checked here with hmac directly, not with the fakes' own helpers, so a
mistake in a fake's signing cannot hide behind itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.channels.fake_platforms import (
    FakeMessenger,
    FakeSlack,
    FakeTelegram,
    FakeTwilio,
    WebhookRecorder,
)

TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SLACK_TOKEN = "xoxb-1111-2222-fake"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token"
PAGE_TOKEN = "EAAfakepagetoken"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TELEGRAM_TOKEN) as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(SLACK_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
def messenger() -> Iterator[FakeMessenger]:
    with FakeMessenger(PAGE_TOKEN) as fake:
        yield fake


@pytest.fixture
def webhook() -> Iterator[WebhookRecorder]:
    with WebhookRecorder() as fake:
        yield fake


def hmac_hex(key: str, body: bytes, digest: Any) -> str:
    return hmac.new(key.encode(), body, digest).hexdigest()


# --- documented signature examples ------------------------------------------------------
def test_twilio_signature_matches_the_documented_example() -> None:
    # https://www.twilio.com/docs/usage/webhooks/webhooks-security
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    expected = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    data = url + "".join(k + params[k] for k in sorted(params))
    by_hand = base64.b64encode(hmac.new(b"12345", data.encode(), hashlib.sha1).digest()).decode()
    assert by_hand == expected
    assert FakeTwilio.signature("12345", url, params) == expected


SLACK_DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_DOC_TIMESTAMP = 1531420618
# https://api.slack.com/authentication/verifying-requests-from-slack (the slash command
# there is /webhook-collect).
SLACK_DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_signature_matches_the_documented_example(webhook: WebhookRecorder) -> None:
    basestring = f"v0:{SLACK_DOC_TIMESTAMP}:{SLACK_DOC_BODY}".encode()
    assert "v0=" + hmac_hex(SLACK_DOC_SECRET, basestring, hashlib.sha256) == SLACK_DOC_SIGNATURE
    assert (
        FakeSlack.signature(SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP, SLACK_DOC_BODY)
        == SLACK_DOC_SIGNATURE
    )
    response = FakeSlack.deliver(
        f"{webhook.url}/slack/commands",
        SLACK_DOC_BODY,
        SLACK_DOC_SECRET,
        timestamp=SLACK_DOC_TIMESTAMP,
        form=True,
    )
    assert response.status_code == 200
    [got] = webhook.calls("/slack/commands")
    assert got.body == SLACK_DOC_BODY.encode()
    assert got.headers["x-slack-signature"] == SLACK_DOC_SIGNATURE
    assert got.headers["x-slack-request-timestamp"] == str(SLACK_DOC_TIMESTAMP)
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.form is not None and got.form["command"] == "/webhook-collect"


# --- deliveries -------------------------------------------------------------------------
def test_slack_deliver_signs_the_raw_json_body_and_marks_retries(
    slack: FakeSlack, webhook: WebhookRecorder
) -> None:
    event = slack.event("where is my order? ✨")
    FakeSlack.deliver(f"{webhook.url}/events", event, "secret", retry_num=1)
    FakeSlack.deliver(f"{webhook.url}/events", event, None)
    signed, unsigned = webhook.calls("/events")
    stamp = signed.headers["x-slack-request-timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    expected = "v0=" + hmac_hex("secret", f"v0:{stamp}:".encode() + signed.body, hashlib.sha256)
    assert signed.headers["x-slack-signature"] == expected
    assert signed.json == event
    assert signed.headers["x-slack-retry-num"] == "1"
    assert signed.headers["x-slack-retry-reason"] == "http_timeout"
    assert "x-slack-signature" not in unsigned.headers
    assert "x-slack-retry-num" not in unsigned.headers


def test_slack_interaction_goes_as_a_form_payload_field(
    slack: FakeSlack, webhook: WebhookRecorder
) -> None:
    payload = slack.interaction("order_status", channel="D0999", user="U0777")
    FakeSlack.deliver(f"{webhook.url}/actions", payload, "secret", timestamp=1700000000, form=True)
    [got] = webhook.calls("/actions")
    assert got.form is not None
    sent = json.loads(got.form["payload"])
    assert sent["type"] == "block_actions"
    assert sent["actions"][0]["value"] == "order_status"
    assert sent["actions"][0]["type"] == "button"
    assert sent["user"]["id"] == "U0777"
    assert sent["channel"]["id"] == sent["container"]["channel_id"] == "D0999"
    assert got.headers["x-slack-signature"] == "v0=" + hmac_hex(
        "secret", b"v0:1700000000:" + got.body, hashlib.sha256
    )


def test_slack_events_have_unique_ids(slack: FakeSlack) -> None:
    events = [slack.event("hi") for _ in range(50)]
    assert len({e["event_id"] for e in events}) == 50
    assert all(e["event_id"].startswith("Ev") for e in events)
    assert len({e["event"]["ts"] for e in events}) == 50
    assert events[0]["type"] == "event_callback"
    assert events[0]["event"]["type"] == "message"
    assert slack.event("x", event_id="EvFIXED")["event_id"] == "EvFIXED"


def test_twilio_deliver_signs_form_params_over_the_url(
    twilio: FakeTwilio, webhook: WebhookRecorder
) -> None:
    params = twilio.inbound("hola", from_="whatsapp:+15550101", to="whatsapp:+15559999")
    assert params["MessageSid"].startswith("SM") and len(params["MessageSid"]) == 34
    assert params["AccountSid"] == TWILIO_SID
    assert params["NumMedia"] == "0" and params["WaId"] == "15550101"
    url = f"{webhook.url}/webhooks/twilio/webhook"
    FakeTwilio.deliver(url, params, TWILIO_TOKEN)
    public = "https://bot.example.com/webhooks/twilio/webhook"
    FakeTwilio.deliver(url, params, TWILIO_TOKEN, signed_url=public)
    FakeTwilio.deliver(url, params, None)
    direct, proxied, unsigned = webhook.calls("/webhooks/twilio/webhook")
    assert direct.form == params
    for got, signed_url in ((direct, url), (proxied, public)):
        data = signed_url + "".join(k + v for k, v in sorted(params.items()))
        digest = hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
        assert got.headers["x-twilio-signature"] == base64.b64encode(digest).decode()
    assert "x-twilio-signature" not in unsigned.headers


def test_messenger_deliver_signs_the_raw_body_both_ways(
    messenger: FakeMessenger, webhook: WebhookRecorder
) -> None:
    payload = messenger.delivery(messenger.entry("olá"), messenger.postback("YES"))
    FakeMessenger.deliver(f"{webhook.url}/fb", payload, "app-secret")
    FakeMessenger.deliver(f"{webhook.url}/fb", payload, "app-secret", sha1_only=True)
    FakeMessenger.deliver(f"{webhook.url}/fb", payload, None)
    both, sha1, unsigned = webhook.calls("/fb")
    assert both.json == payload
    assert b"ol\\u00e1" in both.body  # sent escaped, as Meta does; signed as sent
    assert both.headers["x-hub-signature-256"] == "sha256=" + hmac_hex(
        "app-secret", both.body, hashlib.sha256
    )
    assert both.headers["x-hub-signature"] == "sha1=" + hmac_hex(
        "app-secret", both.body, hashlib.sha1
    )
    assert "x-hub-signature-256" not in sha1.headers
    assert sha1.headers["x-hub-signature"] == both.headers["x-hub-signature"]
    assert "x-hub-signature" not in unsigned.headers


def test_messenger_delivery_batches_entries(messenger: FakeMessenger) -> None:
    items = [messenger.entry("a", psid="P1"), messenger.quick_reply("QR", psid="P2")]
    separate = messenger.delivery(*items)
    assert separate["object"] == "page"
    assert [e["messaging"] for e in separate["entry"]] == [[items[0]], [items[1]]]
    assert all(e["id"] == "PAGE1" for e in separate["entry"])
    together = messenger.delivery(*items, page_id="PAGE9", one_entry=True)
    assert [(e["id"], e["messaging"]) for e in together["entry"]] == [("PAGE9", items)]
    assert items[0]["message"]["mid"] != items[1]["message"]["mid"]
    assert items[1]["message"]["quick_reply"] == {"payload": "QR"}
    assert messenger.postback("P", title="No")["postback"]["title"] == "No"


def test_messenger_verify_subscription_sends_the_hub_parameters(webhook: WebhookRecorder) -> None:
    FakeMessenger.verify_subscription(f"{webhook.url}/fb", "verify-me", challenge="42")
    [got] = webhook.calls("/fb")
    assert got.method == "GET"
    assert got.query == {
        "hub.mode": ["subscribe"],
        "hub.verify_token": ["verify-me"],
        "hub.challenge": ["42"],
    }


def test_telegram_deliver_sends_the_secret_token_header(
    telegram: FakeTelegram, webhook: WebhookRecorder
) -> None:
    update = telegram.update("/start")
    FakeTelegram.deliver(f"{webhook.url}/tg", update, "s3cret")
    FakeTelegram.deliver(f"{webhook.url}/tg", telegram.update("hi"), None)
    secret, bare = webhook.calls("/tg")
    assert secret.headers["x-telegram-bot-api-secret-token"] == "s3cret"
    assert "x-telegram-bot-api-secret-token" not in bare.headers
    assert secret.json == update
    assert update["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert bare.json is not None and bare.json["update_id"] == update["update_id"] + 1


# --- Telegram API -----------------------------------------------------------------------
def test_telegram_send_message(telegram: FakeTelegram, client: httpx.Client) -> None:
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}"
    first = client.post(f"{api}/sendMessage", json={"chat_id": 42, "text": "hi"}).json()
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    second = client.post(
        f"{api}/sendMessage",
        data={"chat_id": "42", "text": "pick", "reply_markup": json.dumps(markup)},
    ).json()
    assert first["ok"] is True
    assert first["result"]["chat"]["id"] == 42 and first["result"]["text"] == "hi"
    assert second["result"]["message_id"] > first["result"]["message_id"]
    assert second["result"]["reply_markup"] == markup
    assert [m["text"] for m in telegram.sent_messages(42)] == ["hi", "pick"]
    assert telegram.sent_messages("42")[1]["reply_markup"] == markup  # decoded
    assert telegram.sent_messages(43) == []
    assert len(telegram.calls("sendmessage")) == 2  # method names are case-insensitive


def test_telegram_refusals(telegram: FakeTelegram, client: httpx.Client) -> None:
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}"

    def send(url: str, **body: Any) -> tuple[int, Any]:
        response = client.post(url, json=body)
        return response.status_code, response.json()

    assert send(f"{telegram.api_url}/bot1:WRONG/sendMessage", chat_id=1, text="x") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert send(f"{api}/sendPigeon", chat_id=1) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert send(f"{api}/sendMessage", chat_id=1, text="x" * 4097) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
    )
    assert send(f"{api}/sendMessage", chat_id=1, text="x" * 4096)[0] == 200
    assert send(f"{api}/sendMessage", chat_id=1, text="")[1]["description"] == (
        "Bad Request: message text is empty"
    )
    assert send(f"{api}/sendMessage", text="x")[1]["description"] == (
        "Bad Request: chat_id is empty"
    )
    long_data = {"inline_keyboard": [[{"text": "Go", "callback_data": "x" * 65}]]}
    assert send(f"{api}/sendMessage", chat_id=1, text="x", reply_markup=long_data)[1][
        "description"
    ] == ("Bad Request: BUTTON_DATA_INVALID")
    assert send(f"{api}/sendChatAction", chat_id=1, action="dancing")[0] == 400
    assert send(f"{api}/sendChatAction", chat_id=1, action="typing") == (
        200,
        {"ok": True, "result": True},
    )
    assert [m["text"] for m in telegram.sent_messages(1)] == ["x" * 4096]
    assert [r.accepted for r in telegram.calls("sendMessage")] == [False] * 2 + [True] + [False] * 3


def test_telegram_webhook_methods(telegram: FakeTelegram, client: httpx.Client) -> None:
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}"
    assert client.get(f"{api}/getWebhookInfo").json()["result"]["url"] == ""
    refused = client.post(f"{api}/setWebhook", json={"url": "http://127.0.0.1:5005/hook"})
    assert refused.status_code == 400
    assert "HTTPS URL must be provided" in refused.json()["description"]
    url = "https://bot.example.com/webhooks/telegram/webhook"
    answer = client.post(f"{api}/setWebhook", data={"url": url, "secret_token": "s3cret"}).json()
    assert answer == {"ok": True, "result": True, "description": "Webhook was set"}
    assert telegram.webhook is not None and telegram.webhook["secret_token"] == "s3cret"
    assert client.get(f"{api}/getWebhookInfo").json()["result"]["url"] == url
    assert client.post(f"{api}/deleteWebhook").json()["description"] == "Webhook was deleted"
    assert telegram.webhook is None
    me = client.get(f"{api}/getMe").json()["result"]
    assert me["id"] == 123456 and me["is_bot"] is True


def test_telegram_callback_query_flow(telegram: FakeTelegram, client: httpx.Client) -> None:
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    sent = client.post(
        f"{api}/sendMessage", json={"chat_id": 7, "text": "ok?", "reply_markup": markup}
    ).json()["result"]
    update = telegram.callback_update("yes", chat_id=7, user_id=7)
    query = update["callback_query"]
    assert query["data"] == "yes"
    assert query["message"]["message_id"] == sent["message_id"]
    assert query["message"]["reply_markup"] == markup
    answered = client.post(f"{api}/answerCallbackQuery", json={"callback_query_id": query["id"]})
    assert answered.json() == {"ok": True, "result": True}
    unknown = client.post(f"{api}/answerCallbackQuery", json={"callback_query_id": "1"})
    assert unknown.status_code == 400
    edit = {"chat_id": 7, "message_id": sent["message_id"]}
    edited = client.post(f"{api}/editMessageReplyMarkup", json=edit).json()
    assert edited["ok"] is True and "reply_markup" not in edited["result"]
    again = client.post(f"{api}/editMessageReplyMarkup", json=edit)
    assert again.status_code == 400
    assert again.json()["description"].startswith("Bad Request: message is not modified")
    missing = client.post(f"{api}/editMessageReplyMarkup", json={"chat_id": 7, "message_id": 999})
    assert missing.json()["description"] == "Bad Request: message to edit not found"


# --- Slack API --------------------------------------------------------------------------
def test_slack_post_message(slack: FakeSlack, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {SLACK_TOKEN}"}
    url = f"{slack.api_url}/chat.postMessage"
    first = client.post(url, json={"channel": "D0123", "text": "hi"}, headers=auth).json()
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    second = client.post(
        url,
        data={"channel": "D0123", "blocks": json.dumps(blocks), "token": SLACK_TOKEN},
    ).json()
    assert first["ok"] is True and first["channel"] == "D0123"
    assert first["message"]["text"] == "hi" and first["message"]["ts"] == first["ts"]
    assert first["ts"].endswith(".000100")
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["blocks"] == blocks
    assert [m.get("text") for m in slack.sent_messages("D0123")] == ["hi", None]
    assert slack.sent_messages("D0123")[1]["blocks"] == blocks
    assert slack.sent_messages("C9") == []
    test = client.post(f"{slack.api_url}/auth.test", headers=auth).json()
    assert test["ok"] is True and test["user_id"] == slack.bot_user_id


def test_slack_refusals(slack: FakeSlack, client: httpx.Client) -> None:
    url = f"{slack.api_url}/chat.postMessage"
    good = {"Authorization": f"Bearer {SLACK_TOKEN}"}

    def post(body: dict[str, Any], headers: dict[str, str], to: str = url) -> tuple[int, Any]:
        response = client.post(to, json=body, headers=headers)
        return response.status_code, response.json()

    message = {"channel": "D0123", "text": "hi"}
    wrong = {"Authorization": "Bearer xoxb-wrong"}
    assert post(message, wrong) == (200, {"ok": False, "error": "invalid_auth"})
    assert post(message, {}) == (200, {"ok": False, "error": "not_authed"})
    assert post({"channel": "D0123"}, good) == (200, {"ok": False, "error": "no_text"})
    assert post({"text": "hi"}, good) == (200, {"ok": False, "error": "channel_not_found"})
    too_long = {"channel": "D0123", "text": "x" * 40_001}
    assert post(too_long, good) == (200, {"ok": False, "error": "msg_too_long"})
    assert post({}, good, f"{slack.api_url}/chat.flyKite")[0] == 404
    assert slack.sent_messages("D0123") == []
    assert len(slack.calls("chat.postMessage")) == 5


def test_slack_response_url_is_served(slack: FakeSlack, client: httpx.Client) -> None:
    payload = slack.interaction("yes")
    answer = client.post(payload["response_url"], json={"text": "Thanks!"})
    assert answer.json() == {"ok": True}
    [call] = slack.calls("response_url")
    assert call.params == {"text": "Thanks!"}


# --- Twilio API -------------------------------------------------------------------------
def test_twilio_create_message(twilio: FakeTwilio, client: httpx.Client) -> None:
    url = f"{twilio.api_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    response = client.post(
        url,
        data={"To": "+15550101", "From": "+15559999", "Body": "Your order shipped"},
        auth=(TWILIO_SID, TWILIO_TOKEN),
    )
    assert response.status_code == 201
    message = response.json()
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34
    int(message["sid"][2:], 16)
    assert message["status"] == "queued"
    assert (message["to"], message["from"], message["body"]) == (
        "+15550101",
        "+15559999",
        "Your order shipped",
    )
    assert message["account_sid"] == TWILIO_SID
    assert twilio.sent_messages("+15550101") == [
        {"To": "+15550101", "From": "+15559999", "Body": "Your order shipped"}
    ]
    assert len(twilio.calls("Messages")) == 1


def test_twilio_refusals(twilio: FakeTwilio, client: httpx.Client) -> None:
    url = f"{twilio.api_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    auth = (TWILIO_SID, TWILIO_TOKEN)
    ok = {"To": "+15550101", "From": "+15559999", "Body": "hi"}

    def post(data: dict[str, str], auth: tuple[str, str] = auth) -> tuple[int, int | None]:
        response = client.post(url, data=data, auth=auth)
        return response.status_code, response.json().get("code")

    bad = client.post(url, data=ok, auth=(TWILIO_SID, "wrong"))
    assert (bad.status_code, bad.json()) == (
        401,
        {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
    )
    assert client.post(url, data=ok).status_code == 401
    assert post({"From": "+15559999", "Body": "hi"}) == (400, 21604)
    assert post({"To": "+15550101", "From": "+15559999"}) == (400, 21602)
    too_long = client.post(url, data={**ok, "Body": "x" * 1601}, auth=auth).json()
    assert too_long["code"] == 21617
    assert too_long["message"] == "The concatenated message body exceeds the 1600 character limit"
    assert post({**ok, "Body": "x" * 1600}) == (201, None)  # at the limit: accepted
    assert post({**ok, "To": "whatsapp:+15550101"}) == (400, 21910)
    json_body = client.post(url, json=ok, auth=auth)  # Twilio reads form parameters only
    assert (json_body.status_code, json_body.json()["code"]) == (400, 21604)
    assert [m["Body"] for m in twilio.sent_messages("+15550101")] == ["x" * 1600]


# --- Messenger API ----------------------------------------------------------------------
def test_messenger_send(messenger: FakeMessenger, client: httpx.Client) -> None:
    url = f"{messenger.api_url}/me/messages"
    body = {
        "recipient": {"id": "PSID1"},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Pick one",
            "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "YES"}],
        },
    }
    sent = client.post(url, params={"access_token": PAGE_TOKEN}, json=body).json()
    assert sent["recipient_id"] == "PSID1" and sent["message_id"].startswith("m_")
    bearer = {"Authorization": f"Bearer {PAGE_TOKEN}"}
    other = client.post(url, headers=bearer, json=body).json()
    assert other["message_id"] != sent["message_id"]
    typing = client.post(
        url,
        params={"access_token": PAGE_TOKEN},
        json={"recipient": {"id": "PSID1"}, "sender_action": "typing_on"},
    )
    assert typing.json() == {"recipient_id": "PSID1"}
    assert messenger.sent_messages("PSID1") == [body, body]
    assert messenger.sent_messages("PSID2") == []
    assert len(messenger.calls("messages")) == 3


def test_messenger_refusals(messenger: FakeMessenger, client: httpx.Client) -> None:
    url = f"{messenger.api_url}/me/messages"
    token = {"access_token": PAGE_TOKEN}

    def send(message: dict[str, Any], params: dict[str, str] = token) -> tuple[int, Any]:
        body = {"recipient": {"id": "PSID1"}, "message": message}
        response = client.post(url, params=params, json=body)
        return response.status_code, response.json().get("error")

    status, error = send({"text": "hi"}, {"access_token": "nope"})
    assert (status, error["code"], error["type"]) == (400, 190, "OAuthException")
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    status, error = send({"text": "x" * 2001})
    assert (status, error["code"]) == (400, 100)
    assert error["message"] == (
        "(#100) Length of param message[text] must be less than or equal to 2000"
    )
    replies = [{"content_type": "text", "title": f"R{i}", "payload": str(i)} for i in range(14)]
    assert send({"text": "pick", "quick_replies": replies})[1]["code"] == 100
    assert send({"text": "pick", "quick_replies": replies[:13]}) == (200, None)
    assert send({"text": "x" * 2000}) == (200, None)
    assert [m["message"]["text"] for m in messenger.sent_messages("PSID1")] == [
        "pick",
        "x" * 2000,
    ]


# --- shared behaviour -------------------------------------------------------------------
def test_fail_next_answers_429_with_retry_after_then_succeeds(
    slack: FakeSlack, telegram: FakeTelegram, client: httpx.Client
) -> None:
    slack.fail_next(429, retry_after=3)
    url = f"{slack.api_url}/chat.postMessage"
    auth = {"Authorization": f"Bearer {SLACK_TOKEN}"}
    limited = client.post(url, json={"channel": "D1", "text": "hi"}, headers=auth)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert client.post(url, json={"channel": "D1", "text": "hi"}, headers=auth).json()["ok"]
    assert [(r.status, r.accepted) for r in slack.calls("chat.postMessage")] == [
        (429, False),
        (200, True),
    ]
    assert len(slack.sent_messages("D1")) == 1

    telegram.fail_next(429, retry_after=2)
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}/sendMessage"
    answer = client.post(api, json={"chat_id": 1, "text": "hi"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "2"
    assert answer.json()["parameters"] == {"retry_after": 2}
    assert client.post(api, json={"chat_id": 1, "text": "hi"}).json()["ok"] is True


def test_fail_next_many_times_with_503(
    twilio: FakeTwilio, messenger: FakeMessenger, client: httpx.Client
) -> None:
    twilio.fail_next(503, times=2)
    url = f"{twilio.api_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    data = {"To": "+1", "From": "+2", "Body": "hi"}
    statuses = [
        client.post(url, data=data, auth=(TWILIO_SID, TWILIO_TOKEN)).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 201]
    assert "retry-after" not in {
        k.lower() for k in client.post(url, data=data, auth=(TWILIO_SID, "x")).headers
    }
    assert len(twilio.sent_messages("+1")) == 1

    messenger.fail_next(500)
    body = {"recipient": {"id": "P"}, "message": {"text": "hi"}}
    failed = client.post(f"{messenger.api_url}/me/messages?access_token={PAGE_TOKEN}", json=body)
    assert failed.status_code == 500 and failed.json()["error"]["code"] == 2
    with pytest.raises(ValueError):
        messenger.fail_next(200)


def test_telegram_server_errors_look_like_a_proxy_page(
    telegram: FakeTelegram, client: httpx.Client
) -> None:
    telegram.fail_next(502)
    answer = client.get(f"{telegram.api_url}/bot{TELEGRAM_TOKEN}/getMe")
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "text/html"
    assert "502 Bad Gateway" in answer.text


def test_wait_for_calls_returns_or_times_out_clearly(
    telegram: FakeTelegram, client: httpx.Client
) -> None:
    api = f"{telegram.api_url}/bot{TELEGRAM_TOKEN}"

    def send_later() -> None:
        time.sleep(0.1)
        client.post(f"{api}/sendMessage", json={"chat_id": 5, "text": "late"})

    thread = threading.Thread(target=send_later)
    thread.start()
    [call] = telegram.wait_for_calls("sendMessage", timeout=5)
    thread.join()
    assert call.params is not None and call.params["text"] == "late"

    client.get(f"{api}/getMe")
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        telegram.wait_for_calls("sendMessage", count=2, timeout=0.2)
    assert time.monotonic() - started < 2
    message = str(failure.value)
    assert "waited 0.2s for 2 'sendMessage' call(s), got 1" in message
    assert "(getMe) -> 200" in message


def test_concurrent_calls_are_all_recorded(messenger: FakeMessenger, client: httpx.Client) -> None:
    url = f"{messenger.api_url}/me/messages?access_token={PAGE_TOKEN}"
    ids: list[str] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        body = {"recipient": {"id": f"P{i % 3}"}, "message": {"text": str(i)}}
        message_id = client.post(url, json=body).json()["message_id"]
        with lock:
            ids.append(message_id)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 40
    assert len(messenger.wait_for_calls("messages", 40, timeout=1)) == 40
    assert sum(len(messenger.sent_messages(f"P{i}")) for i in range(3)) == 40


def test_requests_are_recorded_in_full(telegram: FakeTelegram, client: httpx.Client) -> None:
    client.post(
        f"{telegram.api_url}/bot{TELEGRAM_TOKEN}/sendMessage?disable_notification=true",
        data={"chat_id": "9", "text": "a b"},
        headers={"X-Custom": "Yes"},
    )
    [got] = telegram.requests
    assert (got.method, got.name, got.status, got.accepted) == ("POST", "sendMessage", 200, True)
    assert got.path == f"/bot{TELEGRAM_TOKEN}/sendMessage"
    assert got.query == {"disable_notification": ["true"]}
    assert got.headers["x-custom"] == "Yes"
    assert got.body == b"chat_id=9&text=a+b"
    assert got.form == {"chat_id": "9", "text": "a b"} and got.json is None
    assert got.params == {"disable_notification": "true", "chat_id": "9", "text": "a b"}
    assert got.answer is not None and got.answer["result"]["text"] == "a b"
    assert parse_qs(got.body.decode()) == {"chat_id": ["9"], "text": ["a b"]}


def test_close_frees_the_port_and_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    fake = FakeSlack(SLACK_TOKEN)
    with httpx.Client(trust_env=False, timeout=5) as client:
        client.post(f"{fake.api_url}/chat.postMessage", json={})
        fake.fail_next(503)
        client.post(f"{fake.api_url}/chat.postMessage", json={})
        fake.close()
        fake.close()  # twice is fine
        with pytest.raises(httpx.ConnectError):
            client.post(f"{fake.api_url}/auth.test")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert fake.errors == []


def test_fakes_import_nothing_from_the_product() -> None:
    import ast
    from pathlib import Path

    source = Path(__file__).with_name("fake_platforms.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "base64",
        "dataclasses",
        "datetime",
        "email",
        "hashlib",
        "hmac",
        "http",
        "httpx",
        "itertools",
        "json",
        "re",
        "secrets",
        "threading",
        "time",
        "traceback",
        "types",
        "typing",
        "urllib",
        "uuid",
    }
