from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.errors import SetupError
from bot.launcher import Service, ServiceStack
from bot.rasa_server import api_headers, rasa_argv
from core.errors import ConfigurationError
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


def test_endpoints_name_the_action_secret_without_holding_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, ACTION_SERVER_TOKEN="s3cr3t-for-the-actions")
    ServiceStack(settings)
    text = (tmp_path / "endpoints.yml").read_text()
    assert "s3cr3t-for-the-actions" not in text
    # Rasa expands ${...} only in plain (unquoted) YAML scalars.
    assert "Authorization: Bearer ${ACTION_SERVER_TOKEN}\n" in text
    headers = yaml.safe_load(text)["action_endpoint"]["headers"]
    assert headers == {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}


def test_rasa_reads_the_action_secret_from_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import AvailableEndpoints

    ServiceStack(settings_for(tmp_path, ACTION_PORT="6123"))
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "from-the-environment")
    endpoints = AvailableEndpoints.read_endpoints(str(tmp_path / "endpoints.yml"))
    assert endpoints.action is not None
    assert endpoints.action.headers == {"Authorization": "Bearer from-the-environment"}


def test_no_secret_on_any_command_line(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, RASA_API_TOKEN="rasa-api-t0k3n", ACTION_SERVER_TOKEN="act10n-t0k3n"
    )
    stack = ServiceStack(settings)
    for service in stack.services:
        line = " ".join(service.command)
        assert "rasa-api-t0k3n" not in line and "act10n-t0k3n" not in line, service.name
        assert "--auth-token" not in service.command and "--jwt-secret" not in service.command
    # ...they reach the processes through the environment.
    env = stack.environ()
    assert env["RASA_API_TOKEN"] == "rasa-api-t0k3n"
    assert env["ACTION_SERVER_TOKEN"] == "act10n-t0k3n"


def test_rasa_runs_through_the_entry_point_that_adds_its_secret(tmp_path: Path) -> None:
    stack = ServiceStack(settings_for(tmp_path, RASA_PORT="5999", HOST="127.0.0.2"))
    rasa = next(s for s in stack.services if s.name == "rasa")
    assert rasa.command[1:3] == ["-m", "bot.rasa_server"]
    assert rasa.command[rasa.command.index("--port") + 1] == "5999"
    assert rasa.command[rasa.command.index("--interface") + 1] == "127.0.0.2"
    assert "--enable-api" in rasa.command
    actions = next(s for s in stack.services if s.name == "actions")
    assert actions.command[1:] == ["-m", "bot.action_server"]  # HOST and port from settings
    web = next(s for s in stack.services if s.name == "web")
    assert web.command[web.command.index("--host") + 1] == "127.0.0.2"


def cors_of(stack: ServiceStack) -> list[str]:
    rasa = next(s for s in stack.services if s.name == "rasa")
    start = rasa.command.index("--cors") + 1
    return list(itertools.takewhile(lambda a: not a.startswith("--"), rasa.command[start:]))


def test_rasa_allows_the_web_fronts_origin_only(tmp_path: Path) -> None:
    stack = ServiceStack(settings_for(tmp_path, WEB_PORT="8181"))
    assert cors_of(stack) == ["http://127.0.0.1:8181", "http://localhost:8181"]
    public = ServiceStack(settings_for(tmp_path, HOST="0.0.0.0", PUBLIC_HOST="chat.example"))
    assert cors_of(public) == [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://chat.example:8080",
    ]
    assert "*" not in cors_of(public)


def test_rasa_cors_origins_replace_the_default(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, RASA_CORS_ORIGINS="https://shop.example.com, https://help.example.com/"
    )
    assert cors_of(ServiceStack(settings)) == [
        "https://shop.example.com",
        "https://help.example.com",
    ]


def test_the_rasa_entry_point_adds_the_jwt_secret_and_refuses_secrets_in_argv() -> None:
    argv = rasa_argv(["--port", "5005", "--enable-api"], "from-the-env")
    assert argv == [
        "rasa",
        "run",
        "--port",
        "5005",
        "--enable-api",
        "--jwt-secret=from-the-env",
        "--jwt-method",
        "HS256",
    ]
    # A random secret may start with "-": Rasa's own parser still reads it as the value.
    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    parsed = parser.parse_args(rasa_argv(["--enable-api"], "-Xy_secret")[2:])
    assert parsed.jwt_secret == "-Xy_secret"
    for option in ("--auth-token", "-t", "--jwt-secret=x"):
        with pytest.raises(ConfigurationError, match="secret on the command line"):
            rasa_argv([option, "x"], "from-the-env")
    with pytest.raises(ConfigurationError, match="RASA_API_TOKEN is not set"):
        rasa_argv(["--enable-api"], "")


def test_api_headers_carry_a_short_lived_admin_jwt_signed_with_the_token() -> None:
    import jwt

    secret = "a-rasa-api-token-of-32-characters"
    scheme, token = api_headers(secret)["Authorization"].split(" ")
    assert scheme == "Bearer"
    payload = jwt.decode(token, secret, algorithms=["HS256"])
    assert payload["user"]["role"] == "admin"  # what Rasa's requires_auth checks
    assert 0 < payload["exp"] - payload["iat"] <= 300
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-32-characters!!", algorithms=["HS256"])


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


def test_a_messaging_channel_is_served_when_its_settings_are_set(tmp_path: Path) -> None:
    ServiceStack(settings_for(tmp_path))
    plain = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert list(plain) == [
        "bot.channels.rest.SupportRestInput",
        "bot.channels.socketio.SupportSocketIOInput",
    ]
    ServiceStack(
        settings_for(
            tmp_path, TELEGRAM_TOKEN="1:abc", TELEGRAM_SECRET_TOKEN="s3cret", TWILIO_NUMBER=""
        )
    )
    rendered = (tmp_path / "credentials.yml").read_text()
    assert "bot.channels.telegram.TelegramInput" in yaml.safe_load(rendered)
    assert "s3cret" not in rendered  # secrets stay in the environment
    assert (tmp_path / "credentials.yml").stat().st_mode & 0o077 == 0


def test_a_half_set_up_channel_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN, TWILIO_NUMBER are missing"):
        ServiceStack(settings_for(tmp_path, TWILIO_ACCOUNT_SID="AC123"))


def test_rasas_own_channel_names_in_credentials_get_the_verified_connectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "bot").mkdir(parents=True)
    (project / "bot" / "credentials.yml").write_text(
        "rest:\ntelegram:\n  access_token: '1:abc'\n  verify: brightbot\n"
        "  webhook_url: https://x/webhooks/telegram/webhook\n"
        "facebook:\n  verify: v\n  secret: s\n  page-access-token: p\n"
    )
    (project / "endpoints.yml").write_text("action_endpoint:\n  url: http://x\n")
    monkeypatch.setattr("bot.launcher.PROJECT_ROOT", project)
    ServiceStack(settings_for(tmp_path))
    rendered = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert rendered == {
        "rest": None,
        "bot.channels.telegram.TelegramInput": {
            "access_token": "1:abc",
            "verify": "brightbot",
            "webhook_url": "https://x/webhooks/telegram/webhook",
        },
        "bot.channels.messenger.MessengerInput": {
            "verify": "v",
            "secret": "s",
            "page-access-token": "p",
        },
    }


def test_a_lock_store_url_gives_rasa_the_redis_lock_store_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import AvailableEndpoints

    from bot.lock_store import AtomicRedisLockStore

    url = "redis://:pa55word@127.0.0.1:6379/2"
    ServiceStack(settings_for(tmp_path, LOCK_STORE_URL=url))
    text = (tmp_path / "endpoints.yml").read_text()
    assert "pa55word" not in text
    monkeypatch.setenv("LOCK_STORE_URL", url)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "from-the-environment")
    endpoints = AvailableEndpoints.read_endpoints(str(tmp_path / "endpoints.yml"))
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, AtomicRedisLockStore) and store.url == url
    # Without it, one Rasa server with its locks in memory (the default run).
    ServiceStack(settings_for(tmp_path))
    assert "lock_store" not in yaml.safe_load((tmp_path / "endpoints.yml").read_text())


def test_a_lock_store_url_must_be_redis(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="redis://"):
        settings_for(tmp_path, LOCK_STORE_URL="postgresql://db/locks")
