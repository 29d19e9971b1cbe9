"""`ChatwootBackend`: hands a conversation to a Chatwoot inbox through its Application API.

    >>> backend = ChatwootBackend.from_environ()  # CHATWOOT_URL, _ACCOUNT_ID, _INBOX_ID, _API_TOKEN
    >>> ticket = await backend.open(request)  # ticket.reference: the Chatwoot conversation id
    >>> await backend.relay(ticket.reference, CustomerMessage("are you there?", time.time()))

`open` finds or creates the contact (identifier: the customer key, else the Rasa sender
id), finds the contact's open conversation for this Rasa conversation (custom attribute
`rasa_conversation_id`) or creates one, then adds the summary as a private note, sets the
priority and adds the queue as a label. `relay` adds a customer message to the
conversation as an incoming message. The inbox should be an API-channel inbox; the
queue names (routing.skills.QUEUES) should exist as labels in the account.

Request and response shapes, checked against Chatwoot's OpenAPI spec (chatwoot/chatwoot,
swagger/paths/application/ and swagger/definitions/) and its rendered reference:

- GET  contacts/search?q=  → {"payload": [contact]}; q matches name, email, phone and
  identifier as substrings, so the identifier is compared exactly here.
  https://developers.chatwoot.com/api-reference/contacts/search-contacts
- POST contacts {inbox_id, name, identifier, email} → {"payload": {"contact": {...},
  "contact_inbox": {"source_id": ...}}}
  https://developers.chatwoot.com/api-reference/contacts/create-contact
- POST contacts/{id}/contact_inboxes {inbox_id} → {"source_id": ..., "inbox": {...}}
  (a contact found by search that has never written to this inbox)
  https://developers.chatwoot.com/api-reference/contacts/create-contact-inbox
- GET  contacts/{id}/conversations → {"payload": [conversation]}
  https://developers.chatwoot.com/api-reference/contacts/contact-conversations
- POST conversations {source_id, inbox_id, contact_id, status, custom_attributes} →
  {"id": ..., "account_id": ..., "inbox_id": ...}; `id` is the per-account display id
  that every conversations/{conversation_id} path takes.
  https://developers.chatwoot.com/api-reference/conversations/create-new-conversation
- POST conversations/{id}/messages {content, message_type, private} → the message
  https://developers.chatwoot.com/api-reference/messages/create-new-message
- POST conversations/{id}/toggle_priority {priority: urgent|high|medium|low|null}
  https://developers.chatwoot.com/api-reference/conversations/toggle-priority
- GET/POST conversations/{id}/labels {labels: [...]} → {"payload": [...]}; POST replaces
  the whole list, so an update merges with the labels already there.
  https://developers.chatwoot.com/api-reference/conversation-labels/add-labels
- Errors: {"error": "..."} (401 "Invalid Access Token", 404 "Resource could not be
  found", 422) or {"message": "...", "attributes": [...]} (422 validation);
  app/controllers/concerns/request_exception_handler.rb.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from routing.decision import HIGH, NORMAL, URGENT
from routing.handoff import (
    CustomerMessage,
    HandoffError,
    HandoffRequest,
    HandoffTicket,
    HandoffUnavailable,
    UnknownHandoff,
)

ENV_URL = "CHATWOOT_URL"
ENV_ACCOUNT_ID = "CHATWOOT_ACCOUNT_ID"
ENV_INBOX_ID = "CHATWOOT_INBOX_ID"
ENV_API_TOKEN = "CHATWOOT_API_TOKEN"
ENVIRON = (ENV_URL, ENV_ACCOUNT_ID, ENV_INBOX_ID, ENV_API_TOKEN)

TOKEN_HEADER = "api_access_token"
# Our priorities → Chatwoot's (urgent, high, medium, low).
CHATWOOT_PRIORITY = {URGENT: "urgent", HIGH: "high", NORMAL: "medium"}
# Conversation custom attribute that ties a Chatwoot conversation to a Rasa sender id.
RASA_CONVERSATION_ID = "rasa_conversation_id"
RESOLVED = "resolved"


class ChatwootBackend:
    """Hands conversations to one Chatwoot inbox. Constructing it does no network I/O."""

    name = "chatwoot"

    def __init__(
        self,
        base_url: str,
        account_id: int,
        inbox_id: int,
        api_token: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Chatwoot URL must start with http:// or https://; got {base_url!r}.")
        if not api_token:
            raise ValueError("Chatwoot API token is empty; pass the user's access token.")
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.inbox_id = inbox_id
        self.timeout = timeout
        self._token = api_token
        self._transport = transport

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ChatwootBackend:
        """The backend configured by CHATWOOT_URL, _ACCOUNT_ID, _INBOX_ID and _API_TOKEN."""
        env = os.environ if environ is None else environ
        missing = [key for key in ENVIRON if not env.get(key, "").strip()]
        if missing:
            raise HandoffError(
                f"Chatwoot handoff is not configured: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set. Set {ENV_URL} (e.g. "
                f"https://chatwoot.example.com), {ENV_ACCOUNT_ID} and {ENV_INBOX_ID} (numbers "
                f"from the inbox's URL in Chatwoot) and {ENV_API_TOKEN} (Chatwoot → Profile "
                "settings → Access token) in the environment or .env."
            )
        url = env[ENV_URL].strip()
        if not url.startswith(("http://", "https://")):
            raise HandoffError(
                f"{ENV_URL} must start with http:// or https://; got {url!r}. Set it to the "
                "address you open Chatwoot at, e.g. https://chatwoot.example.com."
            )
        return cls(
            url,
            _int_setting(env, ENV_ACCOUNT_ID),
            _int_setting(env, ENV_INBOX_ID),
            env[ENV_API_TOKEN].strip(),
            transport=transport,
        )

    def __repr__(self) -> str:  # never shows the token
        return (
            f"ChatwootBackend(base_url={self.base_url!r}, account_id={self.account_id}, "
            f"inbox_id={self.inbox_id})"
        )

    async def open(self, request: HandoffRequest) -> HandoffTicket:
        priority = CHATWOOT_PRIORITY.get(request.priority)
        if priority is None:
            raise HandoffError(
                f"Unknown handoff priority {request.priority!r}; expected one of "
                f"{', '.join(CHATWOOT_PRIORITY)}."
            )
        async with self._client() as client:
            contact_id, source_id = await self._contact(client, request)
            conversation_id = await self._open_conversation(client, contact_id, request)
            created = conversation_id is None
            if conversation_id is None:
                if source_id is None:
                    source_id = await self._add_to_inbox(client, contact_id)
                conversation_id = await self._create_conversation(
                    client, contact_id, source_id, request
                )
            path = f"/conversations/{conversation_id}"
            await self._call(
                client,
                "POST",
                f"{path}/messages",
                {"content": request.summary_text, "message_type": "outgoing", "private": True},
            )
            await self._call(client, "POST", f"{path}/toggle_priority", {"priority": priority})
            labels = [] if created else await self._labels(client, path)
            if request.queue not in labels:
                await self._call(
                    client, "POST", f"{path}/labels", {"labels": [*labels, request.queue]}
                )
        return HandoffTicket(backend=self.name, reference=str(conversation_id), created=created)

    async def relay(self, reference: str, message: CustomerMessage) -> None:
        unknown = (
            f"Chatwoot account {self.account_id} has no conversation {reference!r}; it may "
            "have been deleted. Open a new handoff for this conversation."
        )
        if not reference.strip():
            raise UnknownHandoff(unknown)
        async with self._client() as client:
            await self._call(
                client,
                "POST",
                f"/conversations/{quote(reference, safe='')}/messages",
                {"content": message.text, "message_type": "incoming", "private": False},
                unknown=unknown,
            )

    # --- steps of `open` ---------------------------------------------------------------
    async def _contact(
        self, client: httpx.AsyncClient, request: HandoffRequest
    ) -> tuple[int, str | None]:
        """The contact's id and, when it already has one, its source id in our inbox."""
        identifier = request.customer_key or request.conversation_id
        contact = await self._search(client, identifier, "identifier")
        if contact is None and request.customer_email:
            # Chatwoot keeps emails unique per account: a contact made elsewhere (an email
            # inbox, an agent) may already hold this one, and creating another would fail.
            contact = await self._search(client, request.customer_email, "email")
        if contact is not None:
            return _id(contact, "contact"), self._source_id(contact)
        body: dict[str, Any] = {
            "inbox_id": self.inbox_id,
            "name": request.customer_name or identifier,
            "identifier": identifier,
        }
        if request.customer_email:
            body["email"] = request.customer_email
        answer = _object(await self._call(client, "POST", "/contacts", body), "payload")
        contact_inbox = answer.get("contact_inbox") or {}
        source_id = contact_inbox.get("source_id") if isinstance(contact_inbox, dict) else None
        return _id(_object(answer, "contact"), "contact"), source_id or None

    async def _search(
        self, client: httpx.AsyncClient, value: str, field: str
    ) -> dict[str, Any] | None:
        answer = await self._call(client, "GET", "/contacts/search", params={"q": value})
        for contact in _list(answer, "payload"):
            found = contact.get(field)
            if isinstance(found, str) and found.casefold() == value.casefold():
                return contact
        return None

    def _source_id(self, contact: dict[str, Any]) -> str | None:
        for contact_inbox in contact.get("contact_inboxes") or []:
            inbox = contact_inbox.get("inbox") or {}
            if inbox.get("id") == self.inbox_id and contact_inbox.get("source_id"):
                return str(contact_inbox["source_id"])
        return None

    async def _add_to_inbox(self, client: httpx.AsyncClient, contact_id: int) -> str:
        answer = await self._call(
            client, "POST", f"/contacts/{contact_id}/contact_inboxes", {"inbox_id": self.inbox_id}
        )
        source_id = answer.get("source_id") if isinstance(answer, dict) else None
        if not source_id:
            raise HandoffError(
                f"Chatwoot added contact {contact_id} to inbox {self.inbox_id} but returned no "
                f"source_id; check that {ENV_INBOX_ID} names an API-channel inbox."
            )
        return str(source_id)

    async def _open_conversation(
        self, client: httpx.AsyncClient, contact_id: int, request: HandoffRequest
    ) -> int | None:
        answer = await self._call(client, "GET", f"/contacts/{contact_id}/conversations")
        for conversation in _list(answer, "payload"):
            attributes = conversation.get("custom_attributes") or {}
            if (
                attributes.get(RASA_CONVERSATION_ID) == request.conversation_id
                and conversation.get("status") != RESOLVED
            ):
                return _id(conversation, "conversation")
        return None

    async def _create_conversation(
        self, client: httpx.AsyncClient, contact_id: int, source_id: str, request: HandoffRequest
    ) -> int:
        body = {
            "source_id": source_id,
            "inbox_id": self.inbox_id,
            "contact_id": contact_id,
            "status": "open",
            "custom_attributes": {
                RASA_CONVERSATION_ID: request.conversation_id,
                "queue": request.queue,
                "priority": request.priority,
                "distress": request.distress,
                "reason": request.reason,
            },
        }
        answer = await self._call(client, "POST", "/conversations", body)
        return _id(answer, "conversation")

    async def _labels(self, client: httpx.AsyncClient, path: str) -> list[str]:
        answer = await self._call(client, "GET", f"{path}/labels")
        labels = answer.get("payload") if isinstance(answer, dict) else None
        return [str(label) for label in labels] if isinstance(labels, list) else []

    # --- HTTP --------------------------------------------------------------------------
    def _client(self) -> httpx.AsyncClient:
        # One client per operation: the action server and the tests may call from
        # different event loops, and a pooled connection cannot cross loops.
        return httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1/accounts/{self.account_id}",
            headers={TOKEN_HEADER: self._token},
            transport=self._transport,
            timeout=self.timeout,
        )

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        unknown: str | None = None,
    ) -> Any:
        """Chatwoot's JSON answer; raises the `HandoffError` that says what went wrong.

        `unknown`: the `UnknownHandoff` message for a 404 (otherwise a 404 is a
        `HandoffError` like any other refusal).
        """
        request = client.build_request(method, path, json=json, params=params)
        where = f"{method} {request.url.copy_with(query=None)}"  # no customer data in errors
        try:
            response = await client.send(request)
        except httpx.TimeoutException as e:
            raise HandoffUnavailable(
                f"Chatwoot did not answer {where} within {self.timeout:g} s "
                f"({type(e).__name__}); check that it is running at {ENV_URL}, then retry."
            ) from e
        except httpx.TransportError as e:
            raise HandoffUnavailable(
                f"Chatwoot could not be reached for {where} ({type(e).__name__}: {e}); check "
                f"{ENV_URL} and that Chatwoot is running, then retry."
            ) from e
        status = response.status_code
        if status >= 500:
            raise HandoffUnavailable(
                f"Chatwoot answered {where} with {status} {response.reason_phrase} "
                f"({_detail(response)}); retry later."
            )
        if status == 401:
            raise HandoffError(
                f"Chatwoot rejected the API token: {where} answered 401 ({_detail(response)}). "
                f"Set {ENV_API_TOKEN} to the access token (Profile settings → Access token) of "
                f"a user of account {self.account_id} ({ENV_ACCOUNT_ID})."
            )
        if status == 404 and unknown is not None:
            raise UnknownHandoff(unknown)
        if status >= 400:
            raise HandoffError(
                f"Chatwoot refused {where} with {status} {response.reason_phrase}: "
                f"{_detail(response)}. Check {ENV_ACCOUNT_ID}={self.account_id} and "
                f"{ENV_INBOX_ID}={self.inbox_id} (an API-channel inbox the token's user is in)."
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise HandoffError(
                f"Chatwoot answered {where} with {response.headers.get('content-type', '?')}, "
                f"not JSON; check that {ENV_URL}={self.base_url} is the Chatwoot server itself."
            ) from e


def _int_setting(environ: Mapping[str, str], key: str) -> int:
    value = environ[key].strip()
    try:
        return int(value)
    except ValueError:
        raise HandoffError(
            f"{key} must be a number (see the URL of the inbox in Chatwoot); got {value!r}."
        ) from None


def _detail(response: httpx.Response) -> str:
    """Chatwoot's own words from an error answer."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or "no details"
    if isinstance(body, dict):
        for key in ("error", "message", "description"):
            if body.get(key):
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
            )
    return str(body)[:200]


def _object(body: Any, key: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise HandoffError(
            f"Chatwoot's answer has no {key!r} object ({str(body)[:200]}); is {ENV_URL} a "
            "Chatwoot server of a supported version?"
        )
    return value


def _list(body: Any, key: str) -> list[dict[str, Any]]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, list):
        raise HandoffError(
            f"Chatwoot's answer has no {key!r} list ({str(body)[:200]}); is {ENV_URL} a "
            "Chatwoot server of a supported version?"
        )
    return [item for item in value if isinstance(item, dict)]


def _id(body: Any, what: str) -> int:
    value = body.get("id") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise HandoffError(
            f"Chatwoot's {what} has no numeric id ({str(body)[:200]}); is {ENV_URL} a "
            "Chatwoot server of a supported version?"
        )
    return value
