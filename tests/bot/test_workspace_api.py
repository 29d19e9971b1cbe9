"""The lead workspace's API, in process: leads only, filters checked, annotations stored
and exported as training and evaluation data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from bot.evaluate_conversations import load_scripts
from bot.web.app import create_app
from core.settings import Settings
from insights import annotations
from insights.facts import FactsStore
from nlu.datasets import own_examples
from routing.accounts import AGENT, LEAD
from tests.bot.test_console import FAST_SCRYPT_N, HOSTILE, TOKEN, signed_in
from tests.insights.test_facts import bot, escalate, session, slot, user


def now_events(sender: str, t: float) -> list[dict]:
    return [
        *session(sender, t),
        user(sender, t + 1, "where is my parcel", "order_status", 0.3),
        bot(sender, t + 2, "It is on its way."),
        user(sender, t + 30, f"it is late AGAIN {HOSTILE}", "delivery_problem", 0.92),
        *escalate(sender, t + 31),
        slot(sender, t + 31, "kb_outcome", "miss"),
    ]


@pytest.fixture
def workspace(tmp_path: Path):
    import time

    settings = Settings.load(
        environ={"DATA_DIR": str(tmp_path), "RASA_API_TOKEN": TOKEN}, dotenv=tmp_path / "x"
    )
    app = create_app(settings)
    accounts = app.state.console.accounts
    accounts.scrypt_n = FAST_SCRYPT_N
    accounts.add_user("dana", "password123", AGENT, "Dana")
    accounts.add_user("lee", "password123", LEAD, "Lee")
    store = FactsStore(settings.store_url, settings.identity_secret.encode())
    start = time.time() - 3600
    events = now_events("web-1", start)
    store.apply(events)
    store.apply([*session("web-2", start), user("web-2", start + 1, "hi there", "greet", 0.0)])
    tracker = {"events": [{k: v for k, v in e.items() if k != "sender_id"} for e in events]}

    def rasa(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/conversations/web-1/tracker"
        return httpx.Response(200, json=tracker)

    app.state.console.rasa.transport = httpx.MockTransport(rasa)
    yield app, store, settings
    store.close()


def ids(client: TestClient, **params: str) -> list[int]:
    reply = client.get("/api/insights/conversations", params=params)
    assert reply.status_code == 200, reply.text
    return [c["id"] for c in reply.json()["conversations"]]


def test_only_leads_see_the_workspace(workspace) -> None:
    app, _, _ = workspace
    assert TestClient(app).get("/api/insights/dashboard").status_code == 401
    agent = signed_in(app, "dana")
    for path in ("dashboard", "conversations", "conversations/1", "export"):
        reply = agent.get(f"/api/insights/{path}")
        assert reply.status_code == 403 and reply.json()["error"] == "leads_only"
    assert signed_in(app, "lee").get("/api/insights/dashboard").status_code == 200


def test_the_dashboard_counts_the_conversations(workspace) -> None:
    app, _, _ = workspace
    data = signed_in(app, "lee").get("/api/insights/dashboard").json()
    assert data["summary"]["conversations"] == 2 and data["summary"]["escalated"] == 1
    assert data["knowledge_gaps"][0]["examples"] == [f"it is late AGAIN {HOSTILE}"]
    assert {"reason": "frustration", "conversations": 1} in data["escalation_reasons"]
    assert "containment_rate" in data["definitions"]


def test_search_filters_and_pages(workspace) -> None:
    app, _, _ = workspace
    lee = signed_in(app, "lee")
    assert len(ids(lee)) == 2
    assert ids(lee, escalated="true") == ids(lee, text="AGAIN") == ids(lee, peak_above="0.9")
    assert ids(lee, escalated="false") != ids(lee, escalated="true")
    assert ids(lee, text="100%_") == [] and ids(lee, kb_miss="true") == ids(lee, escalated="true")
    first = lee.get("/api/insights/conversations", params={"limit": "1"}).json()
    second = lee.get(
        "/api/insights/conversations", params={"limit": "1", "cursor": first["next"]}
    ).json()
    assert first["matches"] == 2 and second["next"] is None
    assert {first["conversations"][0]["id"], second["conversations"][0]["id"]} == set(ids(lee))
    for bad in (
        {"escalated": "maybe"},
        {"peak_above": "2"},
        {"since": "yesterday"},
        {"cursor": "not-a-cursor"},
        {"text": "x" * 201},
        {"colour": "red"},
        {"since": "2026-12-02", "until": "2026-12-01"},
    ):
        reply = lee.get("/api/insights/conversations", params=bad)
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_filter", bad


def test_a_conversation_opens_with_its_timeline(workspace) -> None:
    app, _, _ = workspace
    lee = signed_in(app, "lee")
    (escalated,) = ids(lee, escalated="true")
    data = lee.get(f"/api/insights/conversations/{escalated}").json()
    timeline = data["timeline"]
    customer = [m for m in timeline if m["sender"] == "customer"]
    assert [m["turn"] for m in customer] == [0, 1]
    assert customer[1]["text"] == data["customer_turns"][1]
    assert customer[1]["emotion"]["frustration"] == 0.92
    (routing,) = [m for m in timeline if m["sender"] == "routing"]
    assert routing["reasons"] == ["frustration 0.91", "2 failed answers"]
    assert lee.get("/api/insights/conversations/999").status_code == 404


def test_an_annotation_reaches_the_training_and_evaluation_data(workspace, tmp_path) -> None:
    app, store, _ = workspace
    lee = signed_in(app, "lee")
    (escalated,) = ids(lee, escalated="true")
    (calm,) = ids(lee, escalated="false")
    url = f"/api/insights/conversations/{escalated}/annotations"
    bad = [
        {
            "kind": "wrong_emotion",
            "turn": 1,
            "sentiment": "positive",
            "frustration": 1,
            "urgency": 0,
        },
        {"kind": "wrong_emotion", "sentiment": "negative", "frustration": 1, "urgency": 0},
        {"kind": "wrong_answer", "turn": 1, "article": "no-such-article"},
        {"kind": "teleport"},
        {"kind": "note", "turn": 7, "note": "x"},
        {"kind": "note", "tags": ["two words"]},
    ]
    for body in bad:
        reply = lee.post(url, json=body)
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_annotation", body
    corrected = {"kind": "wrong_emotion", "turn": 0, "sentiment": "negative", "frustration": 1}
    assert lee.post(url, json={**corrected, "urgency": 1}).status_code == 201
    assert (
        lee.post(url, json={"kind": "wrong_answer", "turn": 1, "article": None}).status_code == 201
    )
    calm_url = f"/api/insights/conversations/{calm}/annotations"
    reply = lee.post(calm_url, json={"kind": "should_have_escalated", "note": "asked twice"})
    assert reply.status_code == 201 and reply.json()["annotation"]["author"] == "lee"
    dashboard = lee.get("/api/insights/dashboard").json()
    assert dashboard["reviews"] == {
        "conversations": 2,
        "by_kind": {"should_have_escalated": 1, "wrong_answer": 1, "wrong_emotion": 1},
    }
    with store.db.begin() as c:
        items = annotations.everything(c)
    files = (tmp_path / "lead.csv", tmp_path / "lead.yml", tmp_path / "questions.csv")
    counts = annotations.export(items, *files)
    assert list(counts.values()) == [1, 1, 1]
    # The emotion training data reads the correction, with the labels the lead gave.
    (example,) = [e for e in own_examples(reviews=files[0]) if e.source == "own:lead_review"]
    assert (example.text, example.frustration, example.urgency) == ("where is my parcel", 1, 1)
    # eval-conversations reads the review as a scripted conversation.
    (script,) = load_scripts(files[1])
    assert [t.user for t in script.turns] == ["hi there"] and script.expect.escalated
    with files[2].open(newline="") as f:
        assert list(csv.DictReader(f)) == [
            {"question": f"it is late AGAIN {HOSTILE}", "article_id": ""}
        ]


def test_exports_have_one_row_per_conversation(workspace) -> None:
    app, _, _ = workspace
    lee = signed_in(app, "lee")
    reply = lee.get("/api/insights/export", params={"format": "jsonl"})
    assert reply.status_code == 200 and "attachment" in reply.headers["content-disposition"]
    rows = [json.loads(line) for line in reply.text.splitlines()]
    assert sorted(r["sender_id"] for r in rows) == ["web-1", "web-2"]
    table = list(csv.DictReader(lee.get("/api/insights/export").text.splitlines()))
    assert len(table) == 2 and {"escalated", "csat", "outcome"} <= set(table[0])
    assert lee.get("/api/insights/export", params={"format": "xml"}).status_code == 400
