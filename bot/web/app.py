"""The web front's ASGI app (Starlette), served by uvicorn on WEB_PORT.

Pages come with a JSON twin, and every error is shaped once, in `error_response`:
`{"error": code, "message": explanation}` with the right status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.settings import PROJECT_ROOT, Settings
from bot.web.transcript import transcript_from_events

HERE = Path(__file__).resolve().parent
VENDOR_FILES = {
    "socket.io.min.js": PROJECT_ROOT / "node_modules/socket.io-client/dist/socket.io.min.js",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.load()
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
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
        url = f"{settings.rasa_url}/conversations/{session_id}/tracker"
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                reply = await client.get(
                    url, params={"include_events": "ALL", "token": settings.rasa_api_token}
                )
        except httpx.HTTPError as e:
            return error_response(
                503,
                "rasa_unavailable",
                f"The Rasa server at {settings.rasa_url} is unreachable ({e}).",
            )
        if reply.status_code != 200:
            return error_response(502, "rasa_error", f"Rasa answered {reply.status_code}.")
        return JSONResponse({"messages": transcript_from_events(reply.json().get("events", []))})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, "http_error", str(exc.detail))

    routes = [
        Route("/", chat_page),
        Route("/chat.json", chat_config),
        Route("/health", health),
        Route("/vendor/{name}", vendor),
        Route("/api/conversations/{session_id}/messages", conversation_messages),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.settings = settings
    return app
