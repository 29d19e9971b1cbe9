"""The web front's ASGI app (Starlette), served by uvicorn on WEB_PORT.

Pages come with a JSON twin, and every error is shaped once, in `error_response`:
`{"error": code, "message": explanation}` with the right status. Every request passes
`bot.web.security.WebGuard` (security headers, cross-site refusal, body limits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from bot.web.console import Console
from bot.web.rasa_client import RasaConversations, RasaUnavailable
from bot.web.security import WebGuard, WebPolicy
from core.conversation import Conversation
from core.paths import PROJECT_ROOT
from core.settings import Settings
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

    def client_config() -> dict[str, Any]:
        return {
            "rasa_port": settings.rasa_port,
            "rasa_host": settings.public_host or None,
            "socket_path": "/socket.io",
            "max_message_chars": settings.max_message_chars,
        }

    async def chat_page(request: Request) -> HTMLResponse:
        html = templates.get_template("chat.html").render(config=client_config())
        return HTMLResponse(html)

    async def chat_config(request: Request) -> JSONResponse:
        return JSONResponse(client_config())

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

    async def conversation_messages(request: Request) -> JSONResponse:
        """The messages of one web chat conversation, so a reloaded page shows them."""
        session_id = request.path_params["session_id"]
        if not (8 <= len(session_id) <= 64 and session_id.isalnum()):
            return error_response(
                400, "invalid_session_id", "Session ids are 8-64 letters or digits."
            )
        try:
            tracker = await rasa.tracker(session_id)
        except RasaUnavailable as e:
            return error_response(503, "rasa_unavailable", str(e))
        return JSONResponse(
            {"messages": Conversation.from_events(tracker.get("events", [])).transcript()}
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, "http_error", str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(
            500,
            "internal_error",
            "The web front failed on this request; DATA_DIR/logs/web.log says why.",
        )

    console = Console(
        settings,
        HandoffQueue(settings.store_url),
        Accounts(settings.store_url),
        rasa,
        lambda name, context: templates.get_template(name).render(**context),
        policy=policy,
    )
    routes = [
        *console.routes(),
        Route("/", chat_page),
        Route("/chat.json", chat_config),
        Route("/health", health),
        Route("/vendor/{name}", vendor),
        Route("/api/conversations/{session_id}/messages", conversation_messages),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = GuardedApp(
        policy,
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.settings = settings
    app.state.console = console
    return app
