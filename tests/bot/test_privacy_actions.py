"""The customer's say over their data in the chat: consent before a chat is linked to
them, "forget me", their order history offered only with consent, and a copy or an
erasure of their data once they proved who they are."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import base
from bot.actions.orders import ValidateOrderLookupForm
from bot.actions.privacy import (
    ActionForgetMe,
    ActionPrivacyRequest,
    ActionRememberMe,
    ValidatePrivacyForm,
)
from bot.actions.questions import ActionAskOrderNumber
from bot.mail import outbox_messages
from bot.privacy_requests import QUIET_SECONDS, PrivacyRequests
from bot.store import SupportStore, load_seed
from bot.verification import OneTimeCodes
from core.constants import CONSENT_ORDER_HISTORY, CONSENT_REMEMBER, CONSENT_TEXTS, REMEMBER_TIP
from core.settings import Settings
from privacy.audit import AuditLog
from tests.conftest import run_async


class Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str, attachment: Any = None) -> None:
        self.sent.append((to, subject, body))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    environ = {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMTP_URL", raising=False)
    return Settings.load(environ=environ, dotenv=tmp_path / "none.env")


@pytest.fixture
def store(settings: Settings):
    s = SupportStore(settings.store_url)
    s.seed(load_seed())
    base.set_store(s)
    yield s
    base.set_store(None)
    s.close()


def tracker(
    slots: dict[str, Any] | None = None, sender: str = "web-1", channel: str = "socketio"
) -> Tracker:
    events = [{"event": "user", "text": "hi", "input_channel": channel, "parse_data": {}}]
    return Tracker(
        sender,
        slots or {},
        {"text": "", "intent": {}, "entities": []},
        events,
        False,
        None,
        {},
        "action_listen",
    )


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = run_async(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def consent(store: SupportStore, sender: str, purpose: str, granted: bool = True) -> None:
    store.record_consent(sender, purpose, granted, CONSENT_TEXTS[purpose], "web")


def code_for(store: SupportStore, key: str) -> str:
    inbox = Inbox()
    base.set_codes(OneTimeCodes(store, inbox))
    base.get_codes().send(key, store.get_customer("C1001"))
    found = re.search(r"\b\d{6}\b", inbox.sent[-1][2])
    assert found is not None, inbox.sent
    return found.group(0)


# --- consent before linking ------------------------------------------------------------


def test_a_code_links_the_chat_only_with_consent_and_asks_for_it_on_the_web_chat(store) -> None:
    form = ValidateOrderLookupForm()
    t = tracker({"customer_key": "web-1", "customer_id": "C1001"})
    dispatcher = CollectingDispatcher()
    result = form.validate_verification_code(code_for(store, "web-1"), dispatcher, t, {})
    assert result["verified_by"] == "code"  # proven for this session
    assert store.customer_for_key("web-1") is None  # but not remembered
    asked = [m["custom"]["data"] for m in dispatcher.messages if m.get("custom")]
    assert asked and asked[0]["consent"] == "ask"
    assert "remember you next time" in asked[0]["text"]

    consent(store, "web-2", CONSENT_REMEMBER)
    t = tracker({"customer_key": "web-2", "customer_id": "C1001"}, sender="web-2")
    dispatcher = CollectingDispatcher()
    form.validate_verification_code(code_for(store, "web-2"), dispatcher, t, {})
    assert store.customer_for_key("web-2").id == "C1001"
    assert not any(m.get("custom") for m in dispatcher.messages)  # decided already


def test_other_channels_are_not_shown_the_web_chat_s_choices(store) -> None:
    t = tracker({"customer_key": "tg-1", "customer_id": "C1001"}, "tg-1", channel="telegram")
    dispatcher = CollectingDispatcher()
    ValidateOrderLookupForm().validate_verification_code(code_for(store, "tg-1"), dispatcher, t, {})
    assert not any(m.get("custom") for m in dispatcher.messages)
    assert any('say "remember me"' in (m.get("text") or "") for m in dispatcher.messages)
    assert store.customer_for_key("tg-1") is None
    # "remember me": recorded with the words shown, and the chat linked at once.
    messages, _ = run(ActionRememberMe(), t)
    assert "remember you next time" in messages[0]["text"]
    assert store.consents("tg-1")[CONSENT_REMEMBER].text == REMEMBER_TIP
    assert store.customer_for_key("tg-1") is None  # proven by e-mail only: linked later
    coded = tracker(
        {"customer_key": "tg-1", "customer_id": "C1001", "verified_by": "code"}, "tg-1", "telegram"
    )
    run(ActionRememberMe(), coded)
    assert store.customer_for_key("tg-1").id == "C1001"


# --- forget me -------------------------------------------------------------------------


def test_forget_me_withdraws_consent_unlinks_and_forgets_who_they_are(store) -> None:
    consent(store, "web-1", CONSENT_REMEMBER)
    consent(store, "web-1", CONSENT_ORDER_HISTORY)
    store.link_identity("web-1", "C1001")
    slots = {"customer_key": "web-1", "customer_id": "C1001", "verified_by": "linked"}
    messages, events = run(ActionForgetMe(), tracker(slots))
    assert "won't remember you" in messages[0]["text"]
    assert store.customer_for_key("web-1") is None
    choices = store.consents("web-1")
    assert not choices[CONSENT_REMEMBER].granted and not choices[CONSENT_ORDER_HISTORY].granted
    assert choices[CONSENT_REMEMBER].text == CONSENT_TEXTS[CONSENT_REMEMBER]
    assert slots_of(events)["customer_id"] is None and slots_of(events)["verified_by"] is None


def test_forget_me_with_nothing_remembered_says_so_and_records_the_refusal(store) -> None:
    messages, _ = run(ActionForgetMe(), tracker({"customer_key": "web-1"}))
    assert "nothing to forget" in messages[0]["text"]
    assert store.consents("web-1")[CONSENT_REMEMBER].granted is False


def test_a_signed_in_customer_stays_known_after_forget_me(store) -> None:
    slots = {"customer_key": "signed-in:C1001", "customer_id": "C1001"}
    _, events = run(ActionForgetMe(), tracker(slots))
    assert "customer_id" not in slots_of(events)


# --- order history ---------------------------------------------------------------------


def test_recent_orders_are_offered_only_to_a_proven_customer_who_agreed(store) -> None:
    proven = {"customer_id": "C1001", "verified_by": "linked"}
    messages, _ = run(ActionAskOrderNumber(), tracker(proven))
    assert not any(b["payload"].isdigit() for b in messages[0]["buttons"])  # no consent yet
    consent(store, "web-1", CONSENT_ORDER_HISTORY)
    messages, _ = run(ActionAskOrderNumber(), tracker(proven))
    offered = [b["payload"] for b in messages[0]["buttons"] if b["payload"].isdigit()]
    own = {o.number for o in store.orders_for_customer("C1001")}
    assert offered and set(offered) <= own
    # An e-mail alone proves too little to be shown orders.
    messages, _ = run(ActionAskOrderNumber(), tracker({**proven, "verified_by": "email"}))
    assert not any(b["payload"].isdigit() for b in messages[0]["buttons"])


# --- a copy, an erasure ----------------------------------------------------------------


def test_the_privacy_form_confirms_an_erasure_only(store) -> None:
    form = ValidatePrivacyForm()
    slots = ["email", "verification_code", "confirm_erase"]
    proven = {"customer_id": "C1001", "verified_by": "identity_token"}
    export = tracker({**proven, "privacy_request": "export"})
    erase = tracker({**proven, "privacy_request": "erase"})
    d = CollectingDispatcher()
    assert run_async(form.required_slots(slots, d, export, {})) == []
    assert run_async(form.required_slots(slots, d, erase, {})) == ["confirm_erase"]
    anonymous = tracker({"privacy_request": "export"})
    assert run_async(form.required_slots(slots, d, anonymous, {})) == [
        "email",
        "verification_code",
    ]


def test_a_copy_is_emailed_to_the_address_on_file_and_audited(store, settings) -> None:
    slots = {"customer_id": "C1001", "verified_by": "code", "privacy_request": "export"}
    messages, events = run(ActionPrivacyRequest(), tracker(slots))
    assert "e-mailed a copy" in messages[0]["text"]
    mail = outbox_messages(settings.data_dir / "outbox")[-1]
    assert mail["To"] == "dana.whitfield@example.com"
    attached = next(mail.iter_attachments())
    held = json.loads(attached.get_content())
    assert held["customer"]["id"] == "C1001" and "consent" in held and "audit" in held
    entries = AuditLog(settings.store_url).entries()
    assert entries[0].action == "exported" and entries[0].subject == "customer:C1001"
    assert entries[0].role == "customer"
    assert slots_of(events)["privacy_request"] is None


def test_an_unproven_customer_gets_nothing(store, settings) -> None:
    slots = {"customer_id": "C1001", "verified_by": "email", "privacy_request": "export"}
    messages, _ = run(ActionPrivacyRequest(), tracker(slots))
    assert "confirm it's you" in messages[0]["text"]
    assert not (settings.data_dir / "outbox").exists()


def test_an_erasure_waits_for_the_conversation_to_go_quiet_then_erases(store, settings) -> None:
    slots = {"customer_id": "C1001", "verified_by": "code", "privacy_request": "erase"}
    messages, _ = run(ActionPrivacyRequest(), tracker({**slots, "confirm_erase": False}))
    assert "haven't erased anything" in messages[0]["text"]
    assert store.pending_privacy_requests("erase") == []
    messages, _ = run(ActionPrivacyRequest(), tracker({**slots, "confirm_erase": True}))
    assert "will be erased" in messages[0]["text"]
    requests = PrivacyRequests(settings, store, mailer=Inbox())
    [pending] = store.pending_privacy_requests("erase")
    # The conversation is still going: nothing yet.
    _record_event(settings, pending.conversation_key)
    assert requests.erase_due() == []
    assert store.get_customer("C1001") is not None
    [done] = requests.erase_due(now=_now() + QUIET_SECONDS + 1)
    assert done.customer_id == "C1001" and done.removed["customer"] == 1
    assert store.get_customer("C1001") is None
    assert store.pending_privacy_requests("erase") == []
    assert AuditLog(settings.store_url).entries()[0].action == "erased"


def _now() -> float:
    import time

    return time.time()


def _record_event(settings: Settings, sender: str) -> None:
    """A tracker store row for `sender`, written now (the conversation's last turn)."""
    from rasa.shared.core.events import ActionExecuted

    from bot.tracker_store import UrlTrackerStore

    tracker_store = UrlTrackerStore(host=settings.database_url)
    t = run_async(tracker_store.get_or_create_tracker(sender))
    t.update(ActionExecuted("action_listen"))
    run_async(tracker_store.save(t))
