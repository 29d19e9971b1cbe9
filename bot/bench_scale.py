"""`make bench-scale`: the production profile under load, with one Rasa server and with
two, in one run: msg/s, p50/p95 and errors, every conversation's turns in order, and
every event through RabbitMQ.

    python -m bot.bench_scale [--seconds 30] [--conversations 20] [--replicas 1 2]

Each run starts the profile (`bot.production`) afresh on this machine's PostgreSQL
(two new databases, dropped afterwards), Redis and RabbitMQ (a queue of its own, deleted
afterwards), behind HAProxy, and loads it over REST with the support conversations of
`make bench-load`. On a two-core machine two servers share the same two cores: the point
is that nothing breaks and nothing is lost under load across servers, not a 2× gain;
the ratio printed is what this machine gives.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bot.bench import bench_settings
from bot.bench_load import (
    SUPPORT_SCRIPTS,
    Endpoint,
    check_order,
    free_port_base,
    run_level,
    summarize,
)
from bot.errors import SetupError
from bot.production import ProductionStack, missing
from bot.rasa_server import session_headers
from core.database import throwaway_databases
from core.settings import Settings
from insights.broker import delete_queue

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"
START_TIMEOUT_S = 300.0


@dataclass
class ScaleRun:
    replicas: int
    msg_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    error_kinds: str = ""
    conversations: int = 0
    out_of_order: list[str] = field(default_factory=list)
    events_stored: int = 0
    events_waiting: int = 0  # in the outbox after the run: not yet handed to RabbitMQ
    start_s: float = 0.0


def settings_for(tmp: str, tracker_url: str, store_url: str, queue: str) -> Settings:
    base = bench_settings(tmp, port_base=free_port_base())
    return Settings.load(
        environ={
            **base.as_environ(),
            "DATABASE_URL": tracker_url,
            "STORE_URL": store_url,
            "LOCK_STORE_URL": REDIS_URL,
            "EVENT_BROKER_URL": RABBIT_URL,
            "EVENT_BROKER_QUEUE": queue,
            "LOG_LEVEL": "WARNING",
        },
        dotenv=Path(tmp) / "none",
    )


def bench(replicas: int, conversations: int, seconds: float, warmup: float) -> ScaleRun:
    result = ScaleRun(replicas)
    queue = f"bench-scale-{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
        throwaway_databases(ADMIN_URL, "bench_scale", 2) as urls,
    ):
        settings = settings_for(tmp, urls[0], urls[1], queue)
        problems = missing(settings)
        if problems:
            raise SetupError("; ".join(problems))
        stack = ProductionStack(settings, replicas=replicas)
        print(f"==> {replicas} Rasa server{'s' if replicas > 1 else ''} behind HAProxy", flush=True)
        started = time.monotonic()
        try:
            stack.start(timeout=START_TIMEOUT_S, progress=True)
            result.start_s = time.monotonic() - started
            endpoint = Endpoint(
                f"{settings.rasa_url}/webhooks/rest/webhook",
                lambda sender: session_headers(settings.session_secret, sender),
            )
            print(
                f"  → {conversations} concurrent conversations, {warmup:.0f} s warm-up + "
                f"{seconds:.0f} s",
                flush=True,
            )
            run = asyncio.run(
                run_level(endpoint, SUPPORT_SCRIPTS, "support", conversations, seconds, warmup)
            )
            summary = summarize(run)
            result.msg_per_s, result.p50_ms, result.p95_ms = (
                summary.msg_per_s,
                summary.p50_ms,
                summary.p95_ms,
            )
            result.requests, result.errors = summary.requests, summary.errors
            result.error_kinds = summary.error_kinds
            result.conversations = len(run.sent)
            print(f"    checking the order of {len(run.sent)} conversations' turns", flush=True)
            result.out_of_order = check_order(settings.rasa_url, settings.rasa_api_token, run.sent)
            tracker = sa.create_engine(settings.database_url)
            deadline = time.monotonic() + 30
            with tracker.connect() as c:
                result.events_stored = int(
                    c.execute(sa.text("SELECT count(*) FROM events")).scalar()
                )
                while True:
                    waiting = c.execute(sa.text("SELECT count(*) FROM event_outbox")).scalar()
                    if not waiting or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                result.events_waiting = int(waiting or 0)
            tracker.dispose()
        finally:
            stack.stop()
            asyncio.run(delete_queue(RABBIT_URL, queue))
    return result


def report(runs: Sequence[ScaleRun]) -> bool:
    print("\n==> Across Rasa servers (REST through HAProxy, support conversations)")
    header = (
        f"  {'servers':>7}  {'msg/s':>6}  {'p50 ms':>6}  {'p95 ms':>6}  {'errors':>12}  "
        f"{'in order':>9}  {'events stored':>13}  {'not relayed':>11}"
    )
    print(header)
    ok = True
    for r in runs:
        in_order = f"{r.conversations - len(r.out_of_order)}/{r.conversations}"
        print(
            f"  {r.replicas:>7}  {r.msg_per_s:6.1f}  {r.p50_ms:6.0f}  {r.p95_ms:6.0f}  "
            f"{r.errors:>5}/{r.requests:<6}  {in_order:>9}  {r.events_stored:>13}  "
            f"{r.events_waiting:>11}"
        )
        ok = ok and not r.errors and not r.out_of_order and not r.events_waiting
        if r.error_kinds:
            print(f"           errors: {r.error_kinds}")
        for line in r.out_of_order[:3]:
            print(f"           out of order: {line}")
    if len(runs) > 1 and runs[0].msg_per_s:
        print(
            f"\n  {runs[-1].replicas} servers vs {runs[0].replicas}: "
            f"{runs[-1].msg_per_s / runs[0].msg_per_s:.2f}× the throughput, "
            f"p95 {runs[-1].p95_ms / runs[0].p95_ms:.2f}× (same machine, same run)."
        )
    print(
        "  On a two-core machine the servers share the same cores: what this shows is no "
        "error, no turn out of order and no event left behind under load, not a 2× gain."
    )
    print("  ✓ no errors, every turn in order, every event relayed" if ok else "  ✗ see above")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench_scale", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args(argv)
    try:
        runs = [
            bench(n, options.conversations, options.seconds, options.warmup)
            for n in options.replicas
        ]
    except (SetupError, sa.exc.OperationalError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0 if report(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
