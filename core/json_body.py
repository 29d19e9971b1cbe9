"""`read_json`: parse a JSON request body from an untrusted client, safely.

`json.loads` alone lets a client turn a request into a 500: a body nested 10,000 levels
deep raises `RecursionError` (not a `ValueError`), and `"\\ud800"` decodes to a lone
surrogate that no database or UTF-8 encoder accepts. `read_json` raises a
`JSONBodyError` with an error code and a message for the client instead: for deep
nesting always, for lone surrogates when the caller does not clean strings itself. The
Rasa channels (Sanic) and the web front (Starlette) read request bodies with it.

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
from collections.abc import Callable
from typing import Any

from core.errors import SupportError

# Deepest nesting a request body may have. The project's payloads are 2-4 levels deep
# (a body, its metadata, a value in it); 32 leaves room for any channel's extras.
MAX_JSON_DEPTH = 32

INVALID_JSON = "invalid_json"
JSON_TOO_DEEP = "json_too_deep"
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONBodyError(SupportError, ValueError):
    """A request body that is not JSON a handler can use; `code` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
