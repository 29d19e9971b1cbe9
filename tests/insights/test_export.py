"""Exports and the annotations' command line, on the configured store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.settings import Settings
from insights import annotations, export
from insights.facts import FactsStore
from tests.insights.test_report import T0, day_of, seed


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("STORE_URL", raising=False)
    settings = Settings.load(dotenv=tmp_path / "none.env")
    store = FactsStore(settings.store_url, settings.identity_secret.encode())
    seed(store)
    store.close()
    return settings


def test_one_row_per_conversation_in_csv_and_jsonl(configured: Settings, tmp_path: Path) -> None:
    day = day_of(T0).isoformat()
    jsonl, table = tmp_path / "c.jsonl", tmp_path / "c.csv"
    assert (
        export.main(["--since", day, "--until", day, "--format", "jsonl", "--out", str(jsonl)]) == 0
    )
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted(r["sender_id"] for r in rows) == ["a", "b", "c", "d"]
    assert set(rows[0]) == set(export.COLUMNS)
    c = next(r for r in rows if r["sender_id"] == "c")
    assert c["csat"] == 5 and c["seconds_to_claim"] == 60 and c["outcome"] == "person"
    assert export.main(["--since", day, "--until", day, "--out", str(table)]) == 0
    with table.open(newline="") as f:
        read = list(csv.DictReader(f))
    assert len(read) == 4 and json.loads(read[0]["intents"])


def test_many_rows_come_in_batches_in_order(
    configured: Settings, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 3)
    store = FactsStore(configured.store_url, configured.identity_secret.encode())
    from insights.metrics import Filters

    with store.db.begin() as c:
        senders = [r["sender_id"] for r in export.records(c, Filters(0, T0 + 86_400))]
    store.close()
    assert sorted(senders) == ["a", "b", "c", "d"] and len(senders) == 4


def test_the_export_command_writes_the_three_files(
    configured: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    paths = {
        "EMOTION_FILE": tmp_path / "e.csv",
        "CONVERSATIONS_FILE": tmp_path / "c.yml",
        "QUESTIONS_FILE": tmp_path / "q.csv",
    }
    monkeypatch.setattr(annotations.export, "__defaults__", tuple(paths.values()))
    assert annotations.main(["export"]) == 0
    assert all(p.is_file() for p in paths.values())
    assert "0 rows" in capsys.readouterr().out


def test_a_csv_cell_never_starts_a_spreadsheet_formula() -> None:
    item = {k: None for k in export.COLUMNS}
    item |= {"sender_id": '=HYPERLINK("http://evil")', "csat_comment": "+1 great", "turns": -1}
    (text,) = list(export.csv_lines(iter([item])))
    (row,) = list(csv.DictReader(text.splitlines()))
    assert row["sender_id"] == '\'=HYPERLINK("http://evil")'
    assert row["csat_comment"] == "'+1 great"
    assert row["turns"] == "-1"  # numbers stay numbers
