"""`make bench`: start a fresh stack and measure REST turn latency over 100 messages.

Prints start-up time, then p50/p95/mean turn latency, each also as a ratio to a plain
HTTP round trip to the same Rasa server measured in the same run (the machines are
shared and noisy, so ratios compare better across runs than milliseconds).

As a guard against regressions (under a minute):

    python -m bot.bench --fail-above 60   # exit 1 when the p50 turn costs more than
                                          # 60 plain round trips
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.launcher import ServiceStack
from bot.rasa_server import session_headers
from bot.store import SupportStore, load_seed
from core.settings import Settings

MESSAGES = [
    "hi",
    "where is my order?",
    "are you a bot?",
    "thanks",
    "my parcel is late",
    "I want to cancel my pantry box",
    "what are your opening hours",
    "I was charged twice",
    "bye",
    "😡😡",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_settings(tmp: str, port_base: int) -> Settings:
    """Settings of a throw-away stack in `tmp` with a freshly seeded sample store, on
    ports port_base (Rasa), port_base + 50 (actions) and port_base + 3075 (web)."""
    settings = Settings.load(
        environ={
            "DATA_DIR": tmp,
            "RASA_PORT": str(port_base),
            "ACTION_PORT": str(port_base + 50),
            "WEB_PORT": str(port_base + 3075),
            "MODEL_DIR": str(Settings.load().model_dir),
            "CHAT_MESSAGES_PER_MINUTE": "1000000",  # one client plays every customer
            "CHAT_SESSIONS_PER_HOUR": "1000000",
        },
        dotenv=Path(tmp) / "none",
    )
    SupportStore(settings.store_url).seed(load_seed())
    return settings


def measure(settings: Settings, n: int) -> dict[str, float]:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    latencies: list[float] = []
    plain: list[float] = []
    with httpx.Client(timeout=60) as client:
        for i in range(5):  # warm-up
            client.post(
                url,
                json={"sender": f"warm-{i}", "message": "hello"},
                headers=session_headers(settings.session_secret, f"warm-{i}"),
            )
        sender = ""
        for i in range(n):
            if i % 4 == 0:  # a new conversation every 4 messages
                sender = f"bench-{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            reply = client.post(
                url,
                json={"sender": sender, "message": MESSAGES[i % len(MESSAGES)]},
                headers=session_headers(settings.session_secret, sender),
            )
            latencies.append((time.perf_counter() - started) * 1000)
            reply.raise_for_status()
            started = time.perf_counter()
            client.get(f"{settings.rasa_url}/webhooks/rest/")
            plain.append((time.perf_counter() - started) * 1000)
    base = statistics.median(plain)
    return {
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "mean": statistics.fmean(latencies),
        "http_p50": base,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench", description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="messages to send (default 100)")
    parser.add_argument(
        "--fail-above",
        type=float,
        metavar="RATIO",
        help="exit 1 when the p50 turn costs more than RATIO plain HTTP round trips",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(tmp, port_base=5105)
        stack = ServiceStack(settings)
        started = time.perf_counter()
        stack.start()
        startup = time.perf_counter() - started
        try:
            result = measure(settings, args.n)
        finally:
            stack.stop()
    print(f"stack start-up (Rasa + actions + web, until all answer): {startup:.1f} s")
    print(f"REST turn latency over {args.n} messages, {len(MESSAGES)} kinds:")
    for key in ("p50", "p95", "mean"):
        print(
            f"  {key:5} {result[key]:7.1f} ms   = {result[key] / result['http_p50']:6.1f} × "
            f"plain HTTP round trip ({result['http_p50']:.2f} ms)"
        )
    ratio = result["p50"] / result["http_p50"]
    if args.fail_above is not None and ratio > args.fail_above:
        print(f"FAIL: the p50 turn costs {ratio:.1f} round trips, above {args.fail_above:g}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
