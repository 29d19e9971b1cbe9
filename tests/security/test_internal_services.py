"""Issue 13, part 3: the internal services are closed.

Against the real stack (the session's `stack` fixture, HOST=127.0.0.1):

- the action server refuses every call without the shared secret (401);
- the action server, Rasa and the web front listen on HOST only, never on 0.0.0.0;
- no process of the stack carries a secret on its command line, and none travels in a URL;
- Rasa's HTTP API does not answer other sites' origins (no `Access-Control-Allow-Origin: *`).

Each of these failed before the fix. Listening sockets and command lines are read from
/proc (Linux), as `ss -ltnp` and `ps` read them.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import httpx
import pytest

from bot.launcher import Service
from bot.rasa_server import api_headers, api_token
from tests.conftest import RestChat

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="reads sockets and processes from /proc"),
]

FOREIGN_ORIGIN = "http://evil.example"
TCP_LISTEN = "0A"


# --- the action server ------------------------------------------------------------------
def action_call(action: str = "action_greet") -> dict:
    """The body Rasa posts to the action server's /webhook to run `action`."""
    tracker = {
        "sender_id": "security-test",
        "slots": {},
        "latest_message": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }
    return {
        "next_action": action,
        "sender_id": "security-test",
        "version": "3.6.21",
        "tracker": tracker,
        "domain": {},
    }


def action_server(stack) -> str:
    return f"http://127.0.0.1:{stack.settings.action_port}"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-secret"}, {"Authorization": "wrong-scheme"}],
    ids=["no-secret", "wrong-secret", "not-bearer"],
)
def test_the_action_server_refuses_a_call_without_the_secret(stack, headers: dict) -> None:
    reply = httpx.post(f"{action_server(stack)}/webhook", json=action_call(), headers=headers)
    assert reply.status_code == 401, reply.text
    assert "responses" not in reply.json()  # the action did not run
    listing = httpx.get(f"{action_server(stack)}/actions", headers=headers)
    assert listing.status_code == 401, listing.text


def test_the_action_server_runs_an_action_for_the_secret(stack) -> None:
    secret = {"Authorization": f"Bearer {stack.settings.action_server_token}"}
    reply = httpx.post(f"{action_server(stack)}/webhook", json=action_call(), headers=secret)
    assert reply.status_code == 200, reply.text
    assert "What can I help you with" in reply.json()["responses"][0]["text"]
    assert httpx.get(f"{action_server(stack)}/health").status_code == 200  # the probe is open


def test_rasa_sends_the_secret_to_the_action_server(chat: RestChat) -> None:
    # action_greet runs on the action server: a refused call would end the turn without it.
    assert "What can I help you with" in chat.say("hi")


# --- listening addresses ----------------------------------------------------------------
def group_pids(service: Service) -> list[int]:
    """The service's process and its children: its own process group."""
    assert service.process is not None
    leader = service.process.pid
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == leader:  # pgrp
            pids.append(int(stat.parent.name))
    return pids


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening(pids: list[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the processes listen on."""
    inodes = set().union(*(socket_inodes(pid) for pid in pids))
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] != TCP_LISTEN or fields[9] not in inodes:
                continue
            raw = bytes.fromhex(address)
            # /proc writes each 32-bit word of the address in host (little-endian) order.
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add((socket.inet_ntop(family, packed), int(port, 16)))
    return found


def test_every_server_listens_on_host_only(stack) -> None:
    host = stack.settings.host
    assert host == "127.0.0.1"
    ports = {
        "actions": stack.settings.action_port,
        "rasa": stack.settings.rasa_port,
        "web": stack.settings.web_port,
    }
    for service in stack.services:
        sockets = listening(group_pids(service))
        assert (host, ports[service.name]) in sockets, (service.name, sockets)
        assert {address for address, _ in sockets} == {host}, (service.name, sockets)


# --- secrets on command lines and in URLs -------------------------------------------------
def test_no_command_line_of_the_stack_holds_a_secret(stack) -> None:
    secrets = {
        "RASA_API_TOKEN": stack.settings.rasa_api_token,
        "ACTION_SERVER_TOKEN": stack.settings.action_server_token,
    }
    for service in stack.services:
        for pid in group_pids(service):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
            for name, value in secrets.items():
                assert not any(value in arg for arg in argv), f"{name} in {service.name}: {argv}"
    # The endpoints file Rasa reads names the secret; it does not hold it.
    rendered = (stack.settings.data_dir / "endpoints.yml").read_text()
    assert "${ACTION_SERVER_TOKEN}" in rendered
    assert stack.settings.action_server_token not in rendered


def test_rasa_takes_its_api_secret_in_a_header_not_in_the_url(stack) -> None:
    url = f"{stack.settings.rasa_url}/conversations/security-test/tracker"
    token = stack.settings.rasa_api_token
    in_url = httpx.get(url, params={"token": token}, timeout=30)
    assert in_url.status_code == 401, in_url.text
    forged_token = api_token("another-secret-of-at-least-32-bytes")
    forged = httpx.get(url, headers={"Authorization": f"Bearer {forged_token}"}, timeout=30)
    assert forged.status_code == 401, forged.text
    expired = api_token(token, ttl_s=60, now=0)
    stale = httpx.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=30)
    assert stale.status_code == 401, stale.text
    in_header = httpx.get(url, headers=api_headers(token), timeout=30)
    assert in_header.status_code == 200, in_header.text


# --- CORS ------------------------------------------------------------------------------
def preflight(url: str, origin: str, method: str = "GET") -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=30,
    )


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/conversations/security-test/tracker", "GET"),
        ("/conversations/security-test/tracker/events", "POST"),
        ("/webhooks/rest/webhook", "POST"),
    ],
)
def test_rasa_does_not_answer_a_foreign_origin(stack, path: str, method: str) -> None:
    reply = preflight(f"{stack.settings.rasa_url}{path}", FOREIGN_ORIGIN, method)
    allowed = reply.headers.get("access-control-allow-origin")
    assert allowed is None, f"{path} allows {allowed!r} for {FOREIGN_ORIGIN}"


def test_the_web_chat_still_reaches_socket_io_from_the_web_fronts_origin(stack) -> None:
    # The chat page (on WEB_PORT) falls back to socket.io's polling transport, which is a
    # cross-origin request to RASA_PORT.
    origin = f"http://127.0.0.1:{stack.settings.web_port}"
    reply = httpx.get(
        f"{stack.settings.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers.get("access-control-allow-origin") == origin
    foreign = httpx.get(
        f"{stack.settings.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": FOREIGN_ORIGIN},
        timeout=30,
    )
    assert foreign.headers.get("access-control-allow-origin") is None
