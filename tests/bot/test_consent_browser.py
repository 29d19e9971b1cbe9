"""The web chat's consent choices in headless Chromium (issue 18, "Consent"), on a
360 px wide phone screen: the "Privacy" panel, two separate choices in the server's
words, nothing ticked before a choice, kept across a reload, and opened by the bot when
it asks (a message whose custom payload is {"consent": "ask"})."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bot.store import SupportStore
from bot.web.rasa_client import RasaConversations, bot_message
from core.constants import (
    CONSENT_ASK,
    CONSENT_ORDER_HISTORY,
    CONSENT_QUESTION,
    CONSENT_REMEMBER,
    CONSENT_TEXTS,
    CUSTOM_CONSENT,
)
from tests.conftest import latest_code, page_session_id, run_async

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 740}
WAIT_MS = 60_000  # a bot reply on a busy two-core machine
SAVED = "Saved. You can change this at any time."
ASK_TEXT = "Before I remember anything about you, please choose what I may keep."

# Every scrolling box on the page that is wider inside than it shows.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
    && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
  .map((e) => (e.id ? '#' + e.id : e.className) + ` ${e.scrollWidth}>${e.clientWidth}`)"""
# Whether the element is inside the screen and what a finger at its centre touches.
ON_SCREEN = """(e) => {
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return r.left >= 0 && r.right <= window.innerWidth && r.width > 0
    && Boolean(hit && (hit === e || e.contains(hit) || hit.contains(e)));
}"""


def open_phone_chat(stack, browser, errors: list[str]):
    page = browser.new_context(viewport=PHONE).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.settings.web_url + "/")
    return page


def assert_fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOWING) == []
    for selector in ("#privacy", "#new-conversation", "#consent-close", "#consent-save"):
        assert page.locator(selector).evaluate(ON_SCREEN), f"{selector} is off screen or covered"


def stored_choices(stack, session_id: str) -> dict[str, tuple[bool, str]]:
    store = SupportStore(stack.settings.store_url)
    try:
        return {p: (c.granted, c.text) for p, c in store.consents(session_id).items()}
    finally:
        store.close()


def test_a_customer_chooses_on_a_phone_and_the_choice_stays(stack, browser) -> None:
    errors: list[str] = []
    page = open_phone_chat(stack, browser, errors)
    toggle, panel = page.locator("#privacy"), page.locator("#consent")
    remember = page.get_by_label(CONSENT_TEXTS[CONSENT_REMEMBER])
    history = page.get_by_label(CONSENT_TEXTS[CONSENT_ORDER_HISTORY])
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    toggle.click()
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#consent-question")).to_have_text(CONSENT_QUESTION)
    # Never decided: nothing ticked, and the first choice has the focus.
    expect(remember).not_to_be_checked()
    expect(history).not_to_be_checked()
    expect(remember).to_be_focused()
    assert_fits_the_phone(page)

    history.check()
    page.locator("#consent-save").click()
    expect(page.locator("#consent-result")).to_have_text(SAVED)
    session_id = page_session_id(page, stack.settings)
    assert stored_choices(stack, session_id) == {
        CONSENT_REMEMBER: (False, CONSENT_TEXTS[CONSENT_REMEMBER]),
        CONSENT_ORDER_HISTORY: (True, CONSENT_TEXTS[CONSENT_ORDER_HISTORY]),
    }

    # Escape closes the panel and gives the focus back to the button that opened it.
    remember.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    page.reload()
    page.locator("#privacy").click()
    expect(history).to_be_checked()
    expect(remember).not_to_be_checked()
    assert_fits_the_phone(page)
    page.locator("#consent-close").click()
    expect(panel).to_be_hidden()
    assert errors == []
    page.context.close()


def test_the_choices_work_from_the_keyboard(stack, browser) -> None:
    errors: list[str] = []
    page = open_phone_chat(stack, browser, errors)
    page.locator("#privacy").focus()
    page.keyboard.press("Enter")
    remember = page.get_by_label(CONSENT_TEXTS[CONSENT_REMEMBER])
    expect(remember).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label(CONSENT_TEXTS[CONSENT_ORDER_HISTORY])).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#consent-save")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#consent-result")).to_have_text(SAVED)
    assert stored_choices(stack, page_session_id(page, stack.settings)) == {
        CONSENT_REMEMBER: (True, CONSENT_TEXTS[CONSENT_REMEMBER]),
        CONSENT_ORDER_HISTORY: (False, CONSENT_TEXTS[CONSENT_ORDER_HISTORY]),
    }
    assert errors == []
    page.context.close()


def test_the_bot_asks_and_the_panel_opens_until_the_customer_decides(stack, browser) -> None:
    errors: list[str] = []
    page = open_phone_chat(stack, browser, errors)
    page.wait_for_selector("text=Connected", timeout=WAIT_MS)
    # The conversation's latest channel is the web chat once the customer has written.
    page.fill("#message", "hello")
    page.press("#message", "Enter")
    expect(page.locator("li.msg--bot:not(.msg--welcome)").first).to_be_visible(timeout=WAIT_MS)
    session_id = page_session_id(page, stack.settings)
    rasa = RasaConversations(stack.settings.rasa_url, stack.settings.rasa_api_token)

    def bot_asks() -> None:
        ask = bot_message(ASK_TEXT, {CUSTOM_CONSENT: CONSENT_ASK})
        run_async(rasa.append(session_id, [ask]))

    bot_asks()
    expect(page.locator("li.msg--bot >> text=" + ASK_TEXT)).to_be_visible(timeout=WAIT_MS)
    panel = page.locator("#consent")
    expect(panel).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#privacy")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label(CONSENT_TEXTS[CONSENT_REMEMBER])).to_be_focused()
    assert_fits_the_phone(page)

    # Saving with nothing ticked records two refusals, each with the words shown.
    page.locator("#consent-save").click()
    expect(page.locator("#consent-result")).to_have_text(SAVED)
    assert stored_choices(stack, session_id) == {
        CONSENT_REMEMBER: (False, CONSENT_TEXTS[CONSENT_REMEMBER]),
        CONSENT_ORDER_HISTORY: (False, CONSENT_TEXTS[CONSENT_ORDER_HISTORY]),
    }
    page.locator("#consent-close").click()
    expect(panel).to_be_hidden()

    # Decided: asking again leaves the panel closed (the Privacy button still opens it).
    with page.expect_response(
        lambda r: r.url.endswith("/api/chat/consent") and r.request.method == "GET",
        timeout=WAIT_MS,
    ):
        bot_asks()
    page.wait_for_timeout(500)  # the answer's handler runs after the response
    expect(panel).to_be_hidden()
    assert errors == []
    page.context.close()


def say(page, text: str) -> None:
    before = page.locator("li.msg--bot").count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(page.locator("li.msg--bot").nth(before)).to_be_visible(timeout=WAIT_MS)


def test_proving_who_they_are_makes_the_bot_ask_and_remember_only_with_consent(
    stack, browser
) -> None:
    """The real path: a one-time code typed in the chat, the bot's own question, the
    customer's "remember my conversations", and the chat linked to them at the next
    session (not before)."""
    errors: list[str] = []
    page = open_phone_chat(stack, browser, errors)
    page.wait_for_selector("text=Connected", timeout=WAIT_MS)
    say(page, "I want to cancel my subscription")
    say(page, "dana.whitfield@example.com")
    expect(page.locator("li.msg--bot").last).to_contain_text("code", timeout=WAIT_MS)
    say(page, latest_code(stack.settings))
    panel = page.locator("#consent")
    expect(panel).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("li.msg--bot >> text=remember you next time")).to_be_visible()
    session_id = page_session_id(page, stack.settings)
    store = SupportStore(stack.settings.store_url)
    try:
        assert store.customer_for_key(session_id) is None  # not before they choose
        page.get_by_label(CONSENT_TEXTS[CONSENT_REMEMBER]).check()
        page.locator("#consent-save").click()
        expect(page.locator("#consent-result")).to_have_text(SAVED)
        assert store.consents(session_id)[CONSENT_REMEMBER].granted
        assert not store.consents(session_id)[CONSENT_ORDER_HISTORY].granted
    finally:
        store.close()
    assert errors == []
