"""The console's customer desk (bot/web/customer_desk.py), in process: an admin finds,
exports and erases a customer seeded in every store; agents and leads are refused; every
export and erasure is in the audit log, by customer id and never by e-mail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.web.app import create_app
from core.settings import Settings
from routing.accounts import ADMIN, AGENT, LEAD
from tests.bot.test_customer_data import EMAIL, NAME, SECRET, customer_everywhere

FAST_SCRYPT_N = 2**10
FIND, EXPORT, ERASE = (f"/api/console/customers/{a}" for a in ("find", "export", "erase"))
CUSTOMER_ID = "C9100"  # Nora's id in `customer_everywhere`


@pytest.fixture
def app(tmp_path: Path):
    settings = Settings.load(
        environ={
            "DATA_DIR": str(tmp_path),
            "IDENTITY_SECRET": SECRET,
            "RASA_API_TOKEN": "desk-test-token-of-32-bytes-or-more",
        },
        dotenv=tmp_path / "none.env",
    )
    customer_everywhere(settings)  # Nora: store, tracker, handoff, facts, inbox, outbox
    app = create_app(settings)
    accounts = app.state.console.accounts
    accounts.scrypt_n = FAST_SCRYPT_N
    accounts.add_user("ada", "password123", ADMIN, "Ada")
    accounts.add_user("lee", "password123", LEAD, "Lee")
    accounts.add_user("dana", "password123", AGENT, "Dana")
    return app


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app)
    reply = client.post(
        "/api/console/login", json={"username": username, "password": "password123"}
    )
    assert reply.status_code == 200, reply.text
    return client


def audit_entries(app) -> list[dict[str, Any]]:
    reply = signed_in(app, "lee").get("/api/console/audit")
    assert reply.status_code == 200, reply.text
    return reply.json()["entries"]


def desk_entries(app) -> list[dict[str, Any]]:
    return [e for e in audit_entries(app) if e["subject"].startswith("customer:")]


def test_only_a_signed_in_admin_reaches_the_desk(app) -> None:
    anonymous = TestClient(app)
    for path in (FIND, EXPORT, ERASE):
        reply = anonymous.post(path, json={"email": EMAIL, "confirm": EMAIL})
        assert reply.status_code == 401 and reply.json()["error"] == "not_signed_in"
    for username in ("dana", "lee"):
        client = signed_in(app, username)
        for path in (FIND, EXPORT, ERASE):
            reply = client.post(path, json={"email": EMAIL, "confirm": EMAIL})
            assert reply.status_code == 403, (username, path, reply.text)
            assert reply.json() == {
                "error": "admins_only",
                "message": "Finding, exporting and erasing a customer's data is for admins.",
            }
    assert signed_in(app, "ada").post(FIND, json={"email": EMAIL}).status_code == 200
    assert desk_entries(app) == []  # refused calls and finding leave no entry


def test_find_counts_what_is_held_without_exporting_it(app) -> None:
    reply = signed_in(app, "ada").post(FIND, json={"email": f"  {EMAIL.upper()} "})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["customer"] == {"id": CUSTOMER_ID, "name": NAME}
    held = found["held"]
    assert held["conversations"] == 1 and held["handoffs"] == 1 and held["cases"] == 1
    assert held["conversation_facts"] == 1 and held["linked_conversations"] == 1
    assert held["consent"] == 0 and held["conversation_events"] >= 4
    assert all(isinstance(n, int) for n in held.values())
    assert EMAIL not in reply.text  # counts only: not the data itself


def test_an_admin_downloads_the_export_and_the_audit_log_says_so(app) -> None:
    reply = signed_in(app, "ada").post(EXPORT, json={"email": EMAIL})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["content-disposition"] == (
        f'attachment; filename="customer-{CUSTOMER_ID}.json"'
    )
    assert reply.headers["cache-control"] == "no-store"
    exported = reply.json()
    assert exported["customer"]["email"] == EMAIL and exported["customer"]["name"] == NAME
    assert [c["conversation"] for c in exported["conversations"]] == ["telegram-555"]
    assert exported["handoffs"][0]["customer_email"] == EMAIL

    [entry] = desk_entries(app)
    assert (entry["actor"], entry["role"], entry["action"]) == ("ada", ADMIN, "exported")
    assert entry["subject"] == f"customer:{CUSTOMER_ID}"
    assert entry["detail"] == {
        "handoffs": [exported["handoffs"][0]["id"]],
        "conversations": [exported["conversation_facts"][0]["id"]],
    }
    assert EMAIL not in json.dumps(entry) and "telegram-555" not in json.dumps(entry)


def test_an_erasure_needs_the_email_typed_again(app) -> None:
    admin = signed_in(app, "ada")
    for confirm in (None, "", "someone.else@example.com", 42):
        body = {"email": EMAIL} if confirm is None else {"email": EMAIL, "confirm": confirm}
        reply = admin.post(ERASE, json=body)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"] == "not_confirmed"
        assert "Type the customer's e-mail again" in reply.json()["message"]
        assert "Nothing was erased" in reply.json()["message"]
    assert admin.post(FIND, json={"email": EMAIL}).json()["customer"]["id"] == CUSTOMER_ID
    assert desk_entries(app) == []


def test_an_admin_erases_a_customer_from_every_store(app) -> None:
    published: list[tuple[str, dict]] = []
    live = app.state.console.live
    live.publish = lambda event, data: published.append((event, data))
    admin = signed_in(app, "ada")
    handoff_id = admin.post(EXPORT, json={"email": EMAIL}).json()["handoffs"][0]["id"]
    assert handoff_id in [h["id"] for h in admin.get("/api/console/queue").json()["handoffs"]]

    reply = admin.post(ERASE, json={"email": EMAIL, "confirm": f" {EMAIL.upper()}"})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["customer"] == {"id": CUSTOMER_ID, "name": NAME}
    removed = answer["removed"]
    assert removed["customer"] == 1 and removed["handoffs"] == 1 and removed["cases"] == 1
    assert removed["tracker events"] >= 4 and removed["conversation facts"] == 1
    assert removed["e-mails in the outbox"] == 1

    gone = admin.post(FIND, json={"email": EMAIL})
    assert gone.status_code == 404 and gone.json()["error"] == "unknown_customer"
    assert handoff_id not in [h["id"] for h in admin.get("/api/console/queue").json()["handoffs"]]
    # Every open console drops the erased handoff from its queue at once.
    assert ("queue", {"delta": True, "handoffs": [], "removed": [handoff_id]}) in published

    erased, exported = desk_entries(app)  # newest first
    assert (erased["actor"], erased["role"], erased["action"]) == ("ada", ADMIN, "erased")
    assert erased["subject"] == f"customer:{CUSTOMER_ID}"
    assert erased["detail"]["handoffs"] == [handoff_id]
    assert len(erased["detail"]["conversations"]) == 1
    assert exported["action"] == "exported"
    assert EMAIL not in json.dumps([erased, exported]) and NAME not in json.dumps(erased)


def test_an_email_no_customer_has_is_a_404_that_says_so(app) -> None:
    admin = signed_in(app, "ada")
    nobody = "nobody@example.com"
    for path in (FIND, EXPORT, ERASE):
        reply = admin.post(path, json={"email": nobody, "confirm": nobody})
        assert reply.status_code == 404, (path, reply.text)
        assert reply.json()["error"] == "unknown_customer"
        assert "No customer has the e-mail 'nobody@example.com'" in reply.json()["message"]
        assert "Check the spelling" in reply.json()["message"]
    assert desk_entries(app) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, 'Send {"email": "..."}'),
        ({"email": 42}, 'Send {"email": "..."}'),
        ({"email": "   "}, 'Send {"email": "..."}'),
        ({"email": "nora.quinn.example.net"}, "is not an e-mail: it needs an @"),
        ({"email": "@example.net"}, "is not an e-mail: it needs an @"),
        ({"email": "a" * 310 + "@example.net"}, "an e-mail has at most 320"),
    ],
)
def test_an_invalid_email_is_a_400_that_says_what_is_wrong(app, body, message) -> None:
    admin = signed_in(app, "ada")
    for path in (FIND, EXPORT, ERASE):
        reply = admin.post(path, json=body)
        assert reply.status_code == 400, (path, reply.text)
        assert reply.json()["error"] == "invalid_email"
        assert message in reply.json()["message"]


def test_bodies_are_json_objects_of_limited_size(app) -> None:
    admin = signed_in(app, "ada")
    json_type = {"content-type": "application/json"}
    for path in (FIND, EXPORT, ERASE):
        broken = admin.post(path, content=b'{"email": ', headers=json_type)
        assert broken.status_code == 400 and "JSON object" in broken.json()["message"]
        listed = admin.post(path, json=[EMAIL])
        assert listed.status_code == 400 and listed.json()["error"] == "invalid_body"
        nul = admin.post(path, json={"email": EMAIL + "\x00"})
        assert nul.status_code == 400 and nul.json()["error"] == "invalid_text"
        form = admin.post(path, data={"email": EMAIL})
        assert form.status_code == 415
        huge = admin.post(path, json={"email": EMAIL, "pad": "x" * 70_000})
        assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    assert admin.post(FIND, json={"email": EMAIL}).status_code == 200  # still all there


def test_another_site_cannot_make_an_admin_erase(app) -> None:
    admin = signed_in(app, "ada")
    reply = admin.post(
        ERASE,
        json={"email": EMAIL, "confirm": EMAIL},
        headers={"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    )
    assert reply.status_code == 403 and reply.json()["error"] == "cross_site_request"
    assert admin.post(FIND, json={"email": EMAIL}).status_code == 200
    assert desk_entries(app) == []
