"""The chat channels against the real Rasa server (issue 13, parts 1 and 2).

Findings, each failing on the code before the fix:

- the REST channel accepted any `customer_id`, and any `sender` → a message needs its
  conversation's session token, and identity comes only from a signed identity token;
- the attack of the review: a victim verifies by e-mail in a conversation whose key the
  attacker chose; the attacker then posts with that key and is greeted as the victim →
  greeted as a stranger;
- socket.io `session_request` joined any session id, with no `jwt_key` → a socket
  connects only with a session token and is bound to that token's conversation;
- the chat page took `?customer=` → a headless-Chromium customer signs in through the
  demo website (a signed identity token) and chats under the CSP with no errors.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import socketio

from core.tokens import SessionTokens
from tests.conftest import RestChat, run_async
from tests.security.test_web import CSP_WATCH

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# "Hi Dana!" or, when another test left her a case open, "Welcome back, Dana — …".
GREETED_AS_DANA = "Dana"


def rest(stack, body: dict, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{stack.settings.rasa_url}/webhooks/rest/webhook", json=body, headers=headers, timeout=60
    )


def test_rest_messages_need_their_conversations_token(stack) -> None:
    session = httpx.post(f"{stack.settings.rasa_url}/webhooks/rest/session", timeout=30)
    assert session.status_code == 200
    mine = session.json()
    assert rest(stack, {"sender": mine["session_id"], "message": "hi"}, None).status_code == 401
    forged = mine["token"][:-3] + "abc"
    assert rest(stack, {"message": "hi"}, forged).status_code == 401
    other = rest(stack, {"sender": "someone-elses-chat", "message": "hi"}, mine["token"])
    assert other.status_code == 403 and other.json()["error"] == "wrong_conversation"
    reply = rest(stack, {"message": "hi"}, mine["token"])  # sender: the token's
    assert reply.status_code == 200 and reply.json()


def test_the_reviewed_attack_greets_the_attacker_as_a_stranger(stack) -> None:
    victim = RestChat(stack.settings, f"victim-{uuid.uuid4().hex[:8]}")
    victim.say("where is my order?")
    victim.say("10234")
    assert "UPS" in victim.say("dana.whitfield@example.com")  # verified in her conversation
    for claimed in (
        {"customer_id": victim.sender},
        {"customer_id": "C1001", "identity_verified": True},
    ):
        attacker = RestChat(stack.settings, f"attacker-{uuid.uuid4().hex[:8]}", claimed)
        greeting = attacker.say("hi")
        assert "Dana" not in greeting and "Welcome back" not in greeting, greeting
        assert "isn't on your account" not in attacker.say("where is my order?")


def test_a_customer_signed_in_by_the_website_is_recognised(stack) -> None:
    chat = RestChat(stack.settings, f"signed-{uuid.uuid4().hex[:8]}", signed_in_as="C1001")
    assert GREETED_AS_DANA in chat.say("hi")


def test_socketio_needs_a_session_token_and_binds_the_socket_to_it(stack) -> None:
    sessions = SessionTokens(stack.settings.session_secret)
    victim_id, _ = sessions.issue()
    mine, token = sessions.issue()

    async def talk() -> tuple[bool, str]:
        stranger = socketio.AsyncClient()
        try:
            await stranger.connect(stack.settings.rasa_url, transports=["websocket"])
            refused = False
        except socketio.exceptions.ConnectionError:
            refused = True
        finally:
            await stranger.disconnect()
        client = socketio.AsyncClient()
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        client.on("session_confirm", confirmed.put)
        await client.connect(
            stack.settings.rasa_url, transports=["websocket"], auth={"token": token}
        )
        await client.emit("session_request", {"session_id": victim_id})  # asks for another's
        joined = await asyncio.wait_for(confirmed.get(), timeout=30)
        await client.disconnect()
        return refused, joined

    refused, joined = run_async(talk())
    assert refused
    assert joined == mine


@pytest.mark.browser
def test_a_signed_in_customer_chats_under_the_csp_in_chromium(stack, browser) -> None:
    problems: list[str] = []
    page = browser.new_context().new_page()
    page.add_init_script(f"({CSP_WATCH})()")
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(stack.settings.web_url + "/demo")
    assert page.evaluate("window.__violations") == []
    page.click("text=Dana Whitfield")
    page.wait_for_selector("#signed-in >> text=Signed in as Dana Whitfield")
    page.wait_for_selector("#status >> text=Connected", timeout=60_000)
    assert page.url.rstrip("/").endswith(str(stack.settings.web_port))  # no token in the URL
    page.fill("#message", "hi")
    page.press("#message", "Enter")
    page.wait_for_selector(f"li.msg--bot >> text={GREETED_AS_DANA}", timeout=60_000)

    page.reload()  # the identity stays with the tab, the conversation with the browser
    page.wait_for_selector("#signed-in >> text=Signed in as Dana Whitfield")
    page.wait_for_selector("li.msg--customer >> text=hi", timeout=30_000)
    assert page.evaluate("window.__violations") == []
    assert problems == [], problems
