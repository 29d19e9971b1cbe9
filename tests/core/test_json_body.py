"""`core.json_body.read_json`: untrusted JSON never raises anything but `JSONBodyError`."""

from __future__ import annotations

import pytest

from core.json_body import (
    INVALID_JSON,
    JSON_TOO_DEEP,
    MAX_JSON_DEPTH,
    JSONBodyError,
    has_lone_surrogate,
    json_depth,
    read_json,
)
from tests.conftest import run_async


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 10_000, 100_000])
def test_deep_nesting_is_refused_without_a_recursion_error(depth: int) -> None:
    # json.loads raised RecursionError from about 1,000 levels: a 500 in every handler.
    with pytest.raises(JSONBodyError) as caught:
        read_json(nested(depth))
    assert caught.value.code == JSON_TOO_DEEP
    assert str(MAX_JSON_DEPTH) in caught.value.message


def test_deep_objects_are_refused_too() -> None:
    with pytest.raises(JSONBodyError) as caught:
        read_json(b'{"a":' * 5_000 + b"1" + b"}" * 5_000)
    assert caught.value.code == JSON_TOO_DEEP


def test_nesting_up_to_the_limit_is_read() -> None:
    assert json_depth(read_json(nested(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH


@pytest.mark.parametrize("raw", [b"", b"{", b'{"sender": "a",}', b"\xff\xfe", "nan?"])
def test_invalid_json_is_refused(raw: bytes | str) -> None:
    with pytest.raises(JSONBodyError) as caught:
        read_json(raw)
    assert caught.value.code == INVALID_JSON
    assert isinstance(caught.value, ValueError)  # callers catching ValueError still work


def test_lone_surrogates_are_kept_or_refused_as_the_caller_asks() -> None:
    raw = b'{"username": "\\ud800", "password": "x"}'
    assert read_json(raw) == {"username": "\ud800", "password": "x"}
    with pytest.raises(JSONBodyError) as caught:
        read_json(raw, allow_surrogates=False)
    assert caught.value.code == INVALID_JSON and "surrogate" in caught.value.message
    # A proper pair is one character, not a lone surrogate.
    assert read_json(b'"\\ud83d\\ude00"', allow_surrogates=False) == "😀"


def test_depth_and_surrogate_helpers() -> None:
    assert json_depth("x") == 0
    assert json_depth({"a": 1}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert json_depth(read_json(nested(500), max_depth=500), stop_after=10) == 11
    assert has_lone_surrogate({"ok": ["fine", {"\udfff": 1}]})
    assert not has_lone_surrogate({"ok": ["fine", "😀", 3]})


def test_only_bodies_declared_as_json_are_read() -> None:
    from core.json_body import UNSUPPORTED_MEDIA_TYPE, check_content_type

    check_content_type("application/json")
    check_content_type("Application/JSON; charset=utf-8")
    for declared in (None, "", "text/plain", "application/x-www-form-urlencoded", "json"):
        with pytest.raises(JSONBodyError) as caught:
            check_content_type(declared)
        assert (caught.value.code, caught.value.status) == (UNSUPPORTED_MEDIA_TYPE, 415)


def test_bodies_over_the_limit_are_refused_before_or_while_reading() -> None:

    from core.json_body import BODY_TOO_LARGE, check_content_length, read_body

    check_content_length(None, 10)
    check_content_length("10", 10)
    with pytest.raises(JSONBodyError) as caught:
        check_content_length("11", 10)
    assert (caught.value.code, caught.value.status) == (BODY_TOO_LARGE, 413)
    with pytest.raises(JSONBodyError) as caught:
        check_content_length("ten", 10)
    assert caught.value.status == 400

    read: list[int] = []

    async def chunks(n: int):
        for i in range(n):
            read.append(i)
            yield b"x" * 4

    assert run_async(read_body(chunks(2), limit=8)) == b"x" * 8
    read.clear()
    with pytest.raises(JSONBodyError) as caught:
        run_async(read_body(chunks(1_000), limit=8))
    assert caught.value.status == 413 and len(read) == 3  # stopped at the first chunk over
