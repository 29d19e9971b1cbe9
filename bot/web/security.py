"""`WebGuard`: what every request to the web front passes through, and every answer gets.

An ASGI middleware around the whole app (pages, static files, JSON API, live stream):

- **Security headers** on every response: a Content-Security-Policy without
  `unsafe-inline` (scripts and styles come only from this origin; the pages have no
  inline code, and the chat's `<script type="application/json">` config is data, which
  CSP does not block), `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old
  browsers), `X-Content-Type-Options: nosniff` and
  `Referrer-Policy: strict-origin-when-cross-origin`. The chat page talks to Rasa's
  socket.io on RASA_PORT, another origin, so its `connect-src` names that origin
  (`PUBLIC_HOST`, else the host the page was loaded from); the console's allows only
  its own. Over https, `Strict-Transport-Security` too.
- **Cross-site request refusal** for every state-changing method (403), as Go 1.25's
  `net/http.CrossOriginProtection` does it (OWASP CSRF Cheat Sheet: "Fetch Metadata"
  and "Verifying Origin with standard headers"): a browser's `Sec-Fetch-Site` must say
  `same-origin` (or `none`, typed by the user); a browser too old to send it must send an
  `Origin` equal to the request's host; a request with neither header is not from a
  browser, so it carries no victim's cookie, and passes. Together with the session
  cookie's `SameSite=Strict` and JSON-only bodies (a cross-site form cannot send
  `application/json` without a CORS preflight, which is never granted), a page on another
  site cannot make a signed-in agent's browser claim, answer or close a conversation.
  Unlike a token scheme, nothing has to be threaded through pages and scripts, and the
  action server's and scripts' plain HTTP calls keep working.
- **Body limits**: a declared `Content-Length` over the limit (64 KB; 1 MB for the
  internal API, whose handoff requests carry a whole transcript) is answered 413 before
  any of the body is read. Handlers that read a body stop at the same limit while
  reading (`core.json_body.read_body`), for chunked bodies and false lengths.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.json_body import MAX_BODY_BYTES, JSONBodyError, check_content_length

MAX_INTERNAL_BODY_BYTES = 1024 * 1024
INTERNAL_PREFIX = "/internal/"
CONSOLE_PREFIXES = ("/console", "/api/console/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
HSTS = "max-age=31536000"

ErrorResponse = Callable[[int, str, str], Response]


@dataclass(frozen=True)
class WebPolicy:
    """What the guard needs to know of the deployment (from `core.settings.Settings`)."""

    rasa_port: int
    public_host: str = ""  # PUBLIC_HOST: the host the browser reaches Rasa at
    public_url: str = ""  # the web front's public URL, if configured (https → Secure)
    body_limit: int = MAX_BODY_BYTES
    internal_body_limit: int = MAX_INTERNAL_BODY_BYTES

    def body_limit_for(self, path: str) -> int:
        return self.internal_body_limit if path.startswith(INTERNAL_PREFIX) else self.body_limit

    @property
    def public_https(self) -> bool:
        return self.public_url.lower().startswith("https://")

    def is_https(self, scope: Scope) -> bool:
        """Whether the browser reaches this request over https: uvicorn sets the scheme
        from X-Forwarded-Proto of a trusted local proxy, or the public URL says so."""
        return scope.get("scheme") in ("https", "wss") or self.public_https

    def trusted_origins(self) -> frozenset[str]:
        if not self.public_url:
            return frozenset()
        parts = urlsplit(self.public_url)
        return frozenset({f"{parts.scheme}://{parts.netloc}".lower()})

    def content_security_policy(self, scope: Scope) -> str:
        connect = ["'self'"]
        path = scope.get("path", "")
        if not path.startswith(CONSOLE_PREFIXES):
            connect += self.rasa_sources(scope)
        directives = [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src " + " ".join(connect),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
        return "; ".join(directives)

    def rasa_sources(self, scope: Scope) -> list[str]:
        """The origins the chat's socket.io client connects to: `location.protocol`
        with the Rasa host and RASA_PORT (bot/web/static/chat/main.js)."""
        host = self.public_host or (Request(scope).url.hostname or "")
        if not HOST_NAME.fullmatch(host):
            return []  # an IPv6 literal or junk: CSP host sources cannot name it
        secure = self.is_https(scope)
        http, ws = ("https", "wss") if secure else ("http", "ws")
        return [f"{http}://{host}:{self.rasa_port}", f"{ws}://{host}:{self.rasa_port}"]


# Posted to from the company's own website by design: the signed identity token in the
# form is the request's proof, not its origin (bot/web/chat.py).
CROSS_SITE_PATHS = frozenset({"/sign-in"})


def cross_site_refusal(method: str, headers: Headers, trusted: frozenset[str]) -> str | None:
    """Why a request must be refused as cross-site, or None when it may go on."""
    if method.upper() in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None and origin.lower() in trusted:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return None
        return f"the browser says it comes from a {site} page (Sec-Fetch-Site: {site})"
    if origin is None:
        return None  # not a browser (or an old one on a same-origin page)
    host = headers.get("host", "")
    if urlsplit(origin).netloc.lower() == host.lower() and host:
        return None
    return f"it comes from {origin}, not from {host or 'this host'}"


class WebGuard:
    """The ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, policy: WebPolicy, error: ErrorResponse) -> None:
        self.app = app
        self.policy = policy
        self.error = error
        self.trusted = policy.trusted_origins()

    def headers_for(self, scope: Scope) -> dict[str, str]:
        headers = {
            "Content-Security-Policy": self.policy.content_security_policy(scope),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
        path = scope.get("path", "")
        if path.startswith(("/api/", INTERNAL_PREFIX)):
            headers["Cache-Control"] = "no-store"  # customer data: never in a cache
        if self.policy.is_https(scope):
            headers["Strict-Transport-Security"] = HSTS
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        refused = self.refusal(scope)
        if refused is not None:
            await refused(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        why = None
        if scope.get("path") not in CROSS_SITE_PATHS:
            why = cross_site_refusal(scope["method"], headers, self.trusted)
        if why is not None:
            return self.error(
                403,
                "cross_site_request",
                f"Refused: {why}. Use the console at its own address.",
            )
        try:
            check_content_length(
                headers.get("content-length"), self.policy.body_limit_for(scope["path"])
            )
        except JSONBodyError as e:
            return self.error(e.status, e.code, e.message)
        return None
