"""`make bench-insights`: the lead workspace's dashboard and transcript search latency at
100,000 conversations, on SQLite and on PostgreSQL.

    python -m insights.bench [--conversations 100000] [--runs 30] [--postgres URL] [--no-postgres]

Seeds a fresh SQLite database in a temporary directory and a fresh PostgreSQL database
on the server of `--postgres` (an admin URL; the benchmark creates a uniquely named
database there and drops it at the end; PostgreSQL is skipped, with the reason, when the
server does not answer) with `insights.seed`, then times each operation as the web API
runs it: one connection checked out per call (`store.db.begin()`), a warm-up call, then
`--runs` timed calls. Printed: p50 and p95 per operation, each p50 as a multiple of a
trivial `SELECT 1` round trip timed in the same run (machines are noisy; ratios travel
better), and per backend the p95 of all calls and the slowest operation against the
target of 300 ms. PostgreSQL is vacuumed and analysed after seeding, as autovacuum
would have done by the time a lead looks. Exits 0 unless something crashes: a benchmark
prints numbers, it is not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.dashboard import dashboard
from insights.facts import FactsStore
from insights.metrics import Filters
from insights.review import Query, search
from insights.seed import AGENTS, BILLING, ORDERS_SHIPPING, ProgressBar, seed_conversations

TARGET_P95_MS = 300.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DAYS = 90
DEEP_PAGE = 40  # pages followed through `next` before the timed one
KEY = b"insights-bench"

Operation = Callable[[Connection], Any]


@dataclass
class Result:
    backend: str
    operation: str
    ms: list[float]

    @property
    def p50(self) -> float:
        return float(np.percentile(self.ms, 50))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.ms, 95))


def timed(store: FactsStore, operation: Operation, runs: int) -> list[float]:
    """Wall-clock milliseconds of `runs` calls, each on its own checked-out connection,
    after one untimed warm-up call."""
    with store.db.begin() as c:
        operation(c)
    ms = []
    for _ in range(runs):
        started = time.perf_counter()
        with store.db.begin() as c:
            operation(c)
        ms.append((time.perf_counter() - started) * 1000)
    return ms


def deep_cursor(store: FactsStore, query: Query, pages: int) -> str | None:
    """The cursor of the page after `pages` pages of `query` (None: fewer pages)."""
    cursor = None
    with store.db.begin() as c:
        for _ in range(pages):
            cursor = search(c, Query(query.filters, cursor=cursor))["next"]
            if cursor is None:
                break
    return cursor


def operations(store: FactsStore, now: float) -> list[tuple[str, Operation]]:
    today = datetime.fromtimestamp(now, timezone.utc).date()
    month = Filters.days(today - timedelta(days=29), today)
    whole = Filters.days(today - timedelta(days=DAYS), today)
    agent = AGENTS[ORDERS_SHIPPING][0]
    deep = deep_cursor(store, Query(whole), DEEP_PAGE)

    def board(filters: Filters) -> Operation:
        return lambda c: dashboard(c, filters, now)

    def find(query: Query) -> Operation:
        return lambda c: search(c, query)

    return [
        ("dashboard, last 30 days", board(month)),
        (f"dashboard, {DAYS} days", board(whole)),
        (f"dashboard, {DAYS} days, channel rest", board(Filters(whole.since, whole.until, "rest"))),
        (
            f"dashboard, {DAYS} days, queue {BILLING}",
            board(Filters(whole.since, whole.until, queue=BILLING)),
        ),
        ("search, first page", find(Query(whole))),
        ("search, text 'charged twice'", find(Query(whole, text="charged twice"))),
        ("search, escalated, peak > 0.8", find(Query(whole, escalated=True, peak_above=0.8))),
        ("search, csat ≤ 2", find(Query(whole, csat_max=2))),
        (f"search, agent {agent}", find(Query(whole, agent=agent))),
        (f"search, page {DEEP_PAGE + 1}", find(Query(whole, cursor=deep))),
    ]


def run_backend(
    backend: str, store: FactsStore, conversations: int, runs: int, prepare: Callable[[], None]
) -> list[Result]:
    started = time.perf_counter()
    seed_conversations(store.db, conversations, DAYS, progress=ProgressBar(f"{backend}: seeding"))
    seconds = time.perf_counter() - started
    prepare()
    print(f"{backend}: seeded {conversations:,} conversations in {seconds:.1f} s", flush=True)
    now = time.time()
    results = [Result(backend, "SELECT 1 (round trip)", timed(store, _select_one, runs))]
    for name, operation in operations(store, now):
        results.append(Result(backend, name, timed(store, operation, runs)))
    return results


def _select_one(c: Connection) -> Any:
    return c.execute(sa.text("SELECT 1")).scalar()


@contextmanager
def sqlite_store() -> Iterator[FactsStore]:
    with tempfile.TemporaryDirectory(prefix="insights-bench-") as folder:
        store = FactsStore(f"sqlite:///{Path(folder) / 'insights.db'}", KEY)
        try:
            yield store
        finally:
            store.close()


def unreachable(admin_url: str) -> str | None:
    """Why the PostgreSQL server at `admin_url` cannot be benchmarked (None: it can)."""
    shown = sa.engine.make_url(admin_url).render_as_string(hide_password=True)
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        engine.connect().close()
        return None
    except sa.exc.OperationalError as e:
        reason = str(e.orig or e).strip().splitlines()[0]
        return (
            f"PostgreSQL skipped: no server at {shown} ({reason}). Start one there or pass "
            "--postgres URL (an admin URL), or --no-postgres to leave it out."
        )
    finally:
        engine.dispose()


@contextmanager
def postgres_store(admin_url: str) -> Iterator[FactsStore]:
    """A store on a new database of the server at `admin_url`, dropped afterwards."""
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"insights_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(admin_url).set(database=name)
        store = FactsStore(url.render_as_string(hide_password=False), KEY)
        try:
            yield store
        finally:
            store.close()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def vacuum(store: FactsStore) -> None:
    """What autovacuum does soon after a bulk load: statistics, and the visibility map
    that index-only scans need."""
    with store.db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as c:
        c.execute(sa.text("VACUUM ANALYZE"))


def table(results: Sequence[Result]) -> str:
    lines = [f"{'backend':10} {'operation':40} {'p50 ms':>9} {'p95 ms':>9} {'p50 ÷ SELECT 1':>15}"]
    for backend in dict.fromkeys(r.backend for r in results):
        mine = [r for r in results if r.backend == backend]
        base = mine[0].p50 or 1e-9
        for r in mine:
            lines.append(
                f"{backend:10} {r.operation:40} {r.p50:9.1f} {r.p95:9.1f} {r.p50 / base:14.0f}×"
            )
        timed_ops = mine[1:]
        overall = float(np.percentile([ms for r in timed_ops for ms in r.ms], 95))
        slowest = max(timed_ops, key=lambda r: r.p95)
        ok = overall <= TARGET_P95_MS and slowest.p95 <= TARGET_P95_MS
        lines.append(
            f"{backend:10} overall p95 {overall:.1f} ms; slowest: {slowest.operation} "
            f"p95 {slowest.p95:.1f} ms; target {TARGET_P95_MS:.0f} ms {'✓' if ok else '✗'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insights.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="timed calls per operation")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help=f"admin URL of the PostgreSQL server (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.runs < 1:
        parser.error("--conversations and --runs must be at least 1")
    results: list[Result] = []
    with sqlite_store() as store:
        results += run_backend("sqlite", store, args.conversations, args.runs, lambda: None)
    skipped = (
        "PostgreSQL skipped: --no-postgres." if args.no_postgres else unreachable(args.postgres)
    )
    if skipped is None:
        with postgres_store(args.postgres) as store:
            results += run_backend(
                "postgresql", store, args.conversations, args.runs, lambda: vacuum(store)
            )
    print()
    print(f"{args.conversations:,} conversations, {args.runs} timed runs per operation")
    print(table(results))
    if skipped:
        print(skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
