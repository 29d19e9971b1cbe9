"""Database URLs: normalising, redacting, and creating what is missing (SQLite, PostgreSQL).

Shared by the tracker store and the sample store so that both accept the same URLs.
`Database` also brings the store database's schema to the newest migration
(`core.migrations`) when it first opens it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.errors import ConfigurationError
from core.migrations import upgrade

logger = logging.getLogger(__name__)

WAL_ATTEMPTS = 20
SQLITE_POOL_SIZE = 4  # connections kept open per process
SQLITE_POOL_OVERFLOW = 16  # more, opened while busy and closed after


def normalize_database_url(url: str) -> str:
    """Accept the common `postgres://` spelling, which SQLAlchemy 1.4 rejects."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    if not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg2://")):
        raise ConfigurationError(
            f"Database URL {redact(url)!r} is not supported. Use sqlite:///path/to/file.db "
            "or postgresql://user:password@host:5432/database."
        )
    return url


def prepare_database(url: str) -> None:
    """Create the SQLite directory or the PostgreSQL database; fail fast and clearly."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        return
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            return
    except sa.exc.OperationalError as e:
        if "does not exist" not in str(e):
            raise ConfigurationError(
                f"Cannot connect to the database at {redact(url)}: {str(e).strip()}. "
                "Start the database server, fix DATABASE_URL / STORE_URL, or unset it to "
                "use SQLite."
            ) from e
    finally:
        engine.dispose()
    _create_postgres_database(sa.engine.make_url(url))


def _create_postgres_database(url: sa.engine.URL) -> None:
    admin = sa.create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        logger.info("Created PostgreSQL database %s", url.database)
    except (sa.exc.ProgrammingError, sa.exc.IntegrityError) as e:
        # Another process created it first (IntegrityError when both tried at once).
        if "already exists" not in str(e):
            raise
    finally:
        admin.dispose()


def redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).__repr__()
    except sa.exc.ArgumentError:
        return url


# libpq: give up connecting after 10 s, and notice a server that vanished (a restart,
# a network cut) within about 25 s instead of waiting on a dead connection for ever.
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def create_engine(url: str) -> sa.engine.Engine:
    """An engine for a supported URL; creates the SQLite file's directory or the
    PostgreSQL database first.

    SQLite runs in WAL mode with foreign keys on, `synchronous=NORMAL` (in WAL mode a
    commit then waits for no disk flush; a power cut may lose the last commits, never
    the database) and a pool of open connections (SQLAlchemy 1.4 would open a new one
    for every session)."""
    url = normalize_database_url(url)
    prepare_database(url)
    if url.startswith("sqlite:///"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 15, "check_same_thread": False},
            poolclass=sa.pool.QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_OVERFLOW,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, connect_args=POSTGRES_CONNECT_ARGS)


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # When two processes open a new file at once, both switch it to WAL and the second
    # gets "database is locked" at once (SQLite's busy timeout does not apply): retry.
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == WAL_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


class Database:
    """One database URL, opened on first use and migrated to the newest schema then.

    Cheap to construct (nothing touches the disk or the network until `engine` is read);
    thread-safe. Shared by the handoff queue and the console accounts. `metadata` holds
    the tables the owner queries; the migrations in `core.migrations`, not `metadata`,
    create and change them.
    """

    def __init__(self, url: str, metadata: sa.MetaData) -> None:
        self.url = normalize_database_url(url)
        self.metadata = metadata
        self._engine: sa.engine.Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:
            if self._engine is None:
                engine = create_engine(self.url)
                try:
                    upgrade(engine)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine = engine
            return self._engine

    @contextmanager
    def begin(self) -> Iterator[sa.engine.Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


@contextmanager
def throwaway_databases(admin_url: str, prefix: str, count: int = 1) -> Iterator[list[str]]:
    """URLs of `count` new, empty PostgreSQL databases on the server of `admin_url`,
    dropped afterwards (the tests and `make bench-scale`)."""
    import uuid

    admin = sa.engine.make_url(admin_url)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    names = [f"{prefix}_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with engine.connect() as c:
        for name in names:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield [admin.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with engine.connect() as c:
            for name in names:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
