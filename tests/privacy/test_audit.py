"""The audit log: who opened, exported or erased what, and when; append-only in the
database itself; read by leads and admins only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from privacy.audit import ERASED, OPENED, AuditLog
from tests.bot.test_console import console, open_handoff, signed_in  # noqa: F401
from tests.conftest import postgres_databases


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with postgres_databases("bb_audit") as (url,):
        yield url


def test_entries_are_kept_newest_first_and_cannot_be_changed_or_deleted(url: str) -> None:
    audit = AuditLog(url)
    try:
        for n in range(5):
            audit.record("dana", "agent", OPENED, f"handoff:{n}", now=1000.0 + n)
        audit.record("root (command line)", "admin", ERASED, "customer:C1001", now=2000.0)
        newest = audit.entries(limit=3)
        assert [e.subject for e in newest] == ["customer:C1001", "handoff:4", "handoff:3"]
        assert [e.subject for e in audit.entries(before=newest[-1].id)] == [
            "handoff:2",
            "handoff:1",
            "handoff:0",
        ]
        for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
            with (
                pytest.raises(sa.exc.DatabaseError, match="append-only"),
                audit.db.begin() as connection,
            ):
                connection.exec_driver_sql(statement)
        assert len(audit.entries()) == 6
        with pytest.raises(ValueError, match="Unknown audit action"):
            audit.record("dana", "agent", "peeked", "handoff:1")
    finally:
        audit.close()


def test_opening_a_conversation_is_recorded_and_leads_read_the_log(console) -> None:  # noqa: F811
    app, _ = console
    handoff = open_handoff(app)
    dana, lee = signed_in(app, "dana"), signed_in(app, "lee")
    assert dana.get(f"/api/console/handoffs/{handoff}").status_code == 200
    assert dana.get("/api/console/audit").status_code == 403  # agents do not read it
    entries = lee.get("/api/console/audit").json()["entries"]
    assert [(e["actor"], e["role"], e["action"], e["subject"]) for e in entries] == [
        ("dana", "agent", "opened", f"handoff:{handoff}")
    ]
    assert lee.get("/api/console/audit?before=x").status_code == 400
