"""The console's customer desk (admins only): find, export and erase one customer's data.

    POST /api/console/customers/find    {email}           what is held, as counts
    POST /api/console/customers/export  {email}           everything, as one JSON download
    POST /api/console/customers/erase   {email, confirm}  erased from every store; the counts

What `make export-customer` and `make forget-customer` do (`bot.customer_data`), from the
console. Agents and leads get 403, a signed-out browser 401; an e-mail no customer has
gets 404, and an erasure whose `confirm` is not the same e-mail typed again gets 400.
Exports and erasures go to the audit log (`privacy.audit`) before the answer, an erasure
before it starts, as `make forget-customer` does: the admin, their role, the action, the
subject `customer:<id>` as the make targets name it, and as detail which handoffs and
conversations (conversation facts) by id; never the e-mail. Finding shows counts only and
is not audited. The blocking work runs in a thread.
Errors are `{"error", "message"}` as in the console; cross-site POSTs are refused by
`bot.web.security.WebGuard` before they get here, as for every console POST.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.customer_data import CustomerData, Found, UnknownCustomer
from bot.errors import StoreError
from bot.web.console import error
from bot.web.live import LiveFeed
from core.settings import Settings
from insights.schema import facts
from privacy.audit import ERASED, EXPORTED, AuditLog
from routing.accounts import ADMIN, User
from routing.queue import handoffs

logger = logging.getLogger(__name__)

MAX_EMAIL_CHARS = 320  # RFC 5321: 64 for the local part, 255 for the domain, and the @
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]")

Handler = Callable[[Request, User], Awaitable[Response]]
BodyReader = Callable[[Request], Awaitable[dict[str, Any] | JSONResponse]]


class CustomerRef(TypedDict):
    id: str  # the store's customer id, "C1001"
    name: str | None


class FindAnswer(TypedDict):
    customer: CustomerRef
    held: dict[str, int]  # what an export would hold: "conversations", "handoffs", … → rows


class EraseAnswer(TypedDict):
    customer: CustomerRef
    removed: dict[str, int]  # what `CustomerData.forget` removed: "tracker events", … → rows


class CustomerDesk:
    """The desk's routes, over one installation's stores (from `settings`).

    `signed_in` and `json_body` are the console's (`Console.signed_in`,
    `Console.json_body`): the same session, the same body limits and checks. `live`, the
    console's feed, is told which handoffs an erasure removed from the queue.
    """

    def __init__(
        self,
        settings: Settings,
        signed_in: Callable[[Handler], Callable[[Request], Awaitable[Response]]],
        json_body: BodyReader,
        audit: AuditLog,
        live: LiveFeed | None = None,
    ) -> None:
        self.settings = settings
        self.signed_in = signed_in
        self.json_body = json_body
        self.audit = audit
        self.live = live

    def routes(self) -> list[Route]:
        a = self.signed_in
        return [
            Route("/api/console/customers/find", a(admin(self.find)), methods=["POST"]),
            Route("/api/console/customers/export", a(admin(self.export)), methods=["POST"]),
            Route("/api/console/customers/erase", a(admin(self.erase)), methods=["POST"]),
        ]

    # --- Endpoints ----------------------------------------------------------------------
    async def find(self, request: Request, user: User) -> Response:
        email = await self._email(request)
        if isinstance(email, JSONResponse):
            return email
        return await self._run(self._find, email)

    async def export(self, request: Request, user: User) -> Response:
        email = await self._email(request)
        if isinstance(email, JSONResponse):
            return email
        return await self._run(self._export, email, user)

    async def erase(self, request: Request, user: User) -> Response:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        email = valid_email(body.get("email"))
        if isinstance(email, JSONResponse):
            return email
        confirm = body.get("confirm")
        if not isinstance(confirm, str) or confirm.strip().lower() != email.lower():
            return error(
                400,
                "not_confirmed",
                'Type the customer\'s e-mail again in "confirm" to erase them: it must be '
                'the same as "email". Nothing was erased.',
            )
        answer = await self._run(self._erase, email, user)
        if isinstance(answer, tuple):
            erased, handoff_ids = answer
            if self.live is not None:
                # Open handoffs of the customer are gone: every console's queue drops them.
                for handoff_id in handoff_ids:
                    delta = {"delta": True, "handoffs": [], "removed": [handoff_id]}
                    self.live.publish("queue", delta)
            return JSONResponse(erased)
        return answer

    async def _email(self, request: Request) -> str | JSONResponse:
        body = await self.json_body(request)
        if isinstance(body, JSONResponse):
            return body
        return valid_email(body.get("email"))

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)` in a thread, or the answers every action shares: 404 for an
        e-mail no customer has, 503 when a store cannot be read or written."""
        try:
            return await run_in_threadpool(work, *args)
        except UnknownCustomer as e:
            return error(
                404,
                "unknown_customer",
                f"{e} Check the spelling: it must be the e-mail on the customer's profile.",
            )
        except (StoreError, sa.exc.SQLAlchemyError) as e:
            # A statement's parameters may hold the e-mail: the log gets the kind only.
            logger.error("customer desk: %s failed: %s", work.__name__, type(e).__name__)
            return error(
                503,
                "store_unavailable",
                "A store could not be read or written; try again in a moment. An erasure "
                "that stopped halfway finishes when it is run again.",
            )

    # --- The blocking work (in a thread) --------------------------------------------------
    def _find(self, email: str) -> Response:
        exported = self._exported(email)
        answer: FindAnswer = {"customer": reference(exported["customer"]), "held": held(exported)}
        return JSONResponse(answer)

    def _export(self, email: str, user: User) -> Response:
        exported = self._exported(email)
        customer_id = str(exported["customer"]["id"])
        detail = {
            "handoffs": sorted(h["id"] for h in exported["handoffs"]),
            "conversations": sorted(f["id"] for f in exported["conversation_facts"]),
        }
        self.audit.record(user.username, user.role, EXPORTED, f"customer:{customer_id}", detail)
        name = f"customer-{SAFE_FILENAME.sub('_', customer_id)}.json"
        return Response(
            json.dumps(exported, indent=2, default=str, ensure_ascii=False) + "\n",
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _erase(self, email: str, user: User) -> tuple[EraseAnswer, list[int]]:
        data = CustomerData(self.settings)
        try:
            found = data.find(email)
            detail = references(data, found)
            customer = reference(found.customer)
            # Recorded before erasing, as `make forget-customer` does: an erasure that
            # fails halfway has still happened in part.
            subject = f"customer:{customer['id']}"
            self.audit.record(user.username, user.role, ERASED, subject, dict(detail))
            removed = data.forget(email)
        finally:
            data.close()
        return {"customer": customer, "removed": removed}, detail["handoffs"]

    def _exported(self, email: str) -> dict[str, Any]:
        data = CustomerData(self.settings)
        try:
            return data.export(email)
        finally:
            data.close()


def admin(handler: Handler) -> Handler:
    async def wrapped(request: Request, user: User) -> Response:
        if not user.can(ADMIN):
            return error(
                403,
                "admins_only",
                "Finding, exporting and erasing a customer's data is for admins.",
            )
        return await handler(request, user)

    return wrapped


def valid_email(value: Any) -> str | JSONResponse:
    """The e-mail of a request, stripped, or the 400 that says what is wrong with it."""
    email = value.strip() if isinstance(value, str) else ""
    if not email:
        return error(
            400,
            "invalid_email",
            'Send {"email": "..."} with the customer\'s e-mail, like dana@example.com.',
        )
    if len(email) > MAX_EMAIL_CHARS:
        return error(
            400,
            "invalid_email",
            f"The e-mail has {len(email):,} characters; an e-mail has at most "
            f"{MAX_EMAIL_CHARS}. Check what was pasted.",
        )
    if "@" not in email[1:-1]:
        return error(
            400,
            "invalid_email",
            f"{email!r} is not an e-mail: it needs an @ between a name and a domain, like "
            "dana@example.com.",
        )
    return email


def reference(customer: dict[str, Any]) -> CustomerRef:
    return {"id": str(customer["id"]), "name": customer.get("name")}


def held(exported: dict[str, Any]) -> dict[str, int]:
    """The export as counts: rows per part, and the conversations' events."""
    counts = {key: len(value) for key, value in exported.items() if isinstance(value, list)}
    counts["conversation_events"] = sum(
        len(c.get("events") or []) for c in exported.get("conversations") or []
    )
    counts["handoff_messages"] = sum(
        len(h.get("messages") or []) for h in exported.get("handoffs") or []
    )
    return counts


def references(data: CustomerData, found: Found) -> dict[str, list[int]]:
    """Which handoffs and conversations (conversation facts) the customer has, by id:
    what the audit log names instead of conversation ids (a phone number on SMS)."""
    senders = sorted(found.senders)
    with data.store.connect() as connection:
        handoff_ids = connection.execute(
            sa.select(handoffs.c.id).where(handoffs.c.conversation_id.in_(senders))
        ).scalars()
        fact_ids = connection.execute(
            sa.select(facts.c.id).where(facts.c.sender_id.in_(senders))
        ).scalars()
        return {"handoffs": sorted(handoff_ids), "conversations": sorted(fact_ids)}
