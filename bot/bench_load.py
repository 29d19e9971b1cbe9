"""`make bench-load`: this assistant side by side with a bare `rasa init` bot under load.

One run, on this machine, with this environment's Rasa:

1. the anchor: the moodbot of `rasa init` (DIET + TED), created and trained once into a
   cache outside the repository (BENCH_ANCHOR_DIR, default
   ~/.cache/brightbasket/anchor-rasa-init) and served with `rasa run` on 127.0.0.1;
2. this project's full stack (Rasa, action server, web front) on a fresh, seeded store;
3. a saturating REST load at 1, 10 and 50 concurrent conversations, each sending its
   next message when the reply arrives: the moodbot's messages to the anchor, realistic
   support conversations to the project, and the moodbot's messages to the project;
4. msg/s, p50/p95/p99 latency, errors, resident memory and start time of both, their
   ratios, the issue 14 targets as a ✓/✗ list, and a profile of one project turn (ms per
   stage, from `bot.turn_profile`) at 1 and 10 concurrent conversations. At 50
   concurrent conversations it also checks that every conversation's turns are stored
   in the order they were sent.

    python -m bot.bench_load --seconds 8 --warmup 2   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.bench import bench_settings, percentile
from bot.errors import SetupError
from bot.launcher import ServiceStack
from bot.rasa_server import api_headers, session_headers
from bot.turn_profile import (
    INSIDE_TURN,
    PROFILE_ENV,
    STAGE_TURN,
    TurnProfile,
    aggregate,
    read_events,
)
from core.settings import Settings

LEVELS = (1, 10, 50)
PROFILED_LEVELS = (1, 10)
ORDER_CHECKED_LEVEL = 50
DEFAULT_SECONDS = 30.0
DEFAULT_WARMUP = 5.0
REQUEST_TIMEOUT_S = 120.0
LOG_LINES_SCANNED = 20_000
BUSY_MACHINE_CORES = 0.25  # other programs' CPU above which a level's figures are skewed
MAX_ERROR_CHARS = 240
LOG_ERROR = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:ERROR|CRITICAL)\s+(.+)$", re.MULTILINE)
NAN = float("nan")
START_TIMEOUT_S = 300.0
PROGRESS_EVERY_S = 10.0

ANCHOR_ENV = "BENCH_ANCHOR_DIR"
DEFAULT_ANCHOR_DIR = Path("~/.cache/brightbasket/anchor-rasa-init")

# Issue 14's targets.
THROUGHPUT_RATIO_MIN = 1.5  # at 10 concurrent, project msg/s ≥ 1.5 × the anchor's
P50_RATIO_MAX = 1.2  # at 1 conversation, project p50 ≤ 1.2 × the anchor's
MEMORY_LIMIT_MB = 1500.0  # Rasa + action server + web front, RSS, MB = 10⁶ bytes
START_LIMIT_S = 30.0  # the project's stack, model already trained

WORKLOAD_ANCHOR = "anchor · moodbot msgs"
WORKLOAD_SUPPORT = "project · support msgs"
WORKLOAD_PROJECT_MOOD = "project · moodbot msgs"

# The moodbot's own conversations (rasa init's data/nlu.yml and stories).
MOODBOT_SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("hello", "I am sad", "yes", "bye"),
    ("hi", "I am great", "goodbye"),
    ("hey there", "I am unhappy", "no", "see you later"),
    ("good morning", "are you a bot?", "wonderful", "bye bye"),
    ("hello there", "my day was horrible", "yes", "have a nice day"),
)

# Realistic support conversations: sample customers and orders of data/store/seed.yml.
# A message that asks for a person or vents anger comes last: after a handoff the bot
# rightly stays silent, which this benchmark would count as an empty reply.
SUPPORT_SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("hi there", "where is my order 10402?", "tom.becker@example.com", "thanks, bye"),
    ("hello", "can you check the status of order 10234", "dana.whitfield@example.com"),
    (
        "how long do refunds take to reach my card?",
        "and do you ship to Canada?",
        "great, thank you",
    ),
    ("my parcel hasn't turned up", "it's order 10533", "grace.moreau@example.com"),
    ("good morning", "what are your customer service opening hours?", "thanks a lot", "bye"),
    ("I think I was charged twice for my last order", "dana.whitfield@example.com"),
    ("are you a real person?", "ok, how do I change the email on my account?", "thanks"),
    (
        "hey",
        "what's your returns policy for damaged items?",
        "how long do I have to send something back?",
        "thanks for the help",
    ),
    (
        "my order 10402 still hasn't arrived",
        "tom.becker@example.com",
        "this is really annoying, I needed it for the weekend",
    ),
    ("hello", "thanks", "goodbye"),
)

# --- measuring ------------------------------------------------------------------------


@dataclass
class LevelRun:
    """What the conversations of one level sent and got back."""

    workload: str
    level: int
    seconds: float  # the measured window, warm-up excluded
    latencies_ms: list[float] = field(default_factory=list)  # answered in the window
    replies: int = 0  # non-empty 200 replies in the window
    # Correctness counts every request of the level: warm-up, window, and the replies
    # still awaited after the window.
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # by kind
    sent: dict[str, list[str]] = field(default_factory=dict)  # sender: texts, in order
    window: tuple[float, float] = (0.0, 0.0)  # epoch seconds
    in_flight: int = 0
    other_cores: float = NAN  # CPU other programs on the machine used meanwhile


@dataclass(frozen=True)
class Summary:
    msg_per_s: float  # good replies per second of the window
    p50_ms: float  # nan: nothing answered within the window
    p95_ms: float
    p99_ms: float
    answered: int  # latencies behind the percentiles
    requests: int  # every request of the level
    errors: int  # among them
    error_kinds: str  # "HTTP 500 ×3, empty reply ×1"


def summarize(run: LevelRun) -> Summary:
    """Throughput counts the good replies within the window; percentiles every request
    answered within it (errors too, so failures cannot make latency look better);
    errors every request of the level."""
    lat = run.latencies_ms
    return Summary(
        msg_per_s=run.replies / run.seconds if run.seconds > 0 else 0.0,
        p50_ms=percentile(lat, 50) if lat else NAN,
        p95_ms=percentile(lat, 95) if lat else NAN,
        p99_ms=percentile(lat, 99) if lat else NAN,
        answered=len(lat),
        requests=run.requests,
        errors=sum(run.errors.values()),
        error_kinds=", ".join(f"{kind} ×{n}" for kind, n in run.errors.most_common()),
    )


@dataclass(frozen=True)
class Endpoint:
    """A bot's REST channel, and the headers each conversation sends."""

    webhook_url: str
    headers_for: Callable[[str], dict[str, str]]


def no_headers(_: str) -> dict[str, str]:
    return {}


async def run_level(
    endpoint: Endpoint,
    scripts: Sequence[Sequence[str]],
    workload: str,
    level: int,
    seconds: float,
    warmup: float,
) -> LevelRun:
    """`level` conversations at once for warm-up + `seconds`; each sends a script's
    messages one after another, then starts a new conversation with the next script."""
    run = LevelRun(workload, level, seconds)
    loop_started = time.monotonic()
    window_start = loop_started + warmup
    window_end = window_start + seconds
    limits = httpx.Limits(max_connections=level + 5, max_keepalive_connections=level + 5)

    async def conversation(slot: int, client: httpx.AsyncClient) -> None:
        script_index = slot
        tag = uuid.uuid4().hex[:8]
        number = 0
        while time.monotonic() < window_end:
            script = scripts[script_index % len(scripts)]
            script_index += level
            sender = f"load-{tag}-{slot}-{number}"
            number += 1
            headers = endpoint.headers_for(sender)
            texts = run.sent.setdefault(sender, [])
            for text in script:
                if time.monotonic() >= window_end:
                    break
                texts.append(text)
                started = time.monotonic()
                run.in_flight += 1
                answered, error = await send(client, headers, sender, text)
                run.in_flight -= 1
                ended = time.monotonic()
                run.requests += 1
                if error:
                    run.errors[error] += 1
                if not window_start <= ended <= window_end:
                    continue
                if answered:
                    run.latencies_ms.append((ended - started) * 1000)
                if not error:
                    run.replies += 1

    async def send(
        client: httpx.AsyncClient, headers: dict[str, str], sender: str, text: str
    ) -> tuple[bool, str]:
        """(answered, error kind or "")."""
        try:
            reply = await client.post(
                endpoint.webhook_url, json={"sender": sender, "message": text}, headers=headers
            )
        except httpx.HTTPError as e:
            return False, type(e).__name__
        if reply.status_code != 200:
            return True, f"HTTP {reply.status_code}"
        try:
            body = reply.json()
        except ValueError:
            return True, "not JSON"
        if not isinstance(body, list) or not body:
            return True, "empty reply"
        return True, ""

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            now = time.monotonic()
            if now < window_start:
                print(f"      warming up ({now - loop_started:.0f} s)", flush=True)
                continue
            if now > window_end:
                print(f"      waiting for {run.in_flight} replies still on their way", flush=True)
                continue
            in_window = now - window_start
            rate = run.replies / in_window if in_window > 0 else 0.0
            print(
                f"      {in_window:4.0f}/{seconds:.0f} s  {run.replies} replies  "
                f"{rate:.1f} msg/s  {sum(run.errors.values())} errors",
                flush=True,
            )

    to_epoch = time.time() - time.monotonic()
    run.window = (window_start + to_epoch, window_end + to_epoch)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        reporter = asyncio.create_task(report())
        try:
            await asyncio.gather(*(conversation(slot, client) for slot in range(level)))
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    return run


def measure_levels(
    endpoint: Endpoint,
    scripts: Sequence[Sequence[str]],
    workload: str,
    seconds: float,
    warmup: float,
    pids: Mapping[str, int],
    on_level_done: Callable[[LevelRun], None],
) -> dict[int, LevelRun]:
    """Each level in turn against the bot whose processes are `pids`."""
    runs: dict[int, LevelRun] = {}
    for level in LEVELS:
        print(
            f"  → {workload}: {level} concurrent conversation{'s' if level > 1 else ''}, "
            f"{warmup:.0f} s warm-up + {seconds:.0f} s",
            flush=True,
        )
        busy_before, ours_before = machine_busy_s(), tree_cpu_s(pids) + time.process_time()
        started = time.monotonic()
        run = asyncio.run(run_level(endpoint, scripts, workload, level, seconds, warmup))
        run.other_cores = other_cores(
            machine_busy_s() - busy_before,
            tree_cpu_s(pids) + time.process_time() - ours_before,
            time.monotonic() - started,
        )
        s = summarize(run)
        print(
            f"    {s.msg_per_s:.1f} msg/s  p50 {_ms(s.p50_ms)} ms  p95 {_ms(s.p95_ms)} ms  "
            f"errors {s.errors}/{s.requests}  (other programs: {run.other_cores:.1f} "
            "cores)",
            flush=True,
        )
        if not s.answered:
            print(
                f"    no reply arrived within the {seconds:.0f} s window: latency here is "
                "longer than the window; lengthen --seconds and --warmup",
                flush=True,
            )
        on_level_done(run)
        runs[level] = run
    return runs


# --- turns in order -------------------------------------------------------------------


def user_texts(tracker: Mapping[str, object]) -> list[str]:
    """The user texts of a tracker (Rasa's JSON), in order. A turn that merged messages
    (bot.channels.coalescer joins them with newlines) counts as each of its texts."""
    events = tracker.get("events")
    texts: list[str] = []
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("event") == "user":
            text = event.get("text")
            if isinstance(text, str):
                texts.extend(part.strip() for part in text.split("\n"))
    return texts


def order_problems(sent: Mapping[str, Sequence[str]], stored: Mapping[str, list[str]]) -> list[str]:
    """One line for each conversation whose stored user texts are not what was sent,
    in the same order. A text is stored as sent, or with its personal data replaced
    (`privacy.redact`: this assistant's store; the anchor keeps what it is sent)."""
    from privacy import redact_text

    problems = []
    for sender, texts in sent.items():
        expected = [t.strip() for t in texts]
        got = stored.get(sender)
        if got is None:
            problems.append(f"{sender}: no tracker")
        elif len(got) != len(expected) or any(
            g != e and g != redact_text(e) for g, e in zip(got, expected, strict=True)
        ):
            problems.append(f"{sender}: sent {expected}, stored {got}")
    return problems


def check_order(rasa_url: str, api_secret: str, sent: Mapping[str, Sequence[str]]) -> list[str]:
    """Fetch each conversation's tracker through Rasa's HTTP API and compare."""
    stored: dict[str, list[str]] = {}
    with httpx.Client(timeout=60) as client:
        for sender in sent:
            reply = client.get(
                f"{rasa_url}/conversations/{sender}/tracker", headers=api_headers(api_secret)
            )
            if reply.status_code == 200:
                stored[sender] = user_texts(reply.json())
    return order_problems(sent, stored)


# --- processes: memory, free ports, the anchor -----------------------------------------


def descendants(root: int, parents: Mapping[int, int]) -> list[int]:
    """`root` and every process under it, given each process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces.
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def tree_cpu_s(pids: Mapping[str, int]) -> float:
    """CPU seconds (user + system) the process trees of `pids` have used so far."""
    ticks = 0
    parents = _parents()
    for pid in pids.values():
        for member in descendants(pid, parents):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds all CPUs of the machine have been busy (/proc/stat, not idle or
    waiting for I/O)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return NAN
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def other_cores(machine_busy: float, ours: float, wall: float) -> float:
    """Cores other programs kept busy: the machine's busy CPU time less this
    benchmark's and its bots', per second of wall time."""
    if wall <= 0 or not math.isfinite(machine_busy):
        return NAN
    return max(0.0, (machine_busy - ours) / wall)


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, MB (10⁶ bytes), from /proc."""
    total_kib = 0
    for member in descendants(pid, _parents()):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
    return total_kib * 1024 / 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_base() -> int:
    """A Rasa port whose action (+50) and web (+3075) ports are free too."""
    for base in range(5205, 5900, 7):
        if all(port_is_free(base + offset) for offset in (0, 50, 3075)):
            return base
    raise SetupError("No free ports for the project's stack between 5205 and 8975.")


def rasa_executable() -> Path:
    rasa = Path(sys.executable).parent / "rasa"
    if not rasa.is_file():
        raise SetupError(f"No `rasa` next to {sys.executable}. Run `make setup` first.")
    return rasa


def quiet_environ() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_MAX_CACHE_SIZE": "0",
            "LOG_LEVEL_LIBRARIES": "ERROR",
            "PYTHONUNBUFFERED": "1",
            # As the project's stack runs (bot/launcher.py): the anchor gets the same
            # deployment setting.
            "OPENBLAS_NUM_THREADS": "1",
        }
    )
    env.pop(PROFILE_ENV, None)
    return env


def anchor_dir(option: str | None) -> Path:
    return Path(option or os.environ.get(ANCHOR_ENV) or DEFAULT_ANCHOR_DIR).expanduser()


def model_rasa_version(model: Path) -> str:
    """The Rasa version a model was trained with (its metadata.json), '' if unreadable."""
    import json

    try:
        with tarfile.open(model) as archive:
            for member in archive.getmembers():
                # The model's own metadata sits at the root ("/metadata.json").
                if member.name.lstrip("./") == "metadata.json":
                    raw = archive.extractfile(member)
                    if raw is not None:
                        return str(json.load(raw).get("rasa_open_source_version", ""))
    except (OSError, tarfile.TarError, ValueError):
        return ""
    return ""


def run_with_heartbeat(command: list[str], cwd: Path, log_path: Path, what: str) -> None:
    """Run `command` with its output in `log_path`, printing a line every 15 s."""
    started = time.monotonic()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=quiet_environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        while process.poll() is None:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"    … {what}: {time.monotonic() - started:.0f} s", flush=True)
    if process.returncode != 0:
        raise SetupError(
            f"{' '.join(command)} failed (exit {process.returncode}) in {cwd}. Last lines "
            f"of {log_path}:\n{tail(log_path)}\nDelete {cwd} to start the anchor afresh."
        )
    print(f"    {what}: done in {time.monotonic() - started:.0f} s", flush=True)


def logged_errors(log: str, limit: int = 5) -> list[str]:
    """The most frequent ERROR/CRITICAL messages of a Rasa-style log ("2026-01-01
    12:00:00 ERROR    logger  - message"), each once with its count."""
    counts = Counter(match.group(1)[:MAX_ERROR_CHARS] for match in LOG_ERROR.finditer(log))
    return [f"×{n} {message}" for message, n in counts.most_common(limit)]


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def prepare_anchor(directory: Path) -> Path:
    """The anchor's trained model: the cached one, else `rasa init` (which trains)."""
    from importlib.metadata import version

    rasa_version = version("rasa")
    rasa_cli = rasa_executable()
    models = sorted((directory / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if models:
        trained_with = model_rasa_version(models[-1])
        if trained_with == rasa_version:
            print(f"  anchor: cached model {models[-1]}", flush=True)
            return models[-1]
        print(
            f"  anchor: cached model {models[-1].name} was trained with Rasa "
            f"{trained_with or '?'}, not {rasa_version}: retraining",
            flush=True,
        )
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "bench-load.log"
    if not (directory / "config.yml").is_file():
        print(
            f"  anchor: `rasa init --no-prompt` into {directory} (creates the moodbot and "
            f"trains DIET + TED: a few minutes; log {log})",
            flush=True,
        )
        command = [str(rasa_cli), "init", "--no-prompt", "--init-dir", str(directory)]
        run_with_heartbeat(command, directory, log, "rasa init + training")
    else:
        print(f"  anchor: `rasa train` in {directory} (a few minutes; log {log})", flush=True)
        run_with_heartbeat([str(rasa_cli), "train"], directory, log, "training")
    models = sorted((directory / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SetupError(f"Training left no model in {directory / 'models'}; see {log}.")
    return models[-1]


@dataclass
class AnchorBot:
    """`rasa run` of the moodbot on 127.0.0.1, REST channel from its credentials.yml."""

    directory: Path
    model: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start it and wait until its REST channel answers; the seconds that took."""
        log_path = self.directory / "rasa-run.log"
        command = [
            str(rasa_executable()),
            "run",
            "--model",
            str(self.model),
            "--credentials",
            str(self.directory / "credentials.yml"),
            "--endpoints",
            str(self.directory / "endpoints.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        started = time.monotonic()
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=quiet_environ(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise SetupError(
                    f"The anchor's `rasa run` exited during start-up. Last lines of "
                    f"{log_path}:\n{tail(log_path)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/webhooks/rest/", timeout=2).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.25)
        self.stop()
        raise SetupError(
            f"The anchor did not answer within {START_TIMEOUT_S:.0f} s; see {log_path}."
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None


class ProfiledStack(ServiceStack):
    """The project's stack with TURN_PROFILE set for its processes (only the Rasa server
    reads it: bot.rasa_server installs bot.turn_profile)."""

    def __init__(self, settings: Settings, profile_path: Path) -> None:
        self.profile_path = profile_path
        super().__init__(settings)

    def environ(self) -> dict[str, str]:
        env = super().environ()
        env[PROFILE_ENV] = str(self.profile_path)
        return env


# --- results --------------------------------------------------------------------------


@dataclass
class BotResult:
    """One bot's measurements."""

    start_s: float = 0.0
    memory_mb: dict[str, float] = field(default_factory=dict)  # process: peak RSS seen
    runs: dict[str, dict[int, LevelRun]] = field(default_factory=dict)  # workload: level
    order_problems: dict[str, list[str]] = field(default_factory=dict)  # workload: lines
    profiles: dict[int, TurnProfile] = field(default_factory=dict)  # level: profile
    logged_errors: list[str] = field(default_factory=list)  # "service: ×n message"

    def record_memory(self, pids: Mapping[str, int]) -> None:
        for name, pid in pids.items():
            self.memory_mb[name] = max(self.memory_mb.get(name, 0.0), rss_mb(pid))

    @property
    def total_memory_mb(self) -> float:
        return sum(self.memory_mb.values())


@dataclass(frozen=True)
class Target:
    label: str
    met: bool
    detail: str


def check_targets(
    anchor: Mapping[int, Summary],
    project: Mapping[int, Summary],
    project_50: Sequence[Summary],
    order_problem_count: int,
    conversations_checked: int,
    memory_mb: float,
    start_s: float,
) -> list[Target]:
    """Issue 14's targets. `anchor` and `project` are each bot's own messages by level;
    `project_50` every project workload at 50 concurrent conversations."""
    a10, p10, a1, p1 = anchor[10], project[10], anchor[1], project[1]
    ratio = p10.msg_per_s / a10.msg_per_s if a10.msg_per_s else 0.0
    errors_50 = sum(s.errors for s in project_50)
    return [
        Target(
            f"10 concurrent: throughput ≥ {THROUGHPUT_RATIO_MIN}× the anchor's",
            ratio >= THROUGHPUT_RATIO_MIN,
            f"{p10.msg_per_s:.1f} vs {a10.msg_per_s:.1f} msg/s = {ratio:.2f}×",
        ),
        Target(
            "10 concurrent: p95 ≤ the anchor's",
            p10.p95_ms <= a10.p95_ms,
            f"{_ms(p10.p95_ms)} vs {_ms(a10.p95_ms)} ms",
        ),
        Target(
            f"1 conversation: p50 ≤ {P50_RATIO_MAX}× the anchor's",
            p1.p50_ms <= P50_RATIO_MAX * a1.p50_ms,
            f"{_ms(p1.p50_ms)} vs {_ms(a1.p50_ms)} ms = {_ratio(p1.p50_ms, a1.p50_ms)}",
        ),
        Target(
            "50 concurrent: no errors",
            errors_50 == 0 and bool(project_50),
            f"{errors_50} errors in {sum(s.requests for s in project_50)} requests",
        ),
        Target(
            "50 concurrent: every conversation's turns stored in order",
            order_problem_count == 0 and conversations_checked > 0,
            f"{conversations_checked - order_problem_count}/{conversations_checked} "
            "conversations in order",
        ),
        Target(
            f"memory ≤ {MEMORY_LIMIT_MB:,.0f} MB (Rasa + actions + web)",
            memory_mb <= MEMORY_LIMIT_MB,
            f"{memory_mb:,.0f} MB",
        ),
        Target(
            f"start ≤ {START_LIMIT_S:.0f} s (model trained)",
            start_s <= START_LIMIT_S,
            f"{start_s:.1f} s",
        ),
    ]


def _ms(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "–"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base and math.isfinite(value / base) else "–"


def load_table(anchor: BotResult, project: BotResult) -> Iterator[str]:
    """msg/s, latency percentiles and errors per workload and level, with the ratios
    to the anchor on its own messages at the same level."""
    yield (
        f"  {'workload':24} {'conc':>4} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>11} {'other':>6}   vs anchor: msg/s   p50    p95    p99"
    )
    anchor_runs = anchor.runs[WORKLOAD_ANCHOR]
    for bot, workload in (
        (anchor, WORKLOAD_ANCHOR),
        (project, WORKLOAD_SUPPORT),
        (project, WORKLOAD_PROJECT_MOOD),
    ):
        for level, run in bot.runs.get(workload, {}).items():
            s, a = summarize(run), summarize(anchor_runs[level])
            ratios = (
                ""
                if bot is anchor
                else f"{_ratio(s.msg_per_s, a.msg_per_s):>17} {_ratio(s.p50_ms, a.p50_ms):>6} "
                f"{_ratio(s.p95_ms, a.p95_ms):>6} {_ratio(s.p99_ms, a.p99_ms):>6}"
            )
            yield (
                f"  {workload:24} {level:4} {s.msg_per_s:7.1f} {_ms(s.p50_ms):>8} "
                f"{_ms(s.p95_ms):>8} {_ms(s.p99_ms):>8} {f'{s.errors}/{s.requests}':>11} "
                f"{run.other_cores:6.1f}  {ratios}"
            )
            if s.error_kinds:
                yield f"  {'':29} errors: {s.error_kinds}"


def profile_table(
    profiles: Mapping[int, TurnProfile], client_ms: Mapping[int, float]
) -> Iterator[str]:
    """For each stage at each profiled level: calls per turn, ms per call (mean, p50)
    and ms per turn; then what the stages leave out of a turn and of the client's wait."""
    levels = sorted(profiles)
    width = 58
    yield f"  {'':{width}}" + "".join(f" │ {f'{n} concurrent':^35}" for n in levels)
    yield f"  {'stage':{width}}" + " │ calls/turn  ms/call    p50  ms/turn" * len(levels)
    rows: dict[tuple[str, str], dict[int, tuple[float, float, float, float]]] = {}
    for level in levels:
        for t in profiles[level].stages:
            cells = (t.calls_per_turn, t.mean_ms, t.p50_ms, t.ms_per_turn)
            rows.setdefault((t.stage, t.name), {})[level] = cells
    order = {key: i for i, key in enumerate(profiles[levels[0]].order)} if levels else {}
    for (stage, name), by_level in sorted(rows.items(), key=lambda r: order.get(r[0], len(order))):
        label = f"{stage} {name.removeprefix('run_')}"
        line = f"  {label[:width]:{width}}"
        for level in levels:
            if level in by_level:
                calls, mean, p50, per_turn = by_level[level]
                line += f" │ {calls:10.2f} {mean:8.1f} {p50:6.1f} {per_turn:8.1f}"
            else:
                line += f" │ {'–':>10} {'–':>8} {'–':>6} {'–':>8}"
        yield line
    derived = {
        "turn minus the stages inside it (Rasa glue, waiting)": {
            n: profiles[n].stage_ms_per_turn(STAGE_TURN)
            - sum(profiles[n].stage_ms_per_turn(stage) for stage in INSIDE_TURN)
            for n in levels
        },
        "client latency minus turn (HTTP, channel, queueing)": {
            n: client_ms.get(n, NAN) - profiles[n].stage_ms_per_turn(STAGE_TURN) for n in levels
        },
        "client latency, mean": {n: client_ms.get(n, NAN) for n in levels},
    }
    for label, values in derived.items():
        yield f"  {label:{width}}" + "".join(f" │ {'':27}{values[n]:8.1f}" for n in levels)
    yield "  turns profiled: " + ", ".join(f"{profiles[n].turns} at {n} concurrent" for n in levels)


# --- the run --------------------------------------------------------------------------


def bench_anchor(directory: Path, seconds: float, warmup: float) -> BotResult:
    result = BotResult()
    print("==> Anchor: a bare `rasa init` bot (moodbot, DIET + TED)", flush=True)
    model = prepare_anchor(directory)
    bot = AnchorBot(directory, model, free_port())
    print(f"  starting `rasa run` on {bot.url} …", flush=True)
    try:
        result.start_s = bot.start()
        print(f"  anchor ready in {result.start_s:.1f} s", flush=True)
        assert bot.process is not None
        pids = {"rasa": bot.process.pid}
        result.record_memory(pids)
        endpoint = Endpoint(f"{bot.url}/webhooks/rest/webhook", no_headers)
        result.runs[WORKLOAD_ANCHOR] = measure_levels(
            endpoint,
            MOODBOT_SCRIPTS,
            WORKLOAD_ANCHOR,
            seconds,
            warmup,
            pids,
            lambda _: result.record_memory(pids),
        )
    finally:
        bot.stop()
    return result


def bench_project(seconds: float, warmup: float) -> BotResult:
    result = BotResult()
    print("==> Project: the full stack (Rasa, action server, web front)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        settings = bench_settings(tmp, port_base=free_port_base())
        profile_path = Path(tmp) / "turn-profile.jsonl"
        stack = ProfiledStack(settings, profile_path)
        print(f"  starting on {settings.rasa_url} (fresh store in {tmp}) …", flush=True)
        started = time.monotonic()
        stack.start(timeout=START_TIMEOUT_S, progress=True)
        result.start_s = time.monotonic() - started
        print(f"  stack ready in {result.start_s:.1f} s", flush=True)
        try:
            pids = {s.name: s.process.pid for s in stack.services if s.process is not None}
            result.record_memory(pids)
            endpoint = Endpoint(
                f"{settings.rasa_url}/webhooks/rest/webhook",
                lambda sender: session_headers(settings.session_secret, sender),
            )
            for workload, scripts in (
                (WORKLOAD_SUPPORT, SUPPORT_SCRIPTS),
                (WORKLOAD_PROJECT_MOOD, MOODBOT_SCRIPTS),
            ):

                def level_done(run: LevelRun) -> None:
                    result.record_memory(pids)
                    if run.level == ORDER_CHECKED_LEVEL:
                        print(
                            f"    checking the order of {len(run.sent)} conversations' turns",
                            flush=True,
                        )
                        problems = check_order(settings.rasa_url, settings.rasa_api_token, run.sent)
                        result.order_problems[run.workload] = problems
                        print(
                            f"    {len(run.sent) - len(problems)}/{len(run.sent)} in order",
                            flush=True,
                        )

                result.runs[workload] = measure_levels(
                    endpoint, scripts, workload, seconds, warmup, pids, level_done
                )
            events = read_events(profile_path)
            for level in PROFILED_LEVELS:
                start, end = result.runs[WORKLOAD_SUPPORT][level].window
                result.profiles[level] = aggregate(events, start, end)
        finally:
            stack.stop()
        for service in stack.services:
            for line in logged_errors(tail(service.log_path, LOG_LINES_SCANNED)):
                result.logged_errors.append(f"{service.name}: {line}")
    return result


def machine_load() -> str:
    """The machine's CPUs and load: other work on a shared machine skews every figure."""
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} CPUs, load average {one:.2f} (1 min), {five:.2f} (5 min)"


def report(anchor: BotResult, project: BotResult) -> None:
    print(f"\n{machine_load()}")
    print("\n==> Throughput and latency (REST, each conversation waits for its reply)")
    for line in load_table(anchor, project):
        print(line)
    busiest = max(
        (
            run.other_cores
            for bot in (anchor, project)
            for runs in bot.runs.values()
            for run in runs.values()
            if math.isfinite(run.other_cores)
        ),
        default=0.0,
    )
    if busiest > BUSY_MACHINE_CORES:
        print(
            f"  ! other programs kept up to {busiest:.1f} of {os.cpu_count()} cores busy "
            "during a level (column `other`): those figures are skewed; rerun on an idle "
            "machine"
        )
    for line in project.logged_errors:
        print(f"  logged by the project's {line}")
    print("\n==> Memory (RSS of each process tree, peak seen after each level) and start")
    for bot_name, bot in (("anchor", anchor), ("project", project)):
        for name, mb in bot.memory_mb.items():
            print(f"  {f'{bot_name} {name}':24} {mb:8,.0f} MB")
    print(
        f"  {'total':24} anchor {anchor.total_memory_mb:,.0f} MB, project "
        f"{project.total_memory_mb:,.0f} MB = "
        f"{_ratio(project.total_memory_mb, anchor.total_memory_mb)}"
    )
    print(
        f"  {'start (model trained)':24} anchor {anchor.start_s:.1f} s, project "
        f"{project.start_s:.1f} s = {_ratio(project.start_s, anchor.start_s)}"
    )
    client_ms = {
        n: statistics.fmean(run.latencies_ms)
        for n, run in project.runs[WORKLOAD_SUPPORT].items()
        if run.latencies_ms
    }
    print(
        "\n==> One project turn, support messages: ms per stage (wall clock; with 10 "
        "conversations the awaited stages — turn, action, tracker — include other turns' work)"
    )
    for line in profile_table(project.profiles, client_ms):
        print(line)
    for workload, lines in project.order_problems.items():
        for line in lines[:5]:
            print(f"  out of order ({workload}): {line}")
    own_anchor = {n: summarize(r) for n, r in anchor.runs[WORKLOAD_ANCHOR].items()}
    own_project = {n: summarize(r) for n, r in project.runs[WORKLOAD_SUPPORT].items()}
    project_50 = [summarize(runs[ORDER_CHECKED_LEVEL]) for runs in project.runs.values()]
    checked = sum(len(runs[ORDER_CHECKED_LEVEL].sent) for runs in project.runs.values())
    problems = sum(len(p) for p in project.order_problems.values())
    targets = check_targets(
        own_anchor,
        own_project,
        project_50,
        problems,
        checked,
        project.total_memory_mb,
        project.start_s,
    )
    print("\n==> Issue 14 targets (project on its support messages vs anchor on its own)")
    for target in targets:
        print(f"  {'✓' if target.met else '✗'} {target.label}: {target.detail}")
    met = sum(t.met for t in targets)
    print(f"  {met}/{len(targets)} targets met")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.bench_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"measured seconds per level and workload (default {DEFAULT_SECONDS:.0f})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=DEFAULT_WARMUP,
        help=f"unmeasured seconds before each level (default {DEFAULT_WARMUP:.0f})",
    )
    parser.add_argument(
        "--anchor-dir",
        help=f"where the trained `rasa init` bot is cached (default ${ANCHOR_ENV}, else "
        f"{DEFAULT_ANCHOR_DIR})",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be positive and --warmup not negative")
    runs = 3 * len(LEVELS)
    print(machine_load(), flush=True)
    print(
        f"bench-load: {runs} runs of {args.warmup:.0f} + {args.seconds:.0f} s, plus start-ups "
        f"(about {runs * (args.seconds + args.warmup) / 60 + 1.5:.0f} min; more the first "
        "time, while the anchor trains)",
        flush=True,
    )
    try:
        anchor = bench_anchor(anchor_dir(args.anchor_dir), args.seconds, args.warmup)
        project = bench_project(args.seconds, args.warmup)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    report(anchor, project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
