"""The pure parts of `make bench-load` and of the turn profile: no servers."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from bot import turn_profile
from bot.bench_load import (
    LevelRun,
    Summary,
    check_targets,
    descendants,
    logged_errors,
    model_rasa_version,
    order_problems,
    other_cores,
    profile_table,
    summarize,
    user_texts,
)
from bot.turn_profile import ProfileEvent, aggregate, read_events


def summary(
    msg_per_s: float = 10.0, p50: float = 100.0, p95: float = 200.0, errors: int = 0
) -> Summary:
    return Summary(
        msg_per_s, p50, p95, p95 * 1.2, answered=90, requests=100, errors=errors, error_kinds=""
    )


# --- summary ----------------------------------------------------------------------------


def test_summary_counts_good_replies_per_second_and_every_answered_latency() -> None:
    run = LevelRun("w", 10, seconds=4.0, latencies_ms=[float(n) for n in range(1, 101)])
    run.replies = 98
    run.requests = 130  # warm-up and the replies awaited after the window too
    run.errors = Counter({"HTTP 500": 1, "empty reply": 1})
    s = summarize(run)
    assert s.msg_per_s == pytest.approx(24.5)
    assert (s.p50_ms, s.p95_ms, s.p99_ms) == (51.0, 95.0, 99.0)
    assert (s.answered, s.requests, s.errors) == (100, 130, 2)
    assert s.error_kinds in ("HTTP 500 ×1, empty reply ×1", "empty reply ×1, HTTP 500 ×1")


def test_summary_of_a_run_with_no_replies_has_no_latency() -> None:
    s = summarize(LevelRun("w", 1, seconds=2.0))
    assert s.msg_per_s == 0.0 and s.answered == 0
    assert math.isnan(s.p50_ms) and math.isnan(s.p99_ms)


# --- targets ----------------------------------------------------------------------------


def targets(**changes: object) -> dict[str, bool]:
    given: dict[str, object] = {
        "anchor": {1: summary(p50=60), 10: summary(msg_per_s=20, p95=800)},
        "project": {1: summary(p50=70), 10: summary(msg_per_s=30, p95=800)},
        "project_50": [summary(), summary()],
        "order_problem_count": 0,
        "conversations_checked": 80,
        "memory_mb": 1500.0,
        "start_s": 30.0,
        **changes,
    }
    return {t.label: t.met for t in check_targets(**given)}  # type: ignore[arg-type]


def test_every_target_met_at_its_bounds() -> None:
    met = targets()
    assert len(met) == 7 and all(met.values()), met


@pytest.mark.parametrize(
    ("changes", "missed"),
    [
        ({"project": {1: summary(p50=70), 10: summary(msg_per_s=29.9, p95=800)}}, "throughput"),
        ({"project": {1: summary(p50=70), 10: summary(msg_per_s=30, p95=801)}}, "p95"),
        ({"project": {1: summary(p50=72.1), 10: summary(msg_per_s=30, p95=800)}}, "p50"),
        ({"project_50": [summary(), summary(errors=1)]}, "no errors"),
        ({"project_50": []}, "no errors"),
        ({"order_problem_count": 1}, "in order"),
        ({"conversations_checked": 0}, "in order"),
        ({"memory_mb": 1500.1}, "memory"),
        ({"start_s": 30.1}, "start"),
    ],
)
def test_each_target_fails_alone(changes: dict[str, object], missed: str) -> None:
    failed = [label for label, ok in targets(**changes).items() if not ok]
    assert len(failed) == 1 and missed in failed[0], failed


# --- turns in order ---------------------------------------------------------------------


def tracker(*texts: str) -> dict[str, object]:
    events: list[dict[str, object]] = [{"event": "action", "name": "action_session_start"}]
    for text in texts:
        events += [{"event": "user", "text": text}, {"event": "bot", "text": "ok"}]
    return {"sender_id": "x", "events": events}


def test_user_texts_split_merged_turns_and_skip_other_events() -> None:
    assert user_texts(tracker("hi", "where is\nmy order", "thanks")) == [
        "hi",
        "where is",
        "my order",
        "thanks",
    ]
    assert user_texts({"events": None}) == []


def test_order_problems_name_each_wrong_conversation() -> None:
    sent = {"a": ["hi", "order 10402"], "b": ["hello", "bye"], "c": ["yes"], "d": ["x "]}
    stored = {
        "a": user_texts(tracker("hi", "order 10402")),
        "b": user_texts(tracker("bye", "hello")),
        "d": user_texts(tracker("x")),
    }
    problems = order_problems(sent, stored)
    assert [p.split(":")[0] for p in problems] == ["b", "c"]
    assert "no tracker" in problems[1]


def test_a_text_stored_with_its_personal_data_replaced_is_in_order() -> None:
    sent = {"a": ["it's tom.becker@example.com", "thanks"], "b": ["it's tom.becker@example.com"]}
    stored = {
        "a": user_texts(tracker("it's [EMAIL]", "thanks")),
        "b": user_texts(tracker("it's [PHONE]")),
    }
    assert [p.split(":")[0] for p in order_problems(sent, stored)] == ["b"]


# --- processes --------------------------------------------------------------------------


def test_descendants_are_the_whole_tree_under_a_process() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert sorted(descendants(10, parents)) == [10, 11, 12, 13]
    assert descendants(99, parents) == [99]


def test_model_rasa_version_reads_the_models_metadata(tmp_path: Path) -> None:
    import tarfile

    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"rasa_open_source_version": "3.6.21"}))
    model = tmp_path / "m.tar.gz"
    decoy = tmp_path / "decoy.json"
    decoy.write_text("[]")
    with tarfile.open(model, "w:gz") as archive:
        archive.add(decoy, arcname="/components/train_X0/x.data_example_metadata.json")
        archive.add(metadata, arcname="/metadata.json")
    assert model_rasa_version(model) == "3.6.21"
    assert model_rasa_version(tmp_path / "missing.tar.gz") == ""


# --- the turn profile -------------------------------------------------------------------


def event(t: float, stage: str, name: str, ms: float) -> ProfileEvent:
    return {"t": t, "stage": stage, "name": name, "ms": ms}


def test_aggregate_gives_each_stage_per_call_and_per_turn_in_turn_order() -> None:
    events = [
        event(9.0, "turn", "handle_message", 999.0),  # before the window
        event(10.1, "action", "action_greet", 30.0),
        event(10.2, "graph", "run_WhitespaceTokenizer0", 1.0),
        event(10.3, "turn", "handle_message", 100.0),
        event(10.4, "action", "action_greet", 10.0),
        event(10.4, "action", "action_greet", 20.0),
        event(10.5, "tracker_load", "SQLTrackerStore.retrieve", 4.0),
        event(10.6, "policy", "run_RulePolicy1", 2.0),
        event(10.7, "turn", "handle_message", 200.0),
        event(21.0, "turn", "handle_message", 999.0),  # after it
    ]
    profile = aggregate([event(1.0, "graph", "run_Tokenizer0", 1.0), *events], 10.0, 20.0)
    assert profile.turns == 2
    assert [(s.stage, s.name) for s in profile.stages] == [
        ("turn", "handle_message"),
        ("tracker_load", "SQLTrackerStore.retrieve"),
        ("graph", "run_WhitespaceTokenizer0"),
        ("policy", "run_RulePolicy1"),
        ("action", "action_greet"),
    ]
    # The whole file's order: a node first seen before the window keeps its place.
    assert profile.order[2:4] == [
        ("graph", "run_Tokenizer0"),
        ("graph", "run_WhitespaceTokenizer0"),
    ]
    action = profile.stages[-1]
    assert (action.calls, action.calls_per_turn) == (3, 1.5)
    assert (action.mean_ms, action.p50_ms, action.ms_per_turn) == (20.0, 20.0, 30.0)
    assert profile.stage_ms_per_turn("turn") == 150.0


def test_aggregate_of_an_empty_window_has_no_stages() -> None:
    profile = aggregate([event(1.0, "turn", "handle_message", 5.0)], start=2.0, end=3.0)
    assert profile.turns == 0 and profile.stages == []


def test_read_events_skips_cut_and_foreign_lines(tmp_path: Path) -> None:
    path = tmp_path / "profile.jsonl"
    good = event(1.0, "graph", "n", 2.5)
    path.write_text(json.dumps(good) + "\n" + '{"t": 2, "stage": "graph"}\n[1]\n{"t": 3, "sta')
    assert read_events(path) == [good]
    assert read_events(tmp_path / "missing.jsonl") == []


def test_without_the_variable_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(turn_profile.PROFILE_ENV, raising=False)
    assert turn_profile.install_from_environ() is False
    assert turn_profile._sink is None


class _Node:
    def __init__(self, name: str) -> None:
        self._node_name = name

    def __call__(self, x: int) -> tuple[str, int]:
        return self._node_name, x * 2


class _Action:
    def name(self) -> str:
        return "action_greet"

    async def run(self, fail: bool = False) -> list[str]:
        if fail:
            raise RuntimeError("action server down")
        return ["event"]


def test_wrappers_time_calls_and_pass_results_and_errors_through(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "p.jsonl"
    sink = turn_profile._Sink(path)
    node_cls = type("Node", (_Node,), {})
    action_cls = type("Action", (_Action,), {})
    turn_profile._wrap_sync(node_cls, "__call__", sink, lambda _: "graph", lambda n: n._node_name)
    turn_profile._wrap_async(action_cls, "run", sink, "action", lambda a: a.name())
    assert node_cls("run_X0")(21) == ("run_X0", 42)
    assert asyncio.run(action_cls().run()) == ["event"]
    with pytest.raises(RuntimeError, match="action server down"):
        asyncio.run(action_cls().run(fail=True))
    assert [(e["stage"], e["name"]) for e in read_events(path)] == [
        ("graph", "run_X0"),
        ("action", "action_greet"),
        ("action", "action_greet"),
    ]
    assert asyncio.iscoroutinefunction(action_cls.run)  # Rasa checks tracker stores so


def test_install_wraps_rasa_3_6s_turn_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the installed Rasa: every wrapped method exists, stays a coroutine
    function where Rasa awaits it (it checks tracker stores so), and writes its event."""
    import asyncio
    import inspect

    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.domain import Domain

    from bot.channels.rest import SupportRestInput
    from bot.tracker_store import UrlTrackerStore

    wrapped = [
        (GraphNode, "__call__"),
        (SupportRestInput, "parse"),
        (Agent, "handle_message"),
        (RemoteAction, "run"),
        *turn_profile.tracker_methods(UrlTrackerStore, SQLTrackerStore, InMemoryTrackerStore),
    ]
    for cls, method in wrapped:  # restored after the test
        monkeypatch.setattr(cls, method, cls.__dict__[method])
    monkeypatch.setattr(turn_profile, "_sink", None)
    path = tmp_path / "profile.jsonl"
    monkeypatch.setenv(turn_profile.PROFILE_ENV, str(path))

    assert turn_profile.install_from_environ() is True
    for cls, method in wrapped:
        function = getattr(cls, method)
        assert hasattr(function, "__wrapped__"), (cls, method)
        assert inspect.iscoroutinefunction(function) == (method not in ("__call__", "parse"))

    async def save_and_load() -> None:
        store = InMemoryTrackerStore(Domain.empty())
        tracker = await store.get_or_create_tracker("c1")
        await store.save(tracker)
        assert (await store.retrieve("c1")) is not None

    asyncio.run(save_and_load())
    assert [(e["stage"], e["name"]) for e in read_events(path)] == [
        ("tracker_load", "InMemoryTrackerStore.retrieve"),
        ("tracker_save", "InMemoryTrackerStore.save"),
        ("tracker_save", "InMemoryTrackerStore.save"),
        ("tracker_load", "InMemoryTrackerStore.retrieve"),
    ]


def test_profile_table_lines_up_levels_and_marks_a_stage_missing_at_one() -> None:
    events = [
        event(1.0, "turn", "handle_message", 100.0),
        event(1.0, "graph", "run_WhitespaceTokenizer0", 1.0),
        event(2.0, "turn", "handle_message", 300.0),
        event(2.0, "action", "action_greet", 30.0),
    ]
    profiles = {1: aggregate(events, 0.5, 1.5), 10: aggregate(events, 1.5, 2.5)}
    lines = list(profile_table(profiles, {1: 110.0, 10: 320.0}))
    tokenizer = next(line for line in lines if "WhitespaceTokenizer0" in line)
    assert "run_" not in tokenizer and tokenizer.rstrip().endswith("–")
    assert lines.index(tokenizer) < next(i for i, x in enumerate(lines) if "action_greet" in x)
    assert len({len(line) for line in lines[:-1]}) == 1, "columns do not line up"
    assert lines[-1] == "  turns profiled: 1 at 1 concurrent, 1 at 10 concurrent"


def test_other_cores_is_the_machines_busy_time_less_ours_per_second() -> None:
    assert other_cores(machine_busy=30.0, ours=18.0, wall=10.0) == pytest.approx(1.2)
    assert other_cores(machine_busy=10.0, ours=10.5, wall=10.0) == 0.0  # jiffy rounding
    assert math.isnan(other_cores(machine_busy=math.nan, ours=1.0, wall=10.0))


def test_logged_errors_counts_each_error_message_once() -> None:
    log = "\n".join(
        [
            "2026-12-02 15:29:14 ERROR    rasa.core.actions.action  - Failed to run 'a'.",
            "Traceback (most recent call last):",
            "2026-12-02 15:29:14 WARNING  bot.actions.base  - refused",
            "2026-12-02 15:29:15 ERROR    rasa.core.actions.action  - Failed to run 'a'.",
            "2026-12-02 15:29:16 ERROR    rasa.core.processor  - Encountered an exception.",
        ]
    )
    assert logged_errors(log) == [
        "×2 rasa.core.actions.action  - Failed to run 'a'.",
        "×1 rasa.core.processor  - Encountered an exception.",
    ]
    assert logged_errors("all quiet\n") == []
