"""Action-server calls: the same replies pass and fail as under Rasa's own validation,
and one connection serves many calls."""

from __future__ import annotations

import copy
import random
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.action_calls import PooledEndpoint, install, response_validator
from tests.conftest import run_async

SCHEMA = RemoteAction.action_response_format_spec()

VALID: list[Any] = [
    {},
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "email", "value": "a@example.com", "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "bot", "text": "hi", "data": {}},
            {"event": "followup", "name": "action_listen"},
            {
                "event": "user",
                "text": "hello",
                "parse_data": {
                    "intent": {"name": "greet", "confidence": 0.9},
                    "entities": [{"entity": "email", "value": "a@example.com"}],
                },
            },
            {"event": "session_started"},
            {"event": "reset_slots"},
        ],
        "responses": [{"text": "Hello", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
]

INVALID: list[Any] = [
    [],
    "events",
    {"events": {}},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "email"}]},
    {"events": ["slot"]},
    {"events": [{"event": "slot", "name": "email", "value": 1}, {"event": "user", "text": 5}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"value": "x"}]}}]},
    {"events": [{"event": "user", "parse_data": {"intent": {"confidence": "high"}}}]},
    {"events": [], "responses": ["hello"]},
    {"events": [], "responses": {"text": "hello"}},
]


def rasa_verdict(reply: Any) -> str | None:
    try:
        jsonschema.validate(reply, SCHEMA)
    except jsonschema.ValidationError as e:
        return e.message
    return None


def our_verdict(reply: Any) -> str | None:
    try:
        response_validator().validate(reply)
    except jsonschema.ValidationError as e:
        return e.message
    return None


@pytest.mark.parametrize("reply", VALID + INVALID)
def test_the_same_replies_pass_and_fail_with_the_same_error(reply: Any) -> None:
    assert our_verdict(reply) == rasa_verdict(reply)


def test_invalid_replies_do_fail() -> None:
    assert all(rasa_verdict(reply) is not None for reply in INVALID)
    assert all(rasa_verdict(reply) is None for reply in VALID)


def test_mutated_replies_get_rasa_s_verdict() -> None:
    rng = random.Random(14)
    wrong_values: list[Any] = [None, 3, "text", [], {}, 1.5, True]
    for _ in range(100):
        reply = copy.deepcopy(VALID[2])
        event = rng.choice(reply["events"])
        key = rng.choice(sorted(event))
        event[key] = rng.choice(wrong_values)
        assert our_verdict(reply) == rasa_verdict(reply), reply


def test_installed_validation_keeps_rasa_s_wording() -> None:
    install()
    action = RemoteAction("action_greet", None)
    assert action._validate_action_result(VALID[2]) is True
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        action._validate_action_result({"events": [{"event": "no_such_event"}]})


def test_one_connection_serves_many_calls_and_errors_still_raise() -> None:
    async def scenario() -> tuple[list[Any], int, set[str], int]:
        peers: set[Any] = set()
        seen_auth: set[str] = set()

        async def webhook(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername"))
            seen_auth.add(request.headers.get("Authorization", ""))
            body = await request.json()
            if body.get("fail"):
                return web.json_response({"error": "no"}, status=400)
            return web.json_response({"echo": body["n"]})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(
            f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer s3cret"}
        )
        pool = PooledEndpoint()
        try:
            replies = [await pool.request(endpoint, json={"n": n}) for n in range(5)]
            status = 0
            try:
                await pool.request(endpoint, json={"fail": True})
            except ClientResponseError as e:
                status = e.status
            return replies, len(peers), seen_auth, status
        finally:
            await pool.close()
            await runner.cleanup()

    replies, connections, auth, status = run_async(scenario())
    assert replies == [{"echo": n} for n in range(5)]
    assert connections == 1
    assert auth == {"Bearer s3cret"}
    assert status == 400
