"""The customer desk in headless Chromium, at phone width (issue 18, parts 5 and 6).

An admin signs in to the console, finds a customer by e-mail (what is held, as counts),
downloads the export, erases the customer after typing the e-mail again, and sees what
was removed; the audit log has both. A lead sees no customer desk, even by its address.
Only the web front runs (no Rasa): the desk needs none of it. With $DESK_SCREENSHOTS
set, screenshots go to that folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.web.app import create_app
from core.settings import Settings
from routing.accounts import ADMIN, LEAD
from tests.bot.test_customer_data import EMAIL, NAME, SECRET, customer_everywhere
from tests.security.test_console_auth import Server

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000
PHONE = {"width": 360, "height": 740}
WHO = f"{NAME} (C9100)"
# How much wider than the screen the page is (0: nothing sticks out sideways).
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SHOTS = os.environ.get("DESK_SCREENSHOTS")


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Server]:
    settings = Settings.load(
        environ={
            "DATA_DIR": str(tmp_path),
            "IDENTITY_SECRET": SECRET,
            "RASA_API_TOKEN": "desk-browser-token-of-32-bytes-or-more",
        },
        dotenv=tmp_path / "none.env",
    )
    customer_everywhere(settings)  # Nora, in every store
    app = create_app(settings)
    accounts = app.state.console.accounts
    accounts.scrypt_n = 2**10
    accounts.add_user("ada", "password123", ADMIN, "Ada")
    accounts.add_user("lee", "password123", LEAD, "Lee")
    running = Server(app)
    yield running
    running.stop()


@pytest.fixture
def console(browser, web: Server) -> Iterator[Callable[..., Any]]:
    """Sign in to the console at phone width: `console(username, problems, hash)`. The
    pages are closed before the web front stops (their live streams end first)."""
    contexts = []

    def sign_in(username: str, problems: list[str], hash: str = "") -> Any:
        context = browser.new_context(viewport=PHONE, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(web.url + "/console" + hash)
        page.fill("#login-username", username)
        page.fill("#login-password", "password123")
        page.click("#login-submit")
        page.wait_for_selector("#live-status >> text=Live", timeout=WAIT_MS)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def held(page, where: str, part: str):
    return page.locator(f'{where} dd[data-part="{part}"]')


def test_an_admin_finds_exports_and_erases_a_customer_at_phone_width(console, web) -> None:
    problems: list[str] = []
    page = console("ada", problems)
    expect(page.locator("#view-customers")).to_be_visible()
    expect(page.locator("#customers")).to_be_hidden()
    page.click("#view-customers")
    expect(page.locator("#customers")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#view-customers")).to_have_attribute("aria-current", "page")
    assert page.url.endswith("#customers")

    # A typo first: the field says what is wrong, the API is not asked.
    page.get_by_label("Customer's e-mail", exact=True).fill("nora.quinn.example.net")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#customer-find-error")).to_contain_text("it needs an @")
    expect(page.locator("#customer-email")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Customer's e-mail", exact=True).fill(EMAIL)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#customer-found-heading")).to_have_text(WHO, timeout=WAIT_MS)
    expect(page.locator("#customer-find-error")).to_have_text("")
    expect(held(page, "#customer-held", "conversations")).to_have_text("1")
    expect(held(page, "#customer-held", "handoffs")).to_have_text("1")
    expect(held(page, "#customer-held", "cases")).to_have_text("1")
    assert "Conversation events" in page.inner_text("#customer-held")
    assert page.evaluate(SIDEWAYS) <= 0
    shoot(page, "desk-found.png")

    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name="Download export").click()
    assert download.value.suggested_filename == "customer-C9100.json"
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["customer"]["email"] == EMAIL
    assert [c["conversation"] for c in exported["conversations"]] == ["telegram-555"]

    # Erasing asks for the e-mail again, and refuses another one.
    page.get_by_role("button", name="Erase…").click()
    expect(page.locator("#customer-erase-help")).to_contain_text(WHO)
    expect(page.locator("#customer-confirm")).to_be_focused()
    page.get_by_label("Type the customer's e-mail again to confirm").fill("nora@example.net")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator("#customer-erase-error")).to_contain_text("not the same e-mail")
    assert page.evaluate(SIDEWAYS) <= 0
    shoot(page, "desk-confirm.png")
    page.get_by_label("Type the customer's e-mail again to confirm").fill(EMAIL.upper())
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator("#customer-removed-heading")).to_have_text(f"Erased {WHO}", timeout=WAIT_MS)
    expect(page.locator("#customer-found")).to_be_hidden()
    expect(held(page, "#customer-removed-list", "customer")).to_have_text("1")
    expect(held(page, "#customer-removed-list", "handoffs")).to_have_text("1")
    assert "Tracker events" in page.inner_text("#customer-removed-list")
    expect(page.locator("#customer-email")).to_have_value("")
    assert page.evaluate(SIDEWAYS) <= 0
    shoot(page, "desk-erased.png")

    # Gone: finding them again says so.
    page.get_by_label("Customer's e-mail", exact=True).fill(EMAIL)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#customer-find-error")).to_contain_text(
        "No customer has the e-mail", timeout=WAIT_MS
    )

    entries = page.request.get(web.url + "/api/console/audit").json()["entries"]
    mine = [(e["actor"], e["role"], e["action"], e["subject"]) for e in entries]
    assert mine[:2] == [
        ("ada", ADMIN, "erased", "customer:C9100"),
        ("ada", ADMIN, "exported", "customer:C9100"),
    ]
    assert EMAIL not in json.dumps(entries)

    # Another view: the desk steps aside.
    page.click("#view-insights")
    expect(page.locator("#insights")).to_be_visible()
    expect(page.locator("#customers")).to_be_hidden()
    expect(page.locator("#view-customers")).not_to_have_attribute("aria-current", "page")
    page.click("#view-customers")
    expect(page.locator("#insights")).to_be_hidden()
    expect(page.locator("#customer-find-error")).to_contain_text("No customer has")  # as left
    page.click("#view-queue")
    expect(page.locator("#customers")).to_be_hidden()
    expect(page.locator("#workspace")).to_be_visible()
    assert problems == []


def test_a_lead_sees_no_customer_desk(console, web) -> None:
    problems: list[str] = []
    page = console("lee", problems, hash="#customers")
    expect(page.locator("#view-insights")).to_be_visible()  # a lead's views bar …
    expect(page.locator("#view-customers")).to_be_hidden()  # … without the desk
    expect(page.locator("#customers")).to_be_hidden()
    expect(page.locator("#workspace")).to_be_visible()
    reply = page.request.post(web.url + "/api/console/customers/find", data={"email": EMAIL})
    assert reply.status == 403 and reply.json()["error"] == "admins_only"
    assert problems == []
