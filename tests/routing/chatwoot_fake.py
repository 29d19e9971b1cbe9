"""An in-memory Chatwoot for testing `ChatwootBackend` through `httpx.MockTransport`.

It serves exactly the Application API endpoints the backend uses, checks requests the
way Chatwoot documents them (api_access_token header, required fields, enums, unknown
ids → 404) and answers with the documented shapes (see routing/backends/chatwoot.py for
the references). It records contacts, conversations, messages, priorities and labels.

    >>> fake = FakeChatwoot()
    >>> backend = fake.backend()
    >>> fake.down = True  # every request now gets 503; fake.unreachable: ConnectError
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from routing.backends.chatwoot import ChatwootBackend

BASE_URL = "https://chatwoot.test"
TOKEN = "test-token-1234"
ACCOUNT_ID = 3
INBOX_ID = 7
PRIORITIES = ("urgent", "high", "medium", "low", None)
STATUSES = ("open", "resolved", "pending")
MESSAGE_TYPES = ("outgoing", "incoming")
MESSAGE_TYPE_NUMBER = {"incoming": 0, "outgoing": 1}  # how Chatwoot's message JSON shows them
# Chatwoot's priorities back to ours, for the contract tests.
OUR_PRIORITY = {"urgent": "urgent", "high": "high", "medium": "normal"}


class Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def unprocessable(message: str) -> Refusal:
    return Refusal(422, {"message": message, "attributes": []})


def not_found() -> Refusal:
    return Refusal(404, {"error": "Resource could not be found"})


@dataclass
class Message:
    content: str
    message_type: str
    private: bool


@dataclass
class Conversation:
    id: int  # Chatwoot's display id, what the API calls the conversation id
    contact_id: int
    inbox_id: int
    source_id: str
    status: str
    custom_attributes: dict[str, Any]
    priority: str | None = None
    labels: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": ACCOUNT_ID,
            "inbox_id": self.inbox_id,
            "status": self.status,
            "priority": self.priority,
            "labels": list(self.labels),
            "custom_attributes": dict(self.custom_attributes),
            "messages": [],
            "meta": {"sender": {"id": self.contact_id}},
        }


class FakeChatwoot:
    """One Chatwoot account with one API inbox, served by `handle`."""

    def __init__(self, account_id: int = ACCOUNT_ID, inbox_id: int = INBOX_ID) -> None:
        self.account_id = account_id
        self.inbox_id = inbox_id
        self.contacts: dict[int, dict[str, Any]] = {}
        self.contact_inboxes: dict[str, tuple[int, int]] = {}  # source id → contact, inbox
        self.conversations: dict[int, Conversation] = {}
        self.requests: list[httpx.Request] = []
        self.down = False  # answer every request with 503
        self.unreachable = False  # raise httpx.ConnectError for every request
        self.routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/contacts/search", self.search_contacts),
            ("POST", r"/contacts", self.create_contact),
            ("POST", r"/contacts/(?P<id>[^/]+)/contact_inboxes", self.create_contact_inbox),
            ("GET", r"/contacts/(?P<id>[^/]+)/conversations", self.contact_conversations),
            ("POST", r"/conversations", self.create_conversation),
            ("POST", r"/conversations/(?P<id>[^/]+)/messages", self.create_message),
            ("POST", r"/conversations/(?P<id>[^/]+)/toggle_priority", self.toggle_priority),
            ("GET", r"/conversations/(?P<id>[^/]+)/labels", self.list_labels),
            ("POST", r"/conversations/(?P<id>[^/]+)/labels", self.add_labels),
        ]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def backend(self, api_token: str = TOKEN, timeout: float = 10.0) -> ChatwootBackend:
        return ChatwootBackend(
            BASE_URL, self.account_id, self.inbox_id, api_token, self.transport(), timeout
        )

    # --- what tests look at -----------------------------------------------------------
    def conversation(self, reference: str) -> Conversation:
        return self.conversations[int(reference)]

    def notes(self, reference: str) -> list[str]:
        return [m.content for m in self.conversation(reference).messages if m.private]

    def incoming(self, reference: str) -> list[str]:
        return [
            m.content
            for m in self.conversation(reference).messages
            if m.message_type == "incoming" and not m.private
        ]

    def resolve(self, reference: str) -> None:
        self.conversation(reference).status = "resolved"

    def add_contact(self, **fields: Any) -> dict[str, Any]:
        """A contact made outside the backend (by an agent, another inbox, ...)."""
        contact = {
            "id": len(self.contacts) + 1,
            "name": None,
            "email": None,
            "identifier": None,
            "phone_number": None,
            **fields,
        }
        self.contacts[contact["id"]] = contact
        return contact

    # --- HTTP --------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.unreachable:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if self.down:
            return httpx.Response(503, text="<html><h1>503 Service Unavailable</h1></html>")
        if request.headers.get("api_access_token") != TOKEN:
            return httpx.Response(401, json={"error": "Invalid Access Token"})
        prefix = f"/api/v1/accounts/{self.account_id}"
        path = request.url.raw_path.decode().split("?")[0]  # routed before unquoting, like Rails
        if not path.startswith(prefix + "/"):
            return httpx.Response(
                401, json={"error": "You are not authorized to access this account"}
            )
        for method, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path[len(prefix) :])
            if match and method == request.method:
                ids = {k: unquote(v) for k, v in match.groupdict().items()}
                try:
                    answer = handler(request, **ids)
                except Refusal as refusal:
                    return httpx.Response(refusal.status, json=refusal.body)
                # Chatwoot answers some actions (toggle_priority) with `head :ok`.
                return httpx.Response(200) if answer is None else httpx.Response(200, json=answer)
        raise AssertionError(f"FakeChatwoot does not serve {request.method} {path}")

    def body(self, request: httpx.Request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise unprocessable("expected a JSON body")
        body = json.loads(request.content)
        if not isinstance(body, dict):
            raise unprocessable("expected a JSON object")
        return body

    def find_conversation(self, id: str) -> Conversation:
        if not id.isdigit() or int(id) not in self.conversations:
            raise not_found()
        return self.conversations[int(id)]

    # --- endpoints ----------------------------------------------------------------------
    def search_contacts(self, request: httpx.Request) -> dict[str, Any]:
        q = request.url.params.get("q", "").strip()
        if not q:
            raise unprocessable("Specify search string with parameter q")
        needle = q.casefold()
        found = [
            self.contact_json(c)
            for c in self.contacts.values()
            if any(
                needle in (c.get(key) or "").casefold()
                for key in ("name", "email", "identifier", "phone_number")
            )
            or str(c["id"]) == q
        ]
        return {"meta": {"count": len(found), "current_page": 1}, "payload": found[:15]}

    def create_contact(self, request: httpx.Request) -> dict[str, Any]:
        body = self.body(request)
        if body.get("inbox_id") is None:
            raise unprocessable("inbox_id is required")
        if body["inbox_id"] != self.inbox_id:
            raise not_found()
        for key in ("identifier", "email"):
            value = body.get(key)
            if value and any(c.get(key) == value for c in self.contacts.values()):
                raise Refusal(
                    422,
                    {"message": f"{key.capitalize()} has already been taken", "attributes": [key]},
                )
        contact = self.add_contact(
            **{k: body.get(k) for k in ("name", "email", "identifier", "phone_number")}
        )
        source_id = self.new_contact_inbox(contact["id"])
        return {
            "payload": {
                "contact": self.contact_json(contact),
                "contact_inbox": {"source_id": source_id, "inbox": self.inbox_json()},
            }
        }

    def create_contact_inbox(self, request: httpx.Request, id: str) -> dict[str, Any]:
        contact = self.contacts.get(int(id)) if id.isdigit() else None
        if contact is None:
            raise not_found()
        body = self.body(request)
        if body.get("inbox_id") != self.inbox_id:
            raise unprocessable("inbox_id must name an inbox of this account")
        return {"source_id": self.new_contact_inbox(contact["id"]), "inbox": self.inbox_json()}

    def contact_conversations(self, request: httpx.Request, id: str) -> dict[str, Any]:
        if not id.isdigit() or int(id) not in self.contacts:
            raise not_found()
        return {
            "payload": [c.as_json() for c in self.conversations.values() if c.contact_id == int(id)]
        }

    def create_conversation(self, request: httpx.Request) -> dict[str, Any]:
        body = self.body(request)
        source_id = body.get("source_id")
        if not isinstance(source_id, str) or not source_id:
            raise unprocessable("source_id is required")
        if source_id not in self.contact_inboxes:
            raise not_found()
        contact_id, inbox_id = self.contact_inboxes[source_id]
        if body.get("inbox_id", inbox_id) != inbox_id:
            raise unprocessable("inbox_id does not match the source_id's inbox")
        if body.get("contact_id", contact_id) != contact_id:
            raise unprocessable("contact_id does not match the source_id's contact")
        status = body.get("status", "open")
        if status not in STATUSES:
            raise unprocessable(f"'{status}' is not a valid status")
        attributes = body.get("custom_attributes", {})
        if not isinstance(attributes, dict):
            raise unprocessable("custom_attributes must be an object")
        conversation = Conversation(
            id=len(self.conversations) + 1,
            contact_id=contact_id,
            inbox_id=inbox_id,
            source_id=source_id,
            status=status,
            custom_attributes=attributes,
        )
        self.conversations[conversation.id] = conversation
        return {"id": conversation.id, "account_id": self.account_id, "inbox_id": inbox_id}

    def create_message(self, request: httpx.Request, id: str) -> dict[str, Any]:
        conversation = self.find_conversation(id)
        body = self.body(request)
        content = body.get("content")
        if not isinstance(content, str):
            raise unprocessable("content is required")
        message_type = body.get("message_type", "outgoing")
        if message_type not in MESSAGE_TYPES:
            raise unprocessable(f"'{message_type}' is not a valid message_type")
        private = body.get("private", False)
        if not isinstance(private, bool):
            raise unprocessable("private must be a boolean")
        conversation.messages.append(Message(content, message_type, private))
        return {
            "id": sum(len(c.messages) for c in self.conversations.values()),
            "content": content,
            "message_type": MESSAGE_TYPE_NUMBER[message_type],
            "private": private,
            "conversation_id": conversation.id,
            "content_type": "text",
        }

    def toggle_priority(self, request: httpx.Request, id: str) -> None:
        conversation = self.find_conversation(id)
        priority = self.body(request).get("priority")
        if priority not in PRIORITIES:
            raise unprocessable(f"'{priority}' is not a valid priority")
        conversation.priority = priority
        return None

    def list_labels(self, request: httpx.Request, id: str) -> dict[str, Any]:
        return {"payload": list(self.find_conversation(id).labels)}

    def add_labels(self, request: httpx.Request, id: str) -> dict[str, Any]:
        conversation = self.find_conversation(id)
        labels = self.body(request).get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise unprocessable("labels must be a list of strings")
        conversation.labels = list(labels)  # replaces, as documented
        return {"payload": list(conversation.labels)}

    # --- shapes -------------------------------------------------------------------------
    def new_contact_inbox(self, contact_id: int) -> str:
        source_id = str(uuid.uuid4())
        self.contact_inboxes[source_id] = (contact_id, self.inbox_id)
        return source_id

    def inbox_json(self) -> dict[str, Any]:
        return {"id": self.inbox_id, "name": "Rasa handoff", "channel_type": "Channel::Api"}

    def contact_json(self, contact: dict[str, Any]) -> dict[str, Any]:
        return {
            **contact,
            "custom_attributes": {},
            "contact_inboxes": [
                {"source_id": source_id, "inbox": self.inbox_json()}
                for source_id, (contact_id, _) in self.contact_inboxes.items()
                if contact_id == contact["id"]
            ],
        }


class ChatwootHarness:
    """What the shared contract tests need, for `ChatwootBackend` on a `FakeChatwoot`."""

    def __init__(self) -> None:
        self.fake = FakeChatwoot()
        self.backend = self.fake.backend()
        self.down = FakeChatwoot()
        self.down.down = True
        self.broken = self.down.backend()

    async def relayed_texts(self, reference: str) -> list[str]:
        return self.fake.incoming(reference)

    async def priority(self, reference: str) -> str:
        priority = self.fake.conversation(reference).priority
        return OUR_PRIORITY.get(priority or "", f"unmapped Chatwoot priority {priority!r}")

    async def summary_of(self, reference: str) -> str:
        notes = self.fake.notes(reference)
        return notes[-1] if notes else ""
