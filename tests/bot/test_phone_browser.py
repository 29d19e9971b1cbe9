"""The web chat and the agent console on a 390 × 844 phone, in headless Chromium.

Layout assertions rather than a pixel comparison (fonts differ between machines): nothing
wider than the screen, "Sign out" on screen and not covered, a conversation's lines as
wide as a phone allows (not one word per line), a readable summary, and words instead of
internal names. Screenshots go to $PHONE_SCREENSHOTS (default /tmp) for a person to look at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from routing.accounts import AGENT, Accounts
from routing.queue import HandoffQueue
from tests.conftest import page_session_id

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("PHONE_SCREENSHOTS", "/tmp"))
REPLY_MS = 60_000  # generous: the test machine may be busy
LONG_MESSAGE = (
    "It was supposed to arrive last Tuesday and the tracking page has not changed since "
    "then, can someone please check what is going on with it?"
)

# Where an element is, whether it is visible, and whether it is what a finger at its
# centre would touch (not clipped, not covered).
PLACEMENT = """(selector) => {
  const e = document.querySelector(selector);
  if (!e) return null;
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
           touchable: Boolean(hit && (hit === e || e.contains(hit))) };
}"""
# Every scrolling box on the page that is wider inside than it shows.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
    && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
  .map((e) => (e.id ? '#' + e.id : e.className) + ` ${e.scrollWidth}>${e.clientWidth}`)"""

# Each transcript message: its text, its width and how many lines it takes.
TRANSCRIPT_LINES = """() => [...document.querySelectorAll('#transcript .msg__text')].map((e) => {
  const r = e.getBoundingClientRect();
  const line = parseFloat(getComputedStyle(e).lineHeight);
  return { text: e.textContent, width: r.width, lines: Math.round(r.height / line) };
})"""


def assert_fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOWING) == []


def assert_on_screen(page, selector: str) -> dict:
    place = page.evaluate(PLACEMENT, selector)
    assert place is not None, selector
    assert place["left"] >= 0 and place["right"] <= PHONE["width"], (selector, place)
    assert place["top"] >= 0 and place["bottom"] <= PHONE["height"], (selector, place)
    assert place["touchable"], (selector, place)
    return place


def dismiss_notice(page) -> None:
    page.evaluate("document.getElementById('notice').click()")


@pytest.fixture(scope="module")
def agent(stack) -> str:
    accounts = Accounts(stack.settings.store_url)
    if accounts.authenticate("pia", "password123") is None:
        accounts.add_user("pia", "password123", AGENT, "Pia")
    accounts.close()
    return "pia"


def test_the_chat_fits_a_phone(stack, browser) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(stack.settings.web_url + "/")
    page.wait_for_selector("text=Connected")
    page.wait_for_selector("li.msg--welcome")
    assert_fits_the_phone(page)
    for chip in page.locator(".suggestions button").all():
        box = chip.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert_on_screen(page, "#send")
    assert_on_screen(page, "#new-conversation")
    page.screenshot(path=str(SHOTS / "chat-phone.png"))
    page.close()


def test_the_console_on_a_phone(stack, browser, agent) -> None:
    errors: list[str] = []

    # A customer asks for a person in the web chat, then writes a long message.
    chat = browser.new_page(viewport=PHONE)
    chat.on("pageerror", lambda e: errors.append(f"chat: {e}"))
    chat.goto(stack.settings.web_url + "/")
    chat.wait_for_selector("text=Connected")
    chat.fill("#message", "I want to talk to a human")
    chat.press("#message", "Enter")
    chat.wait_for_selector("li.msg--bot >> text=bringing in a person", timeout=REPLY_MS)
    chat.fill("#message", LONG_MESSAGE)
    chat.press("#message", "Enter")
    session_id = page_session_id(chat, stack.settings)

    console = browser.new_context(viewport=PHONE).new_page()
    console.on("pageerror", lambda e: errors.append(f"console: {e}"))
    console.goto(stack.settings.web_url + "/console")
    assert_fits_the_phone(console)  # the sign-in form
    console.fill("#login-username", agent)
    console.fill("#login-password", "password123")
    console.click("#login-submit")
    console.wait_for_selector("#live-status >> text=Live")

    deadline = time.monotonic() + REPLY_MS / 1000
    handoff_id = None
    while handoff_id is None:
        queue = HandoffQueue(stack.settings.store_url)
        try:
            found = queue.open_for_conversation(session_id)
        finally:
            queue.close()
        handoff_id = found.id if found is not None else None
        assert handoff_id is not None or time.monotonic() < deadline, "no handoff in the queue"
        time.sleep(0.5)
    item = f'#queue .queue-item[data-id="{handoff_id}"]'
    console.wait_for_selector(item, timeout=30_000)

    # The queue: one column, "Sign out" on screen, queues and priorities in words.
    assert_fits_the_phone(console)
    assert_on_screen(console, "#logout")
    assert console.locator(".conversation-pane").is_hidden()
    text = console.inner_text(item)
    assert any(words in text for words in ("Urgent", "High priority", "Normal priority")), text
    assert "_" not in console.inner_text("#queue-counts")
    console.screenshot(path=str(SHOTS / "console-phone-queue.png"))

    # Claim it: the conversation alone, with a way back.
    console.click(f"{item} button.claim")
    console.wait_for_selector("#reply-text", state="visible")
    console.wait_for_selector(f"#transcript >> text={LONG_MESSAGE[:40]}", timeout=REPLY_MS)
    dismiss_notice(console)
    assert console.locator(".queue-pane").is_hidden()
    assert_fits_the_phone(console)
    assert_on_screen(console, "#logout")
    assert_on_screen(console, "#back-to-queue")
    assert_on_screen(console, "#reply-send")
    assert_on_screen(console, "#handback")

    # Words, not internal names.
    meta = console.inner_text("#conversation-meta")
    assert f"Web chat · Conversation {handoff_id}" in meta, meta
    assert "socketio" not in console.inner_text("body")
    assert f"#{handoff_id}" not in meta

    # Lines as wide as the phone allows: every longer message is wider than 250 px and
    # the long one takes a few lines, not one word per line.
    lines = console.evaluate(TRANSCRIPT_LINES)
    long_lines = [line for line in lines if len(line["text"]) >= 60]
    assert long_lines, lines
    for line in long_lines:
        assert line["width"] > 250, line
    longest = next(line for line in lines if line["text"] == LONG_MESSAGE)
    assert longest["lines"] <= 6, longest  # 130 characters; one word per line would be 25

    # The summary is readable: as wide as the pane, its issue on full-width lines.
    summary = console.evaluate(PLACEMENT, "#summary")
    assert summary["width"] >= PHONE["width"] - 60, summary
    issue = console.evaluate(PLACEMENT, "#summary .summary__issue")
    assert issue["width"] > 250, issue
    console.screenshot(path=str(SHOTS / "console-phone-conversation.png"))
    console.evaluate("document.getElementById('conversation-body').scrollTop = 1e6")
    console.screenshot(path=str(SHOTS / "console-phone-transcript.png"))

    # Back to the queue, and the conversation is still there to open again.
    console.click("#back-to-queue")
    console.wait_for_selector(".queue-pane", state="visible")
    assert console.locator(".conversation-pane").is_hidden()
    assert_fits_the_phone(console)
    console.click(f"{item} .queue-item__open")
    console.wait_for_selector("#reply-text", state="visible")

    # Resolve it, so the queue is left as it was found.
    console.click("#resolve")
    console.wait_for_selector(item, state="detached", timeout=30_000)
    chat.wait_for_selector(
        "li.msg--bot >> text=marked this conversation as resolved", timeout=REPLY_MS
    )
    assert errors == []
    chat.close()
    console.close()
