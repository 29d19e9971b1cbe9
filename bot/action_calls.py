"""Cheaper action-server round trips for Rasa 3.6, installed in the Rasa server process.

A profile of one turn (`make bench-load`) showed two costs of Rasa's `RemoteAction` that
have nothing to do with the action itself:

- **Response validation.** Rasa checks every action-server reply with
  `jsonschema.validate(reply, schema)`, which first re-checks the (large) event schema
  itself against the JSON-Schema meta-schema: about 38 ms of CPU per call on a 2-core
  machine, a fifth of the Rasa process's time. `install()` validates with
  `ResponseValidator`, compiled once from the same schema, which checks each event
  against the one event schema its `"event"` names (the schema's `oneOf` would try all
  23): the same replies pass, and a reply that fails is checked again in full, so it
  fails with the same `jsonschema.ValidationError` (tests/bot/test_action_calls.py).
- **A new HTTP connection per call.** `EndpointConfig.request` opens a new aiohttp
  `ClientSession` (and TCP connection) for every call and closes it after. The action
  endpoint gets `PooledEndpoint` instead: one session per event loop, with keep-alive
  connections that are dropped after `KEEP_ALIVE_S` idle, well before the action
  server's own keep-alive timeout (Sanic: 5 s), so Rasa never writes to a connection the
  server is closing.

`bot.rasa_server` calls `install()` before Rasa starts. Nothing here changes what an
action does or what Rasa stores.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import aiohttp

KEEP_ALIVE_S = 2.0  # below Sanic's default keep-alive timeout of 5 s
MAX_CONNECTIONS = 64  # concurrent calls to the action server from one Rasa process

_installed = False
_lock = threading.Lock()


class ResponseValidator:
    """Rasa's action-server response schema, compiled once, checked event by event.

    The schema's events are a `oneOf` of 23 event schemas, each naming its own
    `"event"` constant; an event passes `oneOf` exactly when it passes the schema of the
    constant it names, so that is the one checked. Anything else (an unknown event name,
    a reply of another shape, a failure) goes through the whole schema, whose error is
    the one raised."""

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import validators

        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        self.full = cls(schema)
        self.by_event: dict[str, Any] = {}
        properties = schema.get("properties", {})
        items = properties.get("events", {}).get("items", {})
        shared = {key: value for key, value in items.items() if key != "oneOf"}
        for option in items.get("oneOf", []):
            name = option.get("properties", {}).get("event", {}).get("const")
            if not isinstance(name, str) or name in self.by_event:
                self.by_event = {}  # not one schema per event name: always in full
                break
            self.by_event[name] = cls({"allOf": [shared, option]})
        self.responses = cls(properties["responses"]) if "responses" in properties else None

    def validate(self, result: Any) -> None:
        """Raise `jsonschema.ValidationError` unless `result` fits the schema: the
        error `jsonschema.validate` would raise (its best match among all errors)."""
        if self._fits(result):
            return
        from jsonschema.exceptions import best_match

        error = best_match(self.full.iter_errors(result))
        if error is not None:
            raise error

    def _fits(self, result: Any) -> bool:
        if not self.by_event or not isinstance(result, dict):
            return False
        events = result.get("events", [])
        if not isinstance(events, list):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            checker = self.by_event.get(name) if isinstance(name, str) else None
            if checker is None or not checker.is_valid(event):
                return False
        if "responses" in result and self.responses is not None:
            return bool(self.responses.is_valid(result["responses"]))
        return True


def response_validator() -> ResponseValidator:
    """The validator for Rasa's action-server response schema."""
    from rasa.core.actions.action import RemoteAction

    return ResponseValidator(RemoteAction.action_response_format_spec())


class PooledEndpoint:
    """`EndpointConfig.request` with one aiohttp session per event loop, kept open.

    Wraps the EndpointConfig that Rasa read from endpoints.yml: same URL, headers,
    parameters, timeout and errors (`ClientResponseError` for a status of 400 or more)."""

    def __init__(self) -> None:
        # Per event loop, and gone with it (a session cannot be used from another loop).
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def session_for(self, endpoint: Any) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

            auth = None
            if endpoint.basic_auth:
                auth = aiohttp.BasicAuth(
                    endpoint.basic_auth["username"], endpoint.basic_auth["password"]
                )
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEP_ALIVE_S)
            session = aiohttp.ClientSession(
                connector=connector,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            )
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        """Close the running loop's session (before that loop ends; the Rasa server's
        own loop lives as long as the process)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    async def request(
        self,
        endpoint: Any,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        import ssl

        from aiohttp import ContentTypeError
        from rasa.utils.endpoints import ClientResponseError, concat_url

        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(kwargs.pop("headers", None) or {})
        headers.update(endpoint.headers or {})
        sslcontext = ssl.create_default_context(cafile=endpoint.cafile) if endpoint.cafile else None
        async with self.session_for(endpoint).request(
            method,
            concat_url(endpoint.url, subpath),
            headers=headers,
            params=endpoint.combine_parameters(kwargs),
            compress=compress,
            ssl=sslcontext,
            **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(
                    response.status, response.reason, await response.content.read()
                )
            try:
                return await response.json()
            except ContentTypeError:
                return None


def install() -> None:
    """Patch Rasa's `RemoteAction` in this process (once): compiled validation, and
    pooled connections to the action server."""
    global _installed
    with _lock:
        if _installed:
            return
        from jsonschema import ValidationError
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL

        validator = response_validator()
        pool = PooledEndpoint()

        def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
            try:
                validator.validate(result)
            except ValidationError as e:
                # Rasa's own wording, so its logs read the same.
                e.message += (
                    ". Failed to validate Action server response from API, make sure your "
                    "response from the Action endpoint is valid. For more information "
                    f"about the format visit {DOCS_BASE_URL}/custom-actions"
                )
                raise e
            return True

        original_run = RemoteAction.run

        async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            endpoint = self.action_endpoint
            if endpoint is not None and not isinstance(endpoint, _PooledConfig):
                self.action_endpoint = _PooledConfig(endpoint, pool)
            return await original_run(self, *args, **kwargs)

        RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
        RemoteAction.run = run  # type: ignore[method-assign]
        _installed = True


class _PooledConfig:
    """An EndpointConfig whose `request` goes through a `PooledEndpoint`; every other
    attribute is the wrapped config's."""

    def __init__(self, endpoint: Any, pool: PooledEndpoint) -> None:
        self._endpoint = endpoint
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        return await self._pool.request(self._endpoint, *args, **kwargs)
