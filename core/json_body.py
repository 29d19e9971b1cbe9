"""`read_json`: parse a JSON request body from an untrusted client, safely.

`json.loads` alone lets a client turn a request into a 500: a body nested 10,000 levels
deep raises `RecursionError` (not a `ValueError`), and `"\\ud800"` decodes to a lone
surrogate that no database or UTF-8 encoder accepts. `read_json` raises a
`JSONBodyError` with an error code and a message for the client instead: for deep
nesting always, for lone surrogates when the caller does not clean strings itself. The
Rasa channels (Sanic) and the web front (Starlette) read request bodies with it.

Before the JSON is parsed, `check_content_type` refuses a body that is not declared as
`application/json` (415), and `read_body` collects a body in chunks and stops at a byte
limit (413) instead of reading whatever a client sends into memory. Each error carries
the HTTP `status` to answer with.

    >>> read_json(b'{"sender": "customer-42", "message": "hi"}')
    {'sender': 'customer-42', 'message': 'hi'}
    >>> try:
    ...     read_json(b"[" * 100_000 + b"]" * 100_000)  # json.loads: RecursionError
    ... except JSONBodyError as e:
    ...     print(e.code)
    json_too_deep
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Callable
from typing import Any

from core.errors import SupportError

# Deepest nesting a request body may have. The project's payloads are 2-4 levels deep
# (a body, its metadata, a value in it); 32 leaves room for any channel's extras.
MAX_JSON_DEPTH = 32

# Largest JSON body a browser-facing endpoint reads (the console's sign-in, replies and
# notes are a few hundred bytes; a reply is at most 4,000 characters).
MAX_BODY_BYTES = 64 * 1024

INVALID_JSON = "invalid_json"
JSON_TOO_DEEP = "json_too_deep"
BODY_TOO_LARGE = "body_too_large"
INVALID_CONTENT_LENGTH = "invalid_content_length"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
JSON_MEDIA_TYPE = "application/json"
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONBodyError(SupportError, ValueError):
    """A request body that is not JSON a handler can use; `code` names why, `status` is
    the HTTP status to answer with (400, 413 for too large, 415 for not JSON)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def check_content_type(content_type: str | None) -> None:
    """Raise `unsupported_media_type` (415) unless `content_type` is application/json
    (parameters such as `; charset=utf-8` are fine).

    Besides telling a client what went wrong, this keeps a cross-site HTML form (which
    can only send form or text bodies without a CORS preflight) away from JSON handlers.
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise JSONBodyError(
            UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {JSON_MEDIA_TYPE}, got {media_type or 'none'!r}.",
            415,
        )


def check_content_length(declared: str | None, limit: int) -> None:
    """Raise `body_too_large` (413) when the declared Content-Length is over `limit`
    bytes, before any of the body is read; `invalid_content_length` (400) for a header
    that is not a byte count."""
    if declared is None:
        return
    if not declared.strip().isdigit():
        raise JSONBodyError(
            INVALID_CONTENT_LENGTH, f"Content-Length {declared!r} is not a number of bytes."
        )
    if int(declared) > limit:
        raise JSONBodyError(BODY_TOO_LARGE, too_large_message(limit), 413)


async def read_body(chunks: AsyncIterable[bytes], limit: int = MAX_BODY_BYTES) -> bytes:
    """Collect a request body from its `chunks`, raising `body_too_large` (413) as soon as
    it passes `limit` bytes: a body sent without Content-Length (chunked), or with a
    false one, is never read further than that."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise JSONBodyError(BODY_TOO_LARGE, too_large_message(limit), 413)
        parts.append(chunk)
    return b"".join(parts)


def too_large_message(limit: int) -> str:
    return (
        f"The request body is larger than {limit:,} bytes, the limit of this endpoint. "
        "Send less (long texts are limited per field too)."
    )


def read_json(
    raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, allow_surrogates: bool = True
) -> Any:
    """Decode `raw` (UTF-8 bytes or text) as JSON.

    Raises `JSONBodyError` with code `invalid_json` for text that is not JSON (or, with
    `allow_surrogates=False`, JSON with a lone surrogate such as `"\\ud800"` in a string
    or key), and `json_too_deep` for nesting deeper than `max_depth`. Callers that clean
    strings themselves (the message guard drops invisible characters) keep the default.
    """
    try:
        value = json.loads(raw)
    except RecursionError as e:  # the C decoder gives up near the interpreter's limit
        raise JSONBodyError(JSON_TOO_DEEP, too_deep_message(max_depth)) from e
    except (ValueError, UnicodeDecodeError) as e:
        raise JSONBodyError(INVALID_JSON, f"The body is not valid JSON ({e}).") from e
    if json_depth(value, stop_after=max_depth) > max_depth:
        raise JSONBodyError(JSON_TOO_DEEP, too_deep_message(max_depth))
    if not allow_surrogates and has_lone_surrogate(value):
        raise JSONBodyError(
            INVALID_JSON,
            "The JSON has a lone UTF-16 surrogate (an escape such as \\ud800 without its "
            "pair), which is not a character. Send the text as UTF-8.",
        )
    return value


def too_deep_message(max_depth: int) -> str:
    return (
        f"The JSON is nested more than {max_depth} levels deep (objects and arrays within "
        "each other); that is the limit. Send a flatter JSON object."
    )


def json_depth(value: Any, stop_after: int | None = None) -> int:
    """How deeply `value` nests: 0 for a scalar, 1 for `[]` or `{"a": 1}`, and so on.

    Iterative, so it cannot hit the recursion limit itself; with `stop_after` it returns
    as soon as the depth exceeds that number (the exact depth beyond is not needed).
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if stop_after is not None and deepest > stop_after:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def any_string(value: Any, test: Callable[[str], bool]) -> bool:
    """Whether `test` holds for a string or key anywhere in the JSON `value`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if test(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def has_lone_surrogate(value: Any) -> bool:
    """Whether a string or key anywhere in `value` holds a lone surrogate (U+D800-U+DFFF)."""
    return any_string(value, lambda s: LONE_SURROGATE.search(s) is not None)
