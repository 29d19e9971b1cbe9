"""Bring a store database to the newest schema revision, safely from several processes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.pool import NullPool

from core.errors import ConfigurationError

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).resolve().parent
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
# The tables of revision 0001. One of them without `alembic_version` means a database made
# by `create_all` before migrations existed.
BASELINE_TABLES = frozenset(
    {
        "customers",
        "identities",
        "orders",
        "subscriptions",
        "payments",
        "return_requests",
        "cases",
        "account_events",
        "handoffs",
        "handoff_messages",
        "console_users",
        "console_sessions",
    }
)
# pg_advisory_xact_lock key: any constant shared by every process of the project.
ADVISORY_LOCK_KEY = 0x62625F736368656D  # "bb_schem"
SQLITE_BUSY_SECONDS = 60
SQLITE_ATTEMPTS = 3

# Alembic keeps the running environment in module globals (`alembic.context`,
# `alembic.op`), so one thread at a time per process; other processes wait on the
# database lock instead.
_alembic_lock = threading.RLock()


class SchemaError(ConfigurationError):
    """The database's schema revision cannot be brought to the one this code expects."""


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `upgrade` did: the revision before (None: no `alembic_version`) and after."""

    before: str | None
    after: str
    adopted: bool  # tables made by `create_all` before migrations were found and kept

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def __str__(self) -> str:
        if not self.changed:
            return f"Database schema at revision {self.after}"
        if self.adopted:
            return (
                f"Database schema at revision {self.after} "
                "(existing tables from before migrations kept with their rows)"
            )
        return f"Database schema upgraded from revision {self.before or 'none'} to {self.after}"


def alembic_config(connection: sa.engine.Connection | None = None) -> Config:
    """Alembic's configuration for the store database; no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision this code knows (the chain is linear: one head)."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise SchemaError(
            f"core/migrations/versions has {len(heads)} heads {sorted(heads)}; the chain must "
            "be linear. Set the newer revision's down_revision to the other one."
        )
    return heads[0]


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {s.revision for s in script.walk_revisions()}


def current_revision(engine: sa.engine.Engine) -> str | None:
    """The database's revision, or None when it has no `alembic_version` yet."""
    with engine.connect() as connection:
        return _current(connection)


def upgrade(engine: sa.engine.Engine) -> SchemaUpgrade:
    """Apply every migration the database lacks; safe to call from many processes at once.

    A database already at head costs one query. Otherwise the upgrade runs in one
    transaction that holds a lock: `pg_advisory_xact_lock` on PostgreSQL, `BEGIN IMMEDIATE`
    on SQLite; whoever waits for it then finds the work done. Tables made by `create_all`
    before migrations are kept with their rows (revision 0001 creates only what is
    missing). A revision newer than this code raises `SchemaError`.

        >>> upgrade(core.database.create_engine("sqlite:///data/runtime/store.db"))
        SchemaUpgrade(before='0001', after='0001', adopted=False)
    """
    head = head_revision()
    try:
        before = current_revision(engine)
    except sa.exc.SQLAlchemyError as e:
        raise SchemaError(
            f"Cannot read the schema revision of {_redact(engine.url)}: {e}. Check that the "
            "database is reachable and that STORE_URL points to it."
        ) from e
    if before == head:
        return SchemaUpgrade(before, head, adopted=False)
    try:
        if engine.dialect.name == "sqlite":
            return _upgrade_sqlite(engine, head)
        return _upgrade_locked(engine, head)
    except sa.exc.SQLAlchemyError as e:
        raise SchemaError(
            f"Upgrading the schema of {_redact(engine.url)} from revision {before or 'none'} "
            f"to {head} failed: {e}. Nothing was changed (the upgrade is one transaction); "
            "fix the cause and start again."
        ) from e


def _upgrade_sqlite(engine: sa.engine.Engine, head: str) -> SchemaUpgrade:
    # A private engine whose transactions start with BEGIN IMMEDIATE (the write lock) and
    # include the DDL; pysqlite would otherwise commit before each CREATE TABLE.
    own = sa.create_engine(
        engine.url,
        poolclass=NullPool,
        connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
    )

    @sa.event.listens_for(own, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # We emit BEGIN ourselves. (WAL mode is the file's: `engine` already set it.)
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(own, "begin")
    def _begin(connection: sa.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        attempt = 1
        while True:
            try:
                return _upgrade_locked(own, head)
            except sa.exc.OperationalError as e:
                if "locked" not in str(e) or attempt == SQLITE_ATTEMPTS:
                    raise
                logger.warning("The database is locked; retrying the upgrade (%s)", attempt)
                time.sleep(attempt)
                attempt += 1
    finally:
        own.dispose()


def _upgrade_locked(engine: sa.engine.Engine, head: str) -> SchemaUpgrade:
    with _alembic_lock, _locked(engine) as connection:
        before = _current(connection)
        if before is not None and before not in known_revisions():
            raise SchemaError(
                f"The database at {_redact(engine.url)} is at schema revision {before!r}, "
                f"which this code does not know (its newest is {head!r}): a newer version "
                "of the project upgraded it. Run that version, or restore the database from "
                "a backup taken before the upgrade."
            )
        tables = set(sa.inspect(connection).get_table_names())
        adopted = before is None and bool(tables & BASELINE_TABLES)
        if adopted:
            logger.info(
                "Adopting %s tables made before migrations at revision %s",
                len(tables & BASELINE_TABLES),
                BASELINE,
            )
        try:
            command.upgrade(alembic_config(connection), "head")
        except CommandError as e:
            raise SchemaError(f"Upgrading the schema of {_redact(engine.url)}: {e}") from e
        after = _current(connection) or head
    if before != after:
        logger.info("Database schema upgraded from %s to %s", before or "none", after)
    return SchemaUpgrade(before, after, adopted)


@contextmanager
def _locked(engine: sa.engine.Engine) -> Iterator[sa.engine.Connection]:
    """A connection in a transaction that holds the migration lock until it commits."""
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        yield connection


def _current(connection: sa.engine.Connection) -> str | None:
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise SchemaError(
            f"{VERSION_TABLE} holds several revisions {sorted(heads)}; the chain is linear. "
            "Keep the newest row and delete the others."
        )
    return heads[0] if heads else None


def _redact(url: sa.engine.URL) -> str:
    return repr(url)  # SQLAlchemy masks the password
