"""`PlatformAPI`: calls to a messaging platform's HTTP API, with retries.

One `httpx.AsyncClient` per platform and process (connections are reused), nothing that
blocks the event loop. A call that gets 429 or a 5xx, or no answer at all, is retried
with exponential backoff (honouring `Retry-After`, up to `max_wait_seconds`); after
`attempts` tries it raises `DeliveryFailed`, which says what the platform answered, and
is logged where it is caught — never dropped silently. Other 4xx answers (a wrong token,
a message the platform refuses) are not retried: trying again would not help.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx

from core.errors import SupportError

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 20.0
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class DeliveryFailed(SupportError):
    """A platform did not take a message; the text says which, what it answered, and
    whether trying again later may help."""


class PlatformAPI:
    """Calls to one platform; `ok` decides whether a 2xx answer is a success (Slack
    answers 200 with {"ok": false} for errors)."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        ok: Callable[[httpx.Response], str | None] | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.auth = auth
        self.ok = ok or (lambda response: None)
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self.timeout = TIMEOUT
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client belongs to the loop it was made in.
            self._client = httpx.AsyncClient(timeout=TIMEOUT, headers=self.headers, auth=self.auth)
            self._loop = loop
        return self._client

    async def call(
        self,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        what: str = "message",
    ) -> dict[str, Any]:
        """POST to `path` (below the base URL); the answer's JSON, or DeliveryFailed."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        problem = ""
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff_seconds * 2 ** (attempt - 1) * (0.75 + random.random() / 2)
            try:
                response = await self._http().post(url, json=json, data=data, params=params)
            except httpx.HTTPError as e:
                problem = f"no answer ({type(e).__name__}: {e})"
            else:
                if response.status_code in RETRY_STATUSES:
                    problem = f"HTTP {response.status_code} {response.text[:200]!r}"
                    wait = max(wait, retry_after(response))
                elif response.is_success:
                    refusal = self.ok(response)
                    if refusal is None:
                        return body_of(response)
                    if refusal.startswith("retry:"):
                        problem = refusal[len("retry:") :]
                    else:
                        raise DeliveryFailed(
                            f"{self.platform} refused the {what}: {refusal}. Check the "
                            "channel's settings (docs/channels.md); retrying will not help."
                        )
                else:
                    raise DeliveryFailed(
                        f"{self.platform} refused the {what} with HTTP "
                        f"{response.status_code}: {response.text[:300]!r}. Check the "
                        "channel's settings (docs/channels.md); retrying will not help."
                    )
            if attempt == self.attempts:
                break
            if wait > self.max_wait_seconds:
                break  # asked to wait longer than a chat can: give up now, say so
            logger.warning(
                "%s: sending a %s failed (%s); try %d of %d in %.1f s",
                self.platform,
                what,
                problem,
                attempt + 1,
                self.attempts,
                wait,
            )
            await asyncio.sleep(wait)
        raise DeliveryFailed(
            f"{self.platform} did not take the {what} after {attempt} tries: {problem}. "
            "The platform may be down or rate-limiting; the message was not sent."
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def retry_after(response: httpx.Response) -> float:
    """Seconds the platform asked to wait (Retry-After, or Telegram's retry_after)."""
    header = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        parameters = response.json().get("parameters") or {}
        return max(0.0, float(parameters.get("retry_after", 0)))
    except (ValueError, AttributeError, TypeError):
        return 0.0


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"result": body}
