"""Local fake messaging platforms, for testing the channel connectors end to end.

Each fake is a real HTTP server on 127.0.0.1 (a free port, bound by the constructor) that
serves the part of a platform's documented API the connectors call, checks requests the
way the platform documents (auth, required fields, limits) and answers with the
documented shapes. It records every request. It also builds the webhook payloads the
platform sends, and `deliver()` posts them signed as the platform documents. The signing
code here is written from the platforms' documentation and imports nothing from the
product, so a test that passes is not the connector agreeing with itself.

    >>> with FakeTelegram("123456:TEST") as telegram:
    ...     ...  # point the connector at telegram.api_url
    ...     FakeTelegram.deliver(webhook_url, telegram.update("hi"), secret_token="s3cret")
    ...     [call] = telegram.wait_for_calls("sendMessage")
    ...     telegram.fail_next(429, retry_after=1)  # the next API call is rate limited

References (the shapes, codes and messages below come from them):
- Telegram: https://core.telegram.org/bots/api (Making requests, Update, Message,
  sendMessage, setWebhook, answerCallbackQuery, editMessageReplyMarkup, sendChatAction)
- Slack: https://api.slack.com/methods/chat.postMessage, /methods/auth.test,
  https://api.slack.com/authentication/verifying-requests-from-slack,
  https://api.slack.com/apis/connections/events-api, /reference/interaction-payloads
- Twilio: https://www.twilio.com/docs/messaging/api/message-resource,
  https://www.twilio.com/docs/usage/webhooks/webhooks-security, /docs/errors/<code>
- Messenger: https://developers.facebook.com/docs/messenger-platform/reference/send-api,
  /docs/messenger-platform/webhooks, /docs/graph-api/webhooks/getting-started
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx

__all__ = [
    "FakeMessenger",
    "FakePlatform",
    "FakeSlack",
    "FakeTelegram",
    "FakeTwilio",
    "Recorded",
    "WebhookRecorder",
]

DELIVERY_TIMEOUT = 30.0  # seconds a deliver() waits for the webhook to answer
_POLL_INTERVAL = 0.01
_Fake = TypeVar("_Fake", bound="FakePlatform")


@dataclass
class Recorded:
    """One request a fake received, and how the fake answered it."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any | None  # the parsed body when its content type is JSON and it parses
    form: dict[str, str] | None  # the parsed body when it is x-www-form-urlencoded
    name: str = ""  # the API method called: "sendMessage", "chat.postMessage", "Messages", ...
    params: dict[str, Any] | None = None  # the call's parameters as the platform reads them
    status: int = 0  # the HTTP status the fake answered
    accepted: bool = False  # the platform did what was asked (Telegram/Slack "ok": true, 2xx)
    answer: Any | None = None  # the JSON the fake answered with


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    accepted: bool = False
    data: Any | None = None


def _json_answer(
    status: int, data: Any, *, accepted: bool = False, headers: dict[str, str] | None = None
) -> _Answer:
    return _Answer(
        status, json.dumps(data).encode(), headers=headers or {}, accepted=accepted, data=data
    )


class _Refusal(Exception):
    """Raised by a fake's endpoint to answer with an error."""

    def __init__(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, data)
        self.answer = _json_answer(status, data, headers=headers)


def _is_json(content_type: str) -> bool:
    return "json" in content_type.lower()


def _is_form(content_type: str) -> bool:
    return content_type.lower().startswith("application/x-www-form-urlencoded")


def _parse_json(content_type: str, body: bytes) -> Any | None:
    if not (_is_json(content_type) and body):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _parse_form(content_type: str, body: bytes) -> dict[str, str] | None:
    if not _is_form(content_type):
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _last_values(query: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[-1] for key, values in query.items()}


def _unparsable_json(record: Recorded) -> bool:
    return (
        _is_json(record.headers.get("content-type", ""))
        and bool(record.body.strip())
        and (record.json is None)
    )


def _compact_json(data: Any, *, ascii_only: bool = False) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only).encode()


# --- the HTTP server --------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # connectors fire bursts; the default backlog of 5 drops SYNs

    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Only socket errors get here (a client hanging up); the fake stays quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakePlatform/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fakes print nothing

    def do_GET(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        content_type = headers.get("content-type", "")
        record = Recorded(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            json=_parse_json(content_type, body),
            form=_parse_form(content_type, body),
        )
        answer = self.server.platform._serve(record)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


# --- the base class ---------------------------------------------------------------------
class FakePlatform:
    """A platform's API on 127.0.0.1 that records what it receives.

    Subclasses serve one platform: `_call_name` names the API method a request calls,
    `_handle` answers it (raising `_Refusal` for an error answer), `_error_json` shapes the
    body of an injected failure.

    - `url`: the base of the fake API, "http://127.0.0.1:<port>".
    - `requests`: every request received, in order, as `Recorded`.
    - `errors`: tracebacks of bugs in the fake itself (answered with a 500).
    - `fail_next(status, times, retry_after)`: the next API calls get `status`.
    - `calls(name)` / `wait_for_calls(name, count, timeout)`: the calls of one method.
    - `close()`, or use it as a context manager.
    """

    _names_ignore_case = False
    _html_server_errors = True  # 5xx answered by an nginx-style HTML page, as a proxy does

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self._failures: list[tuple[int, int | None]] = []
        self._closed = False
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()

    def __enter__(self: _Fake) -> _Fake:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def close(self) -> None:
        """Stop serving and free the port (connections are refused afterwards)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests with `status` (and a Retry-After header when
        `retry_after` is given), in the platform's error shape, before looking at them."""
        if times < 1:
            raise ValueError(f"fail_next(times={times}): times must be at least 1")
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next(status={status}): expected an error status (4xx, 5xx)")
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def calls(self, name: str) -> list[Recorded]:
        """The calls of API method `name`, refused and failed ones included."""
        wanted = name.lower() if self._names_ignore_case else name
        with self._lock:
            return [
                r
                for r in self.requests
                if (r.name.lower() if self._names_ignore_case else r.name) == wanted
            ]

    def wait_for_calls(self, name: str, count: int = 1, timeout: float = 30.0) -> list[Recorded]:
        """Wait until `count` calls of `name` have been answered and return all of them;
        on timeout raise AssertionError saying what the fake did receive."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(name)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(name, count, timeout, len(found)))
            time.sleep(_POLL_INTERVAL)

    def _timeout_message(self, name: str, count: int, timeout: float, got: int) -> str:
        with self._lock:
            seen = [f"{r.method} {r.path} ({r.name or '?'}) -> {r.status}" for r in self.requests]
            errors = list(self.errors)
        message = (
            f"{type(self).__name__} at {self.url}: waited {timeout:g}s for {count} "
            f"{name!r} call(s), got {got}. It received {len(seen)} request(s)"
            + (": " + "; ".join(seen) if seen else "")
        )
        if errors:
            message += "\nThe fake itself failed:\n" + "\n".join(errors)
        return message

    # --- serving ------------------------------------------------------------------------
    def _serve(self, record: Recorded) -> _Answer:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        try:
            record.name = self._call_name(record)
            if failure is not None:
                answer = self._failure(*failure)
            else:
                try:
                    answer = self._handle(record)
                except _Refusal as refusal:
                    answer = refusal.answer
        except Exception as e:  # a bug in the fake: a 500, kept for wait_for_calls' message
            with self._lock:
                self.errors.append(traceback.format_exc())
            answer = _Answer(500, f"fake crashed: {e!r}".encode(), "text/plain; charset=utf-8")
        record.status, record.accepted, record.answer = answer.status, answer.accepted, answer.data
        # Recorded before the answer leaves: when a client's call returns, it is in `requests`.
        with self._lock:
            self.requests.append(record)
        return answer

    def _failure(self, status: int, retry_after: int | None) -> _Answer:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status >= 500 and self._html_server_errors:
            phrase = _phrase(status)
            page = (
                f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
                f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"
            )
            return _Answer(status, page.encode(), "text/html", headers)
        return _json_answer(status, self._error_json(status, retry_after), headers=headers)

    def _call_name(self, record: Recorded) -> str:
        raise NotImplementedError

    def _handle(self, record: Recorded) -> _Answer:
        raise NotImplementedError

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        raise NotImplementedError


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    # trust_env=False: a proxy from the environment must not carry a local delivery away.
    return httpx.post(url, content=body, headers=headers, timeout=DELIVERY_TIMEOUT, trust_env=False)


class WebhookRecorder(FakePlatform):
    """A bare server that records every request and answers `status` with `answer`
    (JSON); `calls(path)` are the requests to that path. For checking what `deliver()`
    sends, or as a stand-in for a webhook target."""

    def __init__(self, status: int = 200, answer: Any = None) -> None:
        self.status = status
        self.answer: Any = {"ok": True} if answer is None else answer
        super().__init__()

    def _call_name(self, record: Recorded) -> str:
        return record.path

    def _handle(self, record: Recorded) -> _Answer:
        return _json_answer(self.status, self.answer, accepted=self.status < 400)

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        return {"error": _phrase(status)}


# --- Telegram ---------------------------------------------------------------------------
_TELEGRAM_PATH = re.compile(r"/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)/?")
_TELEGRAM_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "link_preview_options", "reply_parameters", "allowed_updates"}
)
_TELEGRAM_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_TELEGRAM_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "copy_text",
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
TELEGRAM_CHAT_ID = 424242  # a private chat's id is its user's id
TELEGRAM_MESSAGE_LIMIT = 4096
TELEGRAM_CALLBACK_DATA_LIMIT = 64  # bytes


class FakeTelegram(FakePlatform):
    """The Telegram Bot API for one bot: `{api_url}/bot{token}/{method}`, GET or POST,
    parameters in the query string, a JSON body or a form body (JSON-valued parameters
    such as reply_markup JSON-encoded, as documented). Methods are case-insensitive."""

    _names_ignore_case = True

    def __init__(self, token: str) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot: dict[str, Any] = {
            "id": int(prefix) if prefix.isdigit() else 7000001,
            "is_bot": True,
            "first_name": "Support Bot",
            "username": "support_test_bot",
        }
        self.webhook: dict[str, Any] | None = None  # what setWebhook set
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(100_000_001)
        self._messages: dict[int, dict[str, Any]] = {}  # message id → a message the bot sent
        self._chats: dict[str, dict[str, Any]] = {}  # chat id → the Chat its updates showed
        self._callback_ids: set[str] = set()
        self._methods = {
            "sendmessage": self._send_message,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getme": self._get_me,
            "answercallbackquery": self._answer_callback_query,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "sendchataction": self._send_chat_action,
        }
        super().__init__()

    @property
    def api_url(self) -> str:
        return self.url

    # --- what tests look at -------------------------------------------------------------
    def sent_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """The parameters of the accepted sendMessage calls to `chat_id`."""
        return [
            dict(r.params or {})
            for r in self.calls("sendMessage")
            if r.accepted and str((r.params or {}).get("chat_id")) == str(chat_id)
        ]

    def update(
        self,
        text: str,
        chat_id: int = TELEGRAM_CHAT_ID,
        user_id: int = TELEGRAM_CHAT_ID,
        first_name: str = "Ana",
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """An Update with a text message from a user in a private chat."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id, first_name),
            "chat": self._chat(chat_id, first_name),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        return {"update_id": self._update_id(update_id), "message": message}

    def callback_update(
        self,
        data: str,
        chat_id: int = TELEGRAM_CHAT_ID,
        user_id: int = TELEGRAM_CHAT_ID,
        update_id: int | None = None,
        first_name: str = "Ana",
    ) -> dict[str, Any]:
        """An Update with a callback_query: the user pressed an inline-keyboard button
        with callback data `data` under the bot's last message to the chat."""
        chat = self._chat(chat_id, first_name)
        with self._lock:
            sent = [m for m in self._messages.values() if str(m["chat"]["id"]) == str(chat_id)]
        message = dict(sent[-1]) if sent else None
        if message is None:
            message = {
                "message_id": next(self._message_ids),
                "from": self._bot_user(),
                "chat": chat,
                "date": int(time.time()),
                "text": "Choose one:",
                "reply_markup": {
                    "inline_keyboard": [[{"text": data[:20] or "OK", "callback_data": data}]]
                },
            }
        query_id = str(secrets.randbits(62))
        with self._lock:
            self._callback_ids.add(query_id)
        return {
            "update_id": self._update_id(update_id),
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id, first_name),
                "message": message,
                "chat_instance": str(-secrets.randbits(62)),
                "data": data,
            },
        }

    @staticmethod
    def deliver(
        webhook_url: str, update: dict[str, Any], secret_token: str | None
    ) -> httpx.Response:
        """POST `update` as Telegram does: a JSON body, and the setWebhook secret_token in
        X-Telegram-Bot-Api-Secret-Token when there is one."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        return _post(webhook_url, _compact_json(update), headers)

    # --- shapes -------------------------------------------------------------------------
    def _update_id(self, update_id: int | None) -> int:
        return next(self._update_ids) if update_id is None else update_id

    def _bot_user(self) -> dict[str, Any]:
        return dict(self.bot)

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def _chat(self, chat_id: int, first_name: str) -> dict[str, Any]:
        chat = {"id": chat_id, "first_name": first_name, "type": "private"}
        with self._lock:
            self._chats[str(chat_id)] = chat
        return dict(chat)

    # --- HTTP ---------------------------------------------------------------------------
    def _call_name(self, record: Recorded) -> str:
        match = _TELEGRAM_PATH.fullmatch(record.path)
        return match["method"] if match else ""

    def _handle(self, record: Recorded) -> _Answer:
        match = _TELEGRAM_PATH.fullmatch(record.path)
        if match is None:
            raise self._refusal(404, "Not Found")
        if match["token"] != self.token:
            raise self._refusal(401, "Unauthorized")
        method = self._methods.get(match["method"].lower())
        if method is None:
            raise self._refusal(404, "Not Found: method not found")
        record.params = self._params(record)
        return _json_answer(200, {"ok": True, **method(record.params)}, accepted=True)

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        if status == 429:
            wait = 5 if retry_after is None else retry_after
            return {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
        return {"ok": False, "error_code": status, "description": _phrase(status)}

    @staticmethod
    def _refusal(status: int, description: str) -> _Refusal:
        return _Refusal(status, {"ok": False, "error_code": status, "description": description})

    def _bad_request(self, description: str) -> _Refusal:
        return self._refusal(400, f"Bad Request: {description}")

    def _params(self, record: Recorded) -> dict[str, Any]:
        params: dict[str, Any] = _last_values(record.query)
        if _unparsable_json(record):
            raise self._bad_request("can't parse JSON request body")
        if isinstance(record.json, dict):
            params.update(record.json)
        elif record.json is not None:
            raise self._bad_request("JSON request body must be an object")
        elif record.form is not None:
            params.update(record.form)
        elif record.body.strip():
            content_type = record.headers.get("content-type", "")
            raise self._bad_request(
                f"the fake reads query, JSON and form parameters, not {content_type!r}"
            )
        for key in _TELEGRAM_JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise self._bad_request(f"can't parse {what} JSON object") from None
        return params

    def _chat_id(self, params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise self._bad_request("chat_id is empty")
        if isinstance(chat_id, bool):
            raise self._bad_request("chat not found")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            return int(chat_id)
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return chat_id
        raise self._bad_request("chat not found")

    def _reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise self._bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return markup
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise self._bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise self._bad_request(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not any(key in button for key in _TELEGRAM_BUTTON_ACTIONS):
                    raise self._bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (
                    isinstance(data, str)
                    and 1 <= len(data.encode()) <= TELEGRAM_CALLBACK_DATA_LIMIT
                ):
                    raise self._bad_request("BUTTON_DATA_INVALID")
        return markup

    # --- methods ------------------------------------------------------------------------
    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self._bad_request("message text is empty")
        if len(text) > TELEGRAM_MESSAGE_LIMIT:
            raise self._bad_request("message is too long")
        parse_mode = params.get("parse_mode")
        if parse_mode not in (None, "", "HTML", "Markdown", "MarkdownV2"):
            raise self._bad_request(f"unsupported parse_mode {parse_mode!r}")
        markup = self._reply_markup(params)
        with self._lock:
            chat = dict(self._chats.get(str(chat_id)) or {"id": chat_id, "type": "private"})
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        with self._lock:
            self._messages[message["message_id"]] = message
        return {"result": message}

    def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        split = urlsplit(url)
        if split.scheme != "https":
            raise self._bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (split.port or 443) not in (80, 88, 443, 8443):
            raise self._bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN.fullmatch(secret)):
            raise self._bad_request("secret token contains unallowed characters")
        with self._lock:
            self.webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"),
                "max_connections": int(params.get("max_connections") or 40),
                "drop_pending_updates": params.get("drop_pending_updates"),
            }
        return {"result": True, "description": "Webhook was set"}

    def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            was_set, self.webhook = self.webhook is not None, None
        description = "Webhook was deleted" if was_set else "Webhook is already deleted"
        return {"result": True, "description": description}

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            webhook = dict(self.webhook) if self.webhook else None
        info: dict[str, Any] = {
            "url": webhook["url"] if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if webhook:
            info["max_connections"] = webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if webhook["allowed_updates"] is not None:
                info["allowed_updates"] = webhook["allowed_updates"]
        return {"result": info}

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "result": {
                **self._bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        }

    def _answer_callback_query(self, params: dict[str, Any]) -> dict[str, Any]:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            known = query_id in self._callback_ids
        if not known:
            raise self._bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        return {"result": True}

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._reply_markup(params)
        if params.get("inline_message_id"):
            return {"result": True}
        chat_id = self._chat_id(params)
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError):
            message_id = 0
        if message_id <= 0:
            raise self._bad_request("message identifier is not specified")
        with self._lock:
            message = self._messages.get(message_id)
            if message is not None and str(message["chat"]["id"]) != str(chat_id):
                message = None
            if message is None:
                raise self._bad_request("message to edit not found")
            if message.get("reply_markup") == markup or (
                markup == {"inline_keyboard": []} and "reply_markup" not in message
            ):
                raise self._bad_request(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            if markup and markup.get("inline_keyboard"):
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            message["edit_date"] = int(time.time())
            return {"result": dict(message)}

    def _send_chat_action(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        if params.get("action") not in _TELEGRAM_CHAT_ACTIONS:
            raise self._bad_request("wrong parameter action in request")
        return {"result": True}


# --- Slack ------------------------------------------------------------------------------
_SLACK_PATH = re.compile(r"/api/(?P<method>[A-Za-z0-9_.]+)")
_SLACK_RESPONSE_URL = re.compile(r"/actions/.+")
SLACK_TEXT_LIMIT = 40_000  # Slack refuses longer text with msg_too_long
SLACK_BLOCKS_LIMIT = 50


class FakeSlack(FakePlatform):
    """Slack's Web API for one bot token: `POST {api_url}/{method}` with `Authorization:
    Bearer <token>` (or a `token` form field), a JSON or form body. Errors are HTTP 200
    with {"ok": false, "error": ...}, as Slack answers them; an unknown method is a 404.
    The response_url of `interaction()` payloads points here too (calls "response_url")."""

    def __init__(self, token: str, team_id: str = "T0123") -> None:
        self.token = token
        self.team_id = team_id
        self.bot_user_id = "U0BOT"
        self.bot_id = "B0BOT"
        self.app_id = "A0FAKEAPP"
        self._start = int(time.time())
        self._ts = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._user_ts = itertools.count(1)
        self._posted: dict[str, dict[str, Any]] = {}  # channel → the bot's last message there
        self._methods = {
            "chat.postMessage": self._post_message,
            "auth.test": self._auth_test,
        }
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    # --- what tests look at -------------------------------------------------------------
    def sent_messages(self, channel: str) -> list[dict[str, Any]]:
        """The parameters of the accepted chat.postMessage calls to `channel`."""
        return [
            dict(r.params or {})
            for r in self.calls("chat.postMessage")
            if r.accepted and (r.params or {}).get("channel") == channel
        ]

    def event(
        self,
        text: str,
        channel: str = "D0123",
        user: str = "U0123",
        team: str = "T0123",
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """An Events API `event_callback` envelope with a `message` event from `user`."""
        ts = f"{self._start}.{next(self._user_ts):06d}"
        return {
            "token": "fake-verification-token",
            "team_id": team,
            "context_team_id": team,
            "api_app_id": self.app_id,
            "event": {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "channel_type": "im" if channel.startswith("D") else "channel",
                "client_msg_id": str(uuid.uuid4()),
                "team": team,
            },
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):08X}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(16)}",
        }

    def url_verification(self, challenge: str | None = None) -> dict[str, Any]:
        """The `url_verification` request Slack sends when the Events URL is saved."""
        return {
            "token": "fake-verification-token",
            "challenge": challenge or secrets.token_urlsafe(36),
            "type": "url_verification",
        }

    def interaction(
        self,
        value: str,
        channel: str = "D0123",
        user: str = "U0123",
        *,
        action_id: str = "choice",
        text: str | None = None,
    ) -> dict[str, Any]:
        """A `block_actions` payload: `user` pressed a button with `value` under the bot's
        last message to `channel`. Deliver it with `deliver(..., form=True)`."""
        with self._lock:
            posted = dict(self._posted.get(channel) or {})
        message = posted or {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": "Choose one:",
            "ts": f"{self._start}.000001",
        }
        now = time.time()
        return {
            "type": "block_actions",
            "user": {"id": user, "username": "ana", "name": "ana", "team_id": self.team_id},
            "api_app_id": self.app_id,
            "token": "fake-verification-token",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{int(now)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
            "team": {"id": self.team_id, "domain": "fake-workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "directmessage"},
            "message": message,
            "state": {"values": {}},
            "response_url": (
                f"{self.url}/actions/{self.team_id}/{secrets.randbelow(10**12)}/"
                f"{secrets.token_urlsafe(18)}"
            ),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": secrets.token_urlsafe(4),
                    "text": {"type": "plain_text", "text": text or value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{now:.6f}",
                }
            ],
        }

    @staticmethod
    def signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
        """X-Slack-Signature: "v0=" + hex HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")."""
        raw = body.encode() if isinstance(body, str) else body
        basestring = b"v0:" + str(timestamp).encode() + b":" + raw
        return "v0=" + hmac.new(signing_secret.encode(), basestring, hashlib.sha256).hexdigest()

    @staticmethod
    def deliver(
        webhook_url: str,
        payload: dict[str, Any] | str,
        signing_secret: str | None,
        *,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        form: bool = False,
    ) -> httpx.Response:
        """POST `payload` as Slack does, signed with `signing_secret` (None: unsigned).

        A dict goes as JSON (Events API) or, with form=True, as the form field
        `payload=<json>` (interactivity). A str is sent as the raw body, as it is."""
        if isinstance(payload, str):
            body = payload.encode()
        elif form:
            body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        else:
            body = _compact_json(payload)
        content_type = "application/x-www-form-urlencoded" if form else "application/json"
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0"}
        if signing_secret is not None:
            stamp = int(time.time()) if timestamp is None else timestamp
            headers["X-Slack-Request-Timestamp"] = str(stamp)
            headers["X-Slack-Signature"] = FakeSlack.signature(signing_secret, stamp, body)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return _post(webhook_url, body, headers)

    # --- HTTP ---------------------------------------------------------------------------
    def _call_name(self, record: Recorded) -> str:
        if _SLACK_RESPONSE_URL.fullmatch(record.path):
            return "response_url"
        match = _SLACK_PATH.fullmatch(record.path)
        return match["method"] if match else ""

    def _handle(self, record: Recorded) -> _Answer:
        if record.name == "response_url":
            record.params = record.json if isinstance(record.json, dict) else None
            if record.params is None:
                raise self._refusal("invalid_payload", status=400)
            return _json_answer(200, {"ok": True}, accepted=True)
        if not record.name:
            raise self._refusal("unknown_method", status=404)
        params = self._params(record)
        record.params = params
        token = self._token(record, params)
        if token is None:
            raise self._refusal("not_authed")
        if token != self.token:
            raise self._refusal("invalid_auth")
        method = self._methods.get(record.name)
        if method is None:
            raise _Refusal(404, {"ok": False, "error": "unknown_method", "req_method": record.name})
        return _json_answer(200, {"ok": True, **method(params)}, accepted=True)

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        return {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}

    @staticmethod
    def _refusal(error: str, status: int = 200) -> _Refusal:
        return _Refusal(status, {"ok": False, "error": error})

    def _params(self, record: Recorded) -> dict[str, Any]:
        params: dict[str, Any] = _last_values(record.query)
        if _unparsable_json(record):
            raise self._refusal("invalid_json")
        if isinstance(record.json, dict):
            params.update(record.json)
        elif record.json is not None:
            raise self._refusal("invalid_json")
        elif record.form is not None:
            params.update(record.form)
            for key in ("blocks", "attachments", "metadata"):
                if isinstance(params.get(key), str) and params[key]:
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError:
                        raise self._refusal(
                            f"invalid_{key}_format" if key == "blocks" else f"invalid_{key}"
                        ) from None
        return params

    @staticmethod
    def _token(record: Recorded, params: dict[str, Any]) -> str | None:
        authorization = record.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return authorization[7:].strip()
        # A token in a form body still works; in a JSON body or the query string it does not.
        if record.form is not None and record.form.get("token"):
            return record.form["token"]
        return None

    # --- methods ------------------------------------------------------------------------
    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel:
            raise self._refusal("channel_not_found")
        text = params.get("text")
        blocks = params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            raise self._refusal("no_text")
        if text is not None and not isinstance(text, str):
            raise self._refusal("invalid_arguments")
        if isinstance(text, str) and len(text) > SLACK_TEXT_LIMIT:
            raise self._refusal("msg_too_long")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise self._refusal("invalid_blocks_format")
            if len(blocks) > SLACK_BLOCKS_LIMIT or not all(
                isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
            ):
                raise self._refusal("invalid_blocks")
        ts = f"{self._start + next(self._ts)}.000100"
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or "",
            "team": self.team_id,
        }
        if blocks:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self._lock:
            self._posted[channel] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "support_bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }


# --- Twilio -----------------------------------------------------------------------------
_TWILIO_PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<resource>[A-Za-z]+)\.json")
TWILIO_BODY_LIMIT = 1600


def _twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(FakePlatform):
    """Twilio's Programmable Messaging API for one account: `POST {api_url}/2010-04-01/
    Accounts/{sid}/Messages.json`, form-encoded (a JSON body reads as no parameters, as at
    Twilio), HTTP Basic auth `sid:auth_token`. calls("Messages") are those calls."""

    _html_server_errors = False

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        super().__init__()

    @property
    def api_url(self) -> str:
        return self.url

    # --- what tests look at -------------------------------------------------------------
    def sent_messages(self, to: str) -> list[dict[str, Any]]:
        """The form parameters of the accepted messages to `to` ("+1555..." or
        "whatsapp:+1555...")."""
        return [
            dict(r.params or {})
            for r in self.calls("Messages")
            if r.accepted and (r.params or {}).get("To") == to
        ]

    def inbound(
        self,
        body: str,
        from_: str = "+15550101",
        to: str = "+15559999",
        message_sid: str | None = None,
    ) -> dict[str, str]:
        """The form parameters of Twilio's incoming-message webhook."""
        sid = message_sid or "SM" + uuid.uuid4().hex
        params = {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
        if from_.startswith("whatsapp:"):
            params.update(
                {
                    "ProfileName": "Ana",
                    "WaId": from_.removeprefix("whatsapp:+"),
                    "MessageType": "text",
                }
            )
        return params

    @staticmethod
    def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature: base64(HMAC-SHA1(auth token, the full URL followed by each
        POST parameter's name and value, sorted by name))."""
        data = url + "".join(key + value for key, value in sorted(params.items()))
        digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    @staticmethod
    def deliver(
        webhook_url: str,
        params: dict[str, str],
        auth_token: str | None,
        *,
        signed_url: str | None = None,
    ) -> httpx.Response:
        """POST `params` form-encoded as Twilio does, with X-Twilio-Signature computed over
        `signed_url` (the URL Twilio was configured with, when a proxy rewrites it) or
        `webhook_url`; no signature when `auth_token` is None."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        if auth_token is not None:
            headers["X-Twilio-Signature"] = FakeTwilio.signature(
                auth_token, signed_url or webhook_url, params
            )
        return _post(webhook_url, urlencode(params).encode(), headers)

    # --- HTTP ---------------------------------------------------------------------------
    def _call_name(self, record: Recorded) -> str:
        match = _TWILIO_PATH.fullmatch(record.path)
        return match["resource"] if match else ""

    def _handle(self, record: Recorded) -> _Answer:
        if not self._authenticated(record):
            raise _Refusal(
                401,
                _twilio_error(401, 20003, "Authenticate"),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        match = _TWILIO_PATH.fullmatch(record.path)
        if (
            match is None
            or match["sid"] != self.account_sid
            or match["resource"] != "Messages"
            or record.method != "POST"
        ):
            raise _Refusal(
                404,
                _twilio_error(404, 20404, f"The requested resource {record.path} was not found"),
            )
        params = dict(record.form or {})
        record.params = params
        return _json_answer(201, self._create_message(params), accepted=True)

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        if status == 429:
            return _twilio_error(429, 20429, "Too Many Requests")
        if status >= 500:
            return _twilio_error(status, 20500, "An internal server error has occurred")
        return _twilio_error(status, 20001, _phrase(status))

    def _authenticated(self, record: Recorded) -> bool:
        scheme, _, encoded = record.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )

    def _create_message(self, params: dict[str, str]) -> dict[str, Any]:
        to, from_, body = params.get("To", ""), params.get("From", ""), params.get("Body", "")
        if not to:
            raise _Refusal(400, _twilio_error(400, 21604, "A 'To' phone number is required."))
        if not from_ and not params.get("MessagingServiceSid"):
            raise _Refusal(400, _twilio_error(400, 21603, "A 'From' phone number is required."))
        if not body and not params.get("MediaUrl") and not params.get("ContentSid"):
            raise _Refusal(400, _twilio_error(400, 21602, "Message body is required."))
        if len(body) > TWILIO_BODY_LIMIT:
            raise _Refusal(
                400,
                _twilio_error(
                    400,
                    21617,
                    "The concatenated message body exceeds the 1600 character limit",
                ),
            )
        if from_ and to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
            raise _Refusal(
                400,
                _twilio_error(
                    400,
                    21910,
                    "Invalid From and To pair. From and To should be of the same channel",
                ),
            )
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(timezone.utc))
        segments = 1 if len(body) <= 160 else -(-len(body) // 153)
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "num_media": "1" if params.get("MediaUrl") else "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if not from_ else "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": to,
            "uri": f"{base}.json",
        }


# --- Facebook Messenger -----------------------------------------------------------------
_GRAPH_PATH = re.compile(r"/v\d+(?:\.\d+)?/(?P<node>[^/]+)/(?P<edge>[^/]+)")
_MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
_SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen", "react", "unreact"})
_QUICK_REPLY_TYPES = frozenset({"text", "user_phone_number", "user_email"})
MESSENGER_TEXT_LIMIT = 2000
MESSENGER_QUICK_REPLY_LIMIT = 13
MESSENGER_PAYLOAD_LIMIT = 1000


def _graph_error(code: int, message: str, error_type: str = "OAuthException") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
    }


class FakeMessenger(FakePlatform):
    """The Messenger Platform's Send API for one Page: `POST {api_url}/me/messages` (any
    Graph version, `me` or the page id), page token as the access_token query parameter,
    a body field or `Authorization: Bearer`. Errors are HTTP 400 with Graph's error
    object. calls("messages") are those calls."""

    _html_server_errors = False

    def __init__(self, page_token: str, page_id: str = "PAGE1") -> None:
        self.page_token = page_token
        self.page_id = page_id
        self.app_id = "APP1"
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"{self.url}/v18.0"

    # --- what tests look at -------------------------------------------------------------
    def sent_messages(self, psid: str) -> list[dict[str, Any]]:
        """The accepted Send API bodies with a message (not a bare sender_action) to `psid`."""
        return [
            dict(r.params or {})
            for r in self.calls("messages")
            if r.accepted
            and "message" in (r.params or {})
            and ((r.params or {}).get("recipient") or {}).get("id") == psid
        ]

    def entry(self, text: str, psid: str = "PSID1", mid: str | None = None) -> dict[str, Any]:
        """A `messaging` item: a text message from `psid` to the Page."""
        return self._messaging(psid, message={"mid": mid or self._mid(), "text": text})

    def postback(
        self, payload: str, title: str = "Yes", psid: str = "PSID1", mid: str | None = None
    ) -> dict[str, Any]:
        """A `messaging` item: `psid` pressed a postback button."""
        return self._messaging(
            psid, postback={"mid": mid or self._mid(), "title": title, "payload": payload}
        )

    def quick_reply(
        self, payload: str, title: str = "Yes", psid: str = "PSID1", mid: str | None = None
    ) -> dict[str, Any]:
        """A `messaging` item: `psid` tapped a quick reply (a text message with its payload)."""
        return self._messaging(
            psid,
            message={"mid": mid or self._mid(), "text": title, "quick_reply": {"payload": payload}},
        )

    def echo(self, text: str, psid: str = "PSID1", mid: str | None = None) -> dict[str, Any]:
        """A `messaging` item echoing a message the Page sent (message_echoes field)."""
        return {
            "sender": {"id": self.page_id},
            "recipient": {"id": psid},
            "timestamp": int(time.time() * 1000),
            "message": {
                "mid": mid or self._mid(),
                "is_echo": True,
                "app_id": self.app_id,
                "text": text,
            },
        }

    def delivery(
        self, *messaging: dict[str, Any], page_id: str | None = None, one_entry: bool = False
    ) -> dict[str, Any]:
        """A webhook body with these messaging items: one `entry` each (how Messenger
        batches them; each entry's `messaging` holds one item), or all in one entry."""
        page = page_id or self.page_id
        now = int(time.time() * 1000)
        groups = [list(messaging)] if one_entry else [[item] for item in messaging]
        return {
            "object": "page",
            "entry": [{"id": page, "time": now, "messaging": group} for group in groups],
        }

    @staticmethod
    def deliver(
        webhook_url: str,
        payload: dict[str, Any],
        app_secret: str | None,
        *,
        sha1_only: bool = False,
    ) -> httpx.Response:
        """POST `payload` as Meta does: compact JSON with non-ASCII escaped, signed over the
        raw body: X-Hub-Signature-256 "sha256=<hex HMAC-SHA256(app secret, body)>" and
        X-Hub-Signature "sha1=<hex HMAC-SHA1>" (only the latter with sha1_only)."""
        body = _compact_json(payload, ascii_only=True)
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if app_secret is not None:
            key = app_secret.encode()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
            if not sha1_only:
                digest = hmac.new(key, body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature-256"] = "sha256=" + digest
        return _post(webhook_url, body, headers)

    @staticmethod
    def verify_subscription(
        webhook_url: str, verify_token: str, challenge: str = "1158201444"
    ) -> httpx.Response:
        """The GET Meta sends when the webhook is saved; the app must echo hub.challenge."""
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        return httpx.get(webhook_url, params=params, timeout=DELIVERY_TIMEOUT, trust_env=False)

    # --- shapes -------------------------------------------------------------------------
    @staticmethod
    def _mid() -> str:
        return "m_" + secrets.token_urlsafe(24)

    def _messaging(self, psid: str, **event: Any) -> dict[str, Any]:
        return {
            "sender": {"id": psid},
            "recipient": {"id": self.page_id},
            "timestamp": int(time.time() * 1000),
            **event,
        }

    # --- HTTP ---------------------------------------------------------------------------
    def _call_name(self, record: Recorded) -> str:
        match = _GRAPH_PATH.fullmatch(record.path)
        return match["edge"] if match else ""

    def _handle(self, record: Recorded) -> _Answer:
        params = self._params(record)
        record.params = params
        token = self._token(record, params)
        if not token:
            raise _Refusal(
                400,
                _graph_error(
                    2500,
                    "An active access token must be used to query information about the "
                    "current user.",
                ),
            )
        if token != self.page_token:
            raise _Refusal(
                400,
                _graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
                {
                    "WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" '
                    '"Invalid OAuth access token - Cannot parse access token"'
                },
            )
        match = _GRAPH_PATH.fullmatch(record.path)
        if (
            match is None
            or match["node"] not in ("me", self.page_id)
            or match["edge"] != "messages"
            or record.method != "POST"
        ):
            raise _Refusal(
                400,
                _graph_error(
                    100, f"Unsupported {record.method.lower()} request.", "GraphMethodException"
                ),
            )
        return _json_answer(200, self._send(params), accepted=True)

    def _error_json(self, status: int, retry_after: int | None) -> Any:
        if status == 429:
            return _graph_error(613, "(#613) Calls to this api have exceeded the rate limit.")
        return _graph_error(2, "An unexpected error has occurred. Please retry your request later.")

    def _params(self, record: Recorded) -> dict[str, Any]:
        params: dict[str, Any] = _last_values(record.query)
        params.pop("access_token", None)
        if _unparsable_json(record):
            raise _Refusal(400, _graph_error(100, "(#100) Invalid JSON request body"))
        if isinstance(record.json, dict):
            params.update(record.json)
        elif record.form is not None:
            params.update(record.form)
            for key in ("recipient", "message"):
                if isinstance(params.get(key), str):
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError:
                        raise self._invalid(f"Param {key} must be a JSON object") from None
        return params

    @staticmethod
    def _token(record: Recorded, params: dict[str, Any]) -> str | None:
        if record.query.get("access_token"):
            return record.query["access_token"][-1]
        authorization = record.headers.get("authorization", "")
        if authorization.lower().startswith(("bearer ", "oauth ")):
            return authorization.split(" ", 1)[1].strip()
        token = params.pop("access_token", None)
        return token if isinstance(token, str) else None

    @staticmethod
    def _invalid(message: str) -> _Refusal:
        return _Refusal(400, _graph_error(100, f"(#100) {message}"))

    def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        recipient = params.get("recipient")
        if not isinstance(recipient, dict) or not recipient.get("id"):
            raise self._invalid("The parameter recipient is required")
        psid = str(recipient["id"])
        messaging_type = params.get("messaging_type")
        if messaging_type is not None and messaging_type not in _MESSAGING_TYPES:
            raise self._invalid(
                "Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG} - "
                f"got {messaging_type!r}"
            )
        message, action = params.get("message"), params.get("sender_action")
        if message is None and action is None:
            raise self._invalid("Must send either message or sender action")
        if message is not None and action is not None:
            raise self._invalid("sender_action cannot be sent together with message")
        if action is not None:
            if action not in _SENDER_ACTIONS:
                raise self._invalid(
                    "Param sender_action must be one of "
                    "{typing_on, typing_off, mark_seen, react, unreact}"
                )
            return {"recipient_id": psid}
        self._check_message(message)
        return {"recipient_id": psid, "message_id": self._mid()}

    def _check_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise self._invalid("Param message must be a JSON object")
        text, attachment = message.get("text"), message.get("attachment")
        if text is None and attachment is None:
            raise self._invalid("Must send either text or attachment")
        if text is not None and attachment is not None:
            raise self._invalid("Only one of text or attachment can be specified")
        if text is not None:
            if not isinstance(text, str) or not text:
                raise self._invalid("Param message[text] must be a non-empty UTF-8 encoded string")
            if len(text) > MESSENGER_TEXT_LIMIT:
                raise self._invalid(
                    "Length of param message[text] must be less than or equal to 2000"
                )
        if attachment is not None and not (
            isinstance(attachment, dict) and isinstance(attachment.get("type"), str)
        ):
            raise self._invalid("Param message[attachment][type] must be a non-empty string")
        replies = message.get("quick_replies")
        if replies is None:
            return
        if not isinstance(replies, list) or not replies:
            raise self._invalid("Param message[quick_replies] must be a non-empty array")
        if len(replies) > MESSENGER_QUICK_REPLY_LIMIT:
            raise self._invalid(
                f"param message[quick_replies] must have at most {MESSENGER_QUICK_REPLY_LIMIT} "
                "elements"
            )
        for i, reply in enumerate(replies):
            where = f"message[quick_replies][{i}]"
            if not isinstance(reply, dict) or reply.get("content_type") not in _QUICK_REPLY_TYPES:
                raise self._invalid(
                    f"Param {where}[content_type] must be one of "
                    "{text, user_phone_number, user_email}"
                )
            if reply["content_type"] != "text":
                continue
            title, payload = reply.get("title"), reply.get("payload")
            if not isinstance(title, str) or not title:
                raise self._invalid(f"param {where}[title] must be a non-empty string")
            if not isinstance(payload, (str, int)) or payload == "":
                raise self._invalid(f"param {where}[payload] must be a non-empty string")
            if len(str(payload)) > MESSENGER_PAYLOAD_LIMIT:
                raise self._invalid(
                    f"Length of param {where}[payload] must be less than or equal to "
                    f"{MESSENGER_PAYLOAD_LIMIT}"
                )
