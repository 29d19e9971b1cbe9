"""The agent console in headless Chromium, next to a customer in the web chat.

The customer asks for a person in one browser page; in another, a signed-in agent sees
the conversation arrive in the live queue, claims it, reads the summary and the emotion
chart, replies (the reply appears in the customer's chat) and hands it back.
"""

from __future__ import annotations

import pytest

from routing.accounts import AGENT, Accounts
from tests.conftest import open_handoff_id, page_session_id

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]
HOSTILE = "<img src=x onerror=alert(1)>"


def test_agent_signs_in_sees_the_handoff_live_claims_and_replies(stack, browser) -> None:
    accounts = Accounts(stack.settings.store_url)
    if accounts.authenticate("cara", "password123") is None:
        accounts.add_user("cara", "password123", AGENT, "Cara")
    accounts.close()
    errors: list[str] = []
    dialogs: list[str] = []

    console = browser.new_context().new_page()
    console.on("pageerror", lambda e: errors.append(f"console: {e}"))
    console.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    console.goto(stack.settings.web_url + "/console")
    console.fill("#login-username", "cara")
    console.fill("#login-password", "wrong-password")
    console.click("#login-submit")
    console.wait_for_selector("#login-error >> text=Wrong username or password")
    console.fill("#login-password", "password123")
    console.click("#login-submit")
    console.wait_for_selector("#live-status >> text=Live")
    assert "Cara" in console.inner_text("#whoami")

    chat = browser.new_context().new_page()
    chat.on("pageerror", lambda e: errors.append(f"chat: {e}"))
    chat.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    chat.goto(stack.settings.web_url + "/")
    chat.wait_for_selector("text=Connected")
    chat.fill("#message", "I want to talk to a human")
    chat.press("#message", "Enter")
    chat.wait_for_selector("li.msg--bot >> text=bringing in a person")
    chat.wait_for_selector("li.msg--status >> text=is joining")
    session_id = page_session_id(chat, stack.settings)

    # The queue updates live (no reload): find this conversation's handoff id.
    queue = console.request.get(stack.settings.web_url + "/api/console/queue").json()
    handoff_id = open_handoff_id(stack, session_id)
    assert handoff_id in [h["id"] for h in queue["handoffs"]]
    item = f'#queue .queue-item[data-id="{handoff_id}"]'
    console.wait_for_selector(item, timeout=30_000)
    assert "asked for a person" in console.inner_text(item)

    console.click(f"{item} button.claim")
    console.wait_for_selector("#reply-text", state="visible")
    assert "Asked for a person" in console.inner_text("#summary")
    assert console.locator("#emotion-chart svg").count() == 1
    # The chat says who joined, as a status line, and names them in its header.
    chat.wait_for_selector("li.msg--status >> text=Cara has joined the conversation")
    chat.wait_for_selector("#status >> text=You're talking to Cara (Brightbasket support)")
    assert chat.locator("li.msg--bot >> text=has joined").count() == 0
    assert "Web chat · Conversation " in console.inner_text("#conversation-meta")
    assert "socketio" not in console.inner_text("body")

    console.fill("#reply-text", "Hi, this is Cara. How can I help?")
    console.press("#reply-text", "Enter")
    chat.wait_for_selector("li.msg--agent >> text=Hi, this is Cara. How can I help?")
    assert "Cara" in chat.inner_text("li.msg--agent .msg__who")

    # What the customer writes now reaches the agent live, as text.
    chat.fill("#message", HOSTILE)
    chat.press("#message", "Enter")
    console.wait_for_selector(f"#transcript >> text={HOSTILE}", timeout=30_000)
    assert console.locator("#transcript img").count() == 0
    assert chat.locator("#typing").is_hidden()  # the bot is not the one answering

    console.click("#handback")
    chat.wait_for_selector("li.msg--bot >> text=handed our conversation back")
    chat.wait_for_selector("#status >> text=Connected")
    console.wait_for_selector(item, state="detached", timeout=30_000)
    assert errors == [] and dialogs == []
