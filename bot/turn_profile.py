"""Where a turn's time goes: per-stage timings of the Rasa server, as JSON lines.

With the environment variable TURN_PROFILE naming a file, `bot.rasa_server` calls
`install_from_environ()` before Rasa starts; it wraps, in that process only,

- `SupportRestInput.parse` (stage `channel`: session token, input guard, rate limit),
- `Agent.handle_message` (stage `turn`: a whole message, lock wait included),
- `GraphNode.__call__` (stage `graph`, or `policy` for a `Policy`: each NLU component and
  each policy, by node name),
- `RemoteAction.run` (stage `action`: one action-server round trip, by action name),
- the tracker store's `retrieve`/`retrieve_full_tracker` and `save` (stages
  `tracker_load`, `tracker_save`) of `UrlTrackerStore` (its `retrieve_full_tracker` is
  `SQLTrackerStore`'s) and `InMemoryTrackerStore`,

and appends one line per call, `{"t": <end, epoch s>, "stage": ..., "name": ..., "ms":
...}`. Without TURN_PROFILE nothing is wrapped and nothing is written. `make bench-load`
sets it and reads the lines back with `read_events` and `aggregate`:

    >>> profile = aggregate(read_events(path), start=t0, end=t1)  # doctest: +SKIP
    >>> [(s.stage, s.name, s.ms_per_turn) for s in profile.stages]  # doctest: +SKIP

Times are wall-clock. The graph nodes and the channel check run synchronously on the
event loop, so theirs are pure work; `turn`, `action` and the tracker stages are awaited,
so with several conversations at once they include time spent on other turns.

Importing this module is cheap: Rasa loads only when `install` runs.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypedDict

PROFILE_ENV = "TURN_PROFILE"

STAGE_CHANNEL = "channel"
STAGE_TURN = "turn"
STAGE_TRACKER_LOAD = "tracker_load"
STAGE_GRAPH = "graph"
STAGE_POLICY = "policy"
STAGE_ACTION = "action"
STAGE_TRACKER_SAVE = "tracker_save"
# The order of a turn, and of the profile's rows.
STAGES = (
    STAGE_CHANNEL,
    STAGE_TURN,
    STAGE_TRACKER_LOAD,
    STAGE_GRAPH,
    STAGE_POLICY,
    STAGE_ACTION,
    STAGE_TRACKER_SAVE,
)
# Stages that run inside `Agent.handle_message`.
INSIDE_TURN = frozenset(STAGES) - {STAGE_CHANNEL, STAGE_TURN}


class ProfileEvent(TypedDict):
    """One line of the profile file."""

    t: float  # when the call ended, seconds since the epoch
    stage: str  # one of STAGES
    name: str  # the node, action or method
    ms: float  # wall-clock duration of the call


@dataclass(frozen=True)
class StageTiming:
    """One stage (one node, action or method) over a window of turns."""

    stage: str
    name: str
    calls: int
    calls_per_turn: float
    mean_ms: float  # per call
    p50_ms: float  # per call
    ms_per_turn: float  # all its calls' time divided by the turns


@dataclass(frozen=True)
class TurnProfile:
    turns: int  # `Agent.handle_message` calls that ended in the window
    stages: list[StageTiming]  # in `order`
    # Every (stage, name) of the whole file: in STAGES order, then in the order they
    # first ran (a turn's own order, as the first turns ran every node).
    order: list[tuple[str, str]]

    def stage_ms_per_turn(self, stage: str) -> float:
        return sum(s.ms_per_turn for s in self.stages if s.stage == stage)


class _Sink:
    """Appends events to the profile file, one flushed line each."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, stage: str, name: str, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        event: ProfileEvent = {"t": time.time(), "stage": stage, "name": name, "ms": ms}
        line = json.dumps(event) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()


_sink: _Sink | None = None


def install_from_environ() -> bool:
    """Install the wrappers when TURN_PROFILE names a file; True when it did."""
    target = os.environ.get(PROFILE_ENV, "").strip()
    if not target:
        return False
    install(Path(target))
    return True


def install(path: Path) -> None:
    """Wrap Rasa's turn stages so each call appends an event to `path` (once per process)."""
    global _sink
    if _sink is not None:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.policies.policy import Policy
    from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
    from rasa.engine.graph import GraphNode

    from bot.channels.rest import SupportRestInput
    from bot.tracker_store import UrlTrackerStore

    sink = _sink = _Sink(path)

    def node_stage(node: Any) -> str:
        component = getattr(node, "_component_class", None)
        is_policy = isinstance(component, type) and issubclass(component, Policy)
        return STAGE_POLICY if is_policy else STAGE_GRAPH

    _wrap_sync(GraphNode, "__call__", sink, node_stage, lambda node: str(node._node_name))
    _wrap_sync(SupportRestInput, "parse", sink, lambda _: STAGE_CHANNEL, lambda _: "parse")
    _wrap_async(Agent, "handle_message", sink, STAGE_TURN, lambda _: "handle_message")
    _wrap_async(RemoteAction, "run", sink, STAGE_ACTION, lambda action: str(action.name()))
    for store, method in tracker_methods(UrlTrackerStore, SQLTrackerStore, InMemoryTrackerStore):
        stage = STAGE_TRACKER_SAVE if method == "save" else STAGE_TRACKER_LOAD
        _wrap_async(store, method, sink, stage, _method_name(store, method))


def tracker_methods(url: type, sql: type, memory: type) -> list[tuple[type, str]]:
    """The tracker-store methods timed: each where it is defined, so that a call is
    timed once (UrlTrackerStore's `retrieve` and `save` call SQLTrackerStore's only
    when its kept tracker cannot be used)."""
    return [
        (url, "retrieve"),
        (url, "save"),
        (sql, "retrieve_full_tracker"),
        (memory, "retrieve"),
        (memory, "retrieve_full_tracker"),
        (memory, "save"),
    ]


def _method_name(cls: type, method: str) -> Callable[[Any], str]:
    label = f"{cls.__name__}.{method}"
    return lambda _: label


def _wrap_sync(
    cls: type,
    method: str,
    sink: _Sink,
    stage: Callable[[Any], str],
    name: Callable[[Any], str],
) -> None:
    original: Callable[..., Any] = getattr(cls, method)

    @functools.wraps(original)
    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            sink.write(stage(self), name(self), started)

    setattr(cls, method, timed)


def _wrap_async(
    cls: type, method: str, sink: _Sink, stage: str, name: Callable[[Any], str]
) -> None:
    original: Callable[..., Awaitable[Any]] = getattr(cls, method)

    @functools.wraps(original)
    async def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            sink.write(stage, name(self), started)

    setattr(cls, method, timed)


def read_events(path: Path) -> list[ProfileEvent]:
    """The events in a profile file; a line cut short (a process stopped mid-write) or
    not an event is skipped."""
    events: list[ProfileEvent] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return events
    for line in lines:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (
            isinstance(raw, dict)
            and isinstance(raw.get("t"), int | float)
            and isinstance(raw.get("ms"), int | float)
            and isinstance(raw.get("stage"), str)
            and isinstance(raw.get("name"), str)
        ):
            events.append(
                {
                    "t": float(raw["t"]),
                    "stage": raw["stage"],
                    "name": raw["name"],
                    "ms": float(raw["ms"]),
                }
            )
    return events


def aggregate(events: Iterable[ProfileEvent], start: float, end: float) -> TurnProfile:
    """Per-stage timings of the calls that ended between `start` and `end` (epoch s)."""
    durations: dict[tuple[str, str], list[float]] = {}
    seen: dict[tuple[str, str], None] = {}
    for event in events:
        key = (event["stage"], event["name"])
        seen.setdefault(key, None)
        if start <= event["t"] <= end:
            durations.setdefault(key, []).append(event["ms"])
    turns = len(durations.get((STAGE_TURN, "handle_message"), []))
    rank = {stage: i for i, stage in enumerate(STAGES)}
    order = sorted(seen, key=lambda k: rank.get(k[0], len(STAGES)))  # stable: first seen
    keys = [key for key in order if key in durations]
    per_turn = max(turns, 1)
    stages = [
        StageTiming(
            stage=stage,
            name=name,
            calls=len(values),
            calls_per_turn=len(values) / per_turn,
            mean_ms=statistics.fmean(values),
            p50_ms=statistics.median(values),
            ms_per_turn=sum(values) / per_turn,
        )
        for stage, name in keys
        for values in [durations[(stage, name)]]
    ]
    return TurnProfile(turns=turns, stages=stages, order=order)
