from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.errors import SetupError
from bot.launcher import Service, ServiceStack
from core.settings import Settings


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return Settings.load(
        environ={"DATA_DIR": str(tmp_path), "MODEL_DIR": str(tmp_path / "m"), **env},
        dotenv=tmp_path / "none",
    )


def test_endpoints_get_this_runs_action_port(tmp_path: Path) -> None:
    stack = ServiceStack(settings_for(tmp_path, ACTION_PORT="6123"))
    rendered = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    assert rendered["action_endpoint"]["url"] == "http://127.0.0.1:6123/webhook"
    assert rendered["tracker_store"]["type"] == "bot.tracker_store.UrlTrackerStore"
    assert [s.name for s in stack.services] == ["actions", "rasa", "web"]


def test_rasa_gets_the_api_token_and_cors(tmp_path: Path) -> None:
    stack = ServiceStack(settings_for(tmp_path, RASA_API_TOKEN="t0k3n", RASA_PORT="5999"))
    rasa = next(s for s in stack.services if s.name == "rasa")
    assert rasa.command[rasa.command.index("--auth-token") + 1] == "t0k3n"
    assert rasa.command[rasa.command.index("--port") + 1] == "5999"
    assert "--enable-api" in rasa.command and "--cors" in rasa.command


def test_missing_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="make setup"):
        ServiceStack(settings_for(tmp_path)).start()


def test_a_process_that_dies_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    service = Service(
        "broken",
        [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"],
        "http://127.0.0.1:9/health",
        tmp_path / "broken.log",
    )
    stack = ServiceStack(settings_for(tmp_path))
    stack.services = [service]
    service.start({})
    with pytest.raises(SetupError, match="boom: bad config"):
        stack.wait_ready(timeout=10)


def test_stop_terminates_the_whole_process_group(tmp_path: Path) -> None:
    # The child starts a grandchild; stopping the service must end both.
    script = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('grandchild', p.pid, flush=True); time.sleep(60)"
    )
    service = Service(
        "sleepy", [sys.executable, "-c", script], "http://127.0.0.1:9/", tmp_path / "sleepy.log"
    )
    service.start({})
    assert wait_until(lambda: "grandchild" in service.log_tail()), service.log_tail()
    grandchild = int(service.log_tail().split("grandchild")[1].split()[0])
    service.stop(timeout=5)
    # `stop` waits for the child; the grandchild gets the same signal and ends on its own
    # time. Gone, or a zombie nobody reaped (PID 1 in a container may not), is ended.
    status = Path(f"/proc/{grandchild}/status")

    def ended() -> bool:
        try:
            return "zombie" in status.read_text()
        except OSError:
            return True

    assert wait_until(ended), status.read_text()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
