"""The web chat in headless Chromium: a real six-turn conversation with a form."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]


def bot_texts(page) -> list[str]:
    return page.locator("li.msg--bot .msg__text").all_inner_texts()


def say(page, text: str, expect: str, timeout: float = 30_000) -> str:
    before = len(bot_texts(page))
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(
        "([n, expect]) => { const m = [...document.querySelectorAll('li.msg--bot .msg__text')]"
        ".slice(n).map(e => e.textContent).join('\\n'); return m.includes(expect); }",
        arg=[before, expect],
        timeout=timeout,
    )
    return "\n".join(bot_texts(page)[before:])


def test_six_turn_conversation_with_a_form_in_the_browser(stack, browser) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.settings.web_url + "/")
    page.wait_for_selector("text=Connected")

    say(page, "hello", "What can I help you with")
    say(page, "where's my order", "order number")
    say(page, "1234", "5 digits")
    say(page, "10234", "email")
    reply = say(page, "dana.whitfield@example.com", "10234")
    assert "late" in reply
    say(page, "thanks!", "welcome")

    # The customer's own text is rendered as text, never as HTML.
    page.fill("#message", "<img src=x onerror=alert(1)>")
    page.press("#message", "Enter")
    page.wait_for_selector("li.msg--customer >> text=<img src=x onerror=alert(1)>")
    assert page.locator("li.msg--customer img").count() == 0
    assert errors == []

    # Reloading shows the conversation so far (from the tracker store).
    page.reload()
    page.wait_for_selector("li.msg--customer >> text=where's my order")
    page.close()


def test_quick_reply_buttons_send_their_payload(stack, browser) -> None:
    page = browser.new_page()
    page.goto(stack.settings.web_url + "/")
    page.wait_for_selector("text=Connected")
    say(page, "something went wrong with my delivery", "order number")
    say(page, "10456", "email")
    say(page, "sofia.alvarez@example.com", "What went wrong")
    page.click("button:has-text('It arrived damaged or wrong')")
    page.wait_for_selector("li.msg--bot >> text=damage claim", timeout=30_000)
    page.close()


def test_help_center_answer_links_the_article(stack, browser) -> None:
    page = browser.new_page()
    page.goto(stack.settings.web_url + "/")
    page.wait_for_selector("text=Connected")
    say(page, "how long do refunds take to show on my card", "Source:")
    link = page.locator(
        "li.msg--bot a[href='https://help.brightbasket.example/articles/refund-timing']"
    )
    assert link.count() == 1
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.close()
