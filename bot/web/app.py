"""The web front's ASGI app (Starlette), served by uvicorn on WEB_PORT.

Pages come with a JSON twin, and every error is shaped once, in `error_response`:
`{"error": code, "message": explanation}` with the right status. Every request passes
`bot.web.security.WebGuard` (security headers, cross-site refusal, body limits).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from bot.privacy_requests import run_every_minute
from bot.retention import run_daily
from bot.store import SupportStore
from bot.web.chat import ChatFront
from bot.web.console import Console
from bot.web.customer_desk import CustomerDesk
from bot.web.live_bus import PostgresBus
from bot.web.rasa_client import RasaConversations
from bot.web.security import WebGuard, WebPolicy
from bot.web.workspace import LeadWorkspace
from core.paths import PROJECT_ROOT
from core.settings import Settings
from insights.consumer import OutboxConsumer
from insights.facts import FactsStore
from privacy.audit import AuditLog
from routing.accounts import Accounts
from routing.queue import HandoffQueue

HERE = Path(__file__).resolve().parent
VENDOR_FILES = {
    "socket.io.min.js": PROJECT_ROOT / "node_modules/socket.io-client/dist/socket.io.min.js",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class GuardedApp(Starlette):
    """Starlette with `WebGuard` outside everything, its error pages (500s) included."""

    def __init__(self, policy: WebPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def build_middleware_stack(self) -> ASGIApp:
        return WebGuard(super().build_middleware_stack(), self.policy, error_response)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.load()
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
    )

    rasa = RasaConversations(settings.rasa_url, settings.rasa_api_token)
    policy = WebPolicy(
        rasa_port=settings.rasa_port,
        public_host=settings.public_host,
        # PUBLIC_URL (the web front's https address behind a proxy), once settings has it.
        public_url=str(getattr(settings, "public_url", "") or ""),
    )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def vendor(request: Request) -> Response:
        name = request.path_params["name"]
        path = VENDOR_FILES.get(name)
        if path is None:
            return error_response(404, "not_found", f"No vendor file {name!r}.")
        if not path.is_file():
            return error_response(
                500,
                "missing_frontend_package",
                f"{path.relative_to(PROJECT_ROOT)} is missing: run `make setup` "
                "(it installs the front-end packages from package-lock.json).",
            )
        return FileResponse(path, media_type="application/javascript")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, "http_error", str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(
            500,
            "internal_error",
            "The web front failed on this request; DATA_DIR/logs/web.log says why.",
        )

    def render(name: str, context: dict[str, Any]) -> str:
        return templates.get_template(name).render(**context)

    queue, accounts = HandoffQueue(settings.store_url), Accounts(settings.store_url)
    facts = FactsStore(settings.store_url, settings.identity_secret.encode())
    store = SupportStore(settings.store_url)  # the console's customers by e-mail
    audit = AuditLog(settings.store_url)  # who opened which conversation
    console = Console(
        settings,
        queue,
        accounts,
        rasa,
        render,
        policy=policy,
        facts=facts,
        store=store,
        audit=audit,
    )
    workspace = LeadWorkspace(facts, rasa, console.signed_in, console.json_body, audit)
    desk = CustomerDesk(settings, console.signed_in, console.json_body, audit, console.live)
    chat = ChatFront(settings, rasa, queue, accounts, render)
    routes = [
        *console.routes(),
        *workspace.routes(),
        *desk.routes(),
        *chat.routes(),
        Route("/health", health),
        Route("/vendor/{name}", vendor),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The embedded event broker's consumer: conversation facts for the lead workspace.
        stop = OutboxConsumer(facts).start()
        # Conversations past RETENTION_DAYS: erased, their facts reduced to numbers.
        retention = asyncio.create_task(run_daily(settings))
        # Erasures customers asked for in the chat, once their conversation is quiet.
        erasures = asyncio.create_task(run_every_minute(settings))
        if settings.store_url.startswith("postgres"):
            # Several web fronts share one store: the console's live updates go to all.
            console.live.connect(PostgresBus(settings.store_url))
        try:
            yield
        finally:
            retention.cancel()
            erasures.cancel()
            await run_in_threadpool(console.live.disconnect)
            await run_in_threadpool(stop)
            facts.close()
            store.close()
            audit.close()

    app = GuardedApp(
        policy,
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.settings = settings
    app.state.console = console
    return app
