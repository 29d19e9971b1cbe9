"""Start the Rasa server, the action server and the web front together.

`make run` calls `python -m bot.launcher`: it prints the URL to open and stops every
process cleanly on Ctrl-C. The tests start the same `ServiceStack` on their own ports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
import yaml

from bot.errors import SetupError
from core.paths import PROJECT_ROOT
from core.settings import Settings

MODEL_NAME = "support"
# Rasa's names of the messaging channels, and the connectors that replace them.
MESSAGING_CONNECTORS = {
    "telegram": "bot.channels.telegram.TelegramInput",
    "slack": "bot.channels.slack.SlackInput",
    "twilio": "bot.channels.twilio.TwilioInput",
    "facebook": "bot.channels.messenger.MessengerInput",
}
CHANNEL_TITLES = {
    "telegram": "Telegram",
    "slack": "Slack",
    "twilio": "SMS and WhatsApp",
    "facebook": "Messenger",
}
READY_TIMEOUT_S = 240.0


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # this process's own settings

    def start(self, env: Mapping[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env={**env, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: Ctrl-C is handled by the launcher
        )
        log.close()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        if not self.health_url:  # no HTTP of its own (a consumer): ready while it runs
            return self.is_running()
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class ServiceStack:
    """The three processes of one running assistant."""

    settings: Settings
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.settings
        logs = s.data_dir / "logs"
        endpoints = self.render_endpoints()
        self.services = [
            actions_service(s, logs / "actions.log"),
            rasa_service(s, endpoints, self.render_credentials(), logs / "rasa.log"),
            web_service(s, logs / "web.log"),
        ]

    def render_endpoints(self) -> Path:
        """endpoints.yml with the action server URL of this run's ACTION_PORT, and the
        Redis lock store when LOCK_STORE_URL is set, RabbitMQ when EVENT_BROKER_URL is.

        The secrets stay `${...}` references that Rasa fills from its environment.
        """
        source = PROJECT_ROOT / "endpoints.yml"
        config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        config.setdefault("action_endpoint", {})["url"] = self.settings.action_url
        if self.settings.lock_store_url:
            # Several Rasa servers: one turn at a time per conversation, across them.
            config["lock_store"] = {
                "type": "bot.lock_store.AtomicRedisLockStore",
                "url": "${LOCK_STORE_URL}",  # filled by Rasa: its password stays out of files
            }
        if self.settings.event_broker_url:
            # Several Rasa servers: the tracker events go to RabbitMQ, from the outbox.
            config["event_broker"] = {
                "type": "insights.broker.RabbitBroker",
                "url": "${EVENT_BROKER_URL}",
                "queue": self.settings.event_broker_queue,
            }
        target = self.settings.data_dir / "endpoints.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Generated by bot/launcher.py from {source.name}; edit that file instead.\n"
        target.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return target

    def render_credentials(self) -> Path:
        """bot/credentials.yml with the messaging channels that are on (their settings
        are set, see docs/channels.md). A Rasa channel name there (telegram, slack,
        twilio, facebook) gets our verified connector, with the same keys."""
        source = PROJECT_ROOT / "bot" / "credentials.yml"
        given = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        channels: dict[str, object] = {}
        for key, value in given.items():
            channels[MESSAGING_CONNECTORS.get(key, key)] = value
        for name in self.settings.channels:  # ConfigurationError when half set up
            channels.setdefault(MESSAGING_CONNECTORS[name], None)
        target = self.settings.data_dir / "credentials.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Generated by bot/launcher.py from {source.name}; edit that file instead.\n"
        # It may hold a platform's secrets from bot/credentials.yml: readable by us only,
        # from the first byte.
        target.unlink(missing_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(header + yaml.safe_dump(channels, sort_keys=False))
        return target

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.settings.as_environ())
        env.update(
            {
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL_LIBRARIES": "ERROR",
                "RASA_TELEMETRY_ENABLED": "false",
                # One OpenBLAS thread: a message's small matrix products gain nothing
                # from more, and idle OpenBLAS threads spin (sched_yield) on the core
                # that Rasa's event loop and the encoder thread need.
                "OPENBLAS_NUM_THREADS": "1",
            }
        )
        return env

    def start(self, timeout: float = READY_TIMEOUT_S, progress: bool = False) -> None:
        if not model_path(self.settings).is_file():
            raise SetupError(
                f"No trained model at {model_path(self.settings)}. Run `make setup` (or "
                "`make run`, which sets up first)."
            )
        env = self.environ()
        for service in self.services:
            service.start(env)
        self.wait_ready(timeout, progress)

    def wait_ready(self, timeout: float, progress: bool = False) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        started = time.monotonic()
        while pending:
            for service in list(pending):
                if not service.is_running():
                    self.stop()
                    raise SetupError(
                        f"The {service.name} process exited during start-up. Last lines of "
                        f"{service.log_path}:\n{service.log_tail()}"
                    )
                if service.is_ready():
                    pending.remove(service)
                    if progress:
                        print(f"    {service.name} ready ({time.monotonic() - started:.0f} s)")
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                self.stop()
                raise SetupError(
                    f"{names} did not become ready within {timeout:.0f} s. See the logs in "
                    f"{self.settings.data_dir / 'logs'}."
                )
            if pending:
                time.sleep(0.5)

    def first_exited(self) -> Service | None:
        return next((s for s in self.services if not s.is_running()), None)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def actions_service(s: Settings, log: Path, name: str = "actions") -> Service:
    """rasa_sdk behind the shared secret, on HOST:ACTION_PORT (settings)."""
    return Service(
        name,
        [sys.executable, "-m", "bot.action_server"],
        f"http://127.0.0.1:{s.action_port}/health",
        log,
    )


def rasa_service(
    s: Settings, endpoints: Path, credentials: Path, log: Path, name: str = "rasa"
) -> Service:
    """`rasa run` on RASA_PORT, with its API secret from RASA_API_TOKEN in the environment."""
    return Service(
        name,
        [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            str(model_path(s)),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            "--interface",
            s.host,
            "--port",
            str(s.rasa_port),
            "--enable-api",
            "--cors",
            *rasa_cors_origins(s),
        ],
        f"http://127.0.0.1:{s.rasa_port}/webhooks/rest/",
        log,
    )


def web_service(s: Settings, log: Path, name: str = "web") -> Service:
    """The web chat, the agent console and the lead workspace (uvicorn) on WEB_PORT."""
    return Service(
        name,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bot.web.serve:create_app",
            "--factory",
            "--host",
            s.host,
            "--port",
            str(s.web_port),
            "--log-level",
            "warning",
            "--ws",
            "none",
            # Open console live streams never end by themselves.
            "--timeout-graceful-shutdown",
            "3",
        ],
        f"http://127.0.0.1:{s.web_port}/health",
        log,
    )


def rasa_cors_origins(settings: Settings) -> list[str]:
    """Browser origins Rasa answers: RASA_CORS_ORIGINS, else the web front's own.

    The web chat on the web front reaches Rasa's socket.io from the web front's origin
    (the polling transport needs CORS for it); nothing else in a browser calls Rasa.
    """
    if settings.rasa_cors_origins:
        return list(settings.rasa_cors_origins)
    hosts = ["127.0.0.1", "localhost"]
    for host in (settings.host, settings.public_host):
        if host and host not in ("0.0.0.0", "::") and host not in hosts:
            hosts.append(host)
    return [f"http://{f'[{h}]' if ':' in h else h}:{settings.web_port}" for h in hosts]


def console_users(settings: Settings) -> int:
    import sqlalchemy as sa

    from core.errors import ConfigurationError
    from routing.accounts import Accounts

    accounts = Accounts(settings.store_url)
    try:
        return len(accounts.list_users())
    except (sa.exc.SQLAlchemyError, ConfigurationError):  # never stop the assistant for it
        return 0
    finally:
        accounts.close()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def main() -> int:
    settings = Settings.load()
    stack = ServiceStack(settings)
    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(
        "==> Starting the Rasa server, the action server and the web chat "
        f"(logs in {settings.data_dir / 'logs'})"
    )
    try:
        stack.start(progress=True)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    host = settings.public_host or (
        "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    )
    print(
        f"\n  Brightbasket support assistant is running.\n"
        f"  Open the web chat:  http://{host}:{settings.web_port}/\n"
        f"  Agent console:      http://{host}:{settings.web_port}/console\n"
        + (
            f"  Demo sign-in:       http://{host}:{settings.web_port}/demo"
            "  (sample customers; DEMO_SIGN_IN=false in production)\n"
            if settings.demo_sign_in
            else ""
        )
        + (
            f"  One-time codes:     {settings.data_dir / 'outbox'}/"
            "  (no SMTP_URL: e-mails land here)\n"
            if not settings.smtp_url
            else ""
        )
        + f"  Rasa server:        http://{host}:{settings.rasa_port}/"
        "  (REST: /webhooks/rest/session, then /webhooks/rest/webhook)\n"
        + "".join(
            f"  {CHANNEL_TITLES[name] + ':':<20}http://{host}:{settings.rasa_port}"
            f"/webhooks/{name}/webhook  (register it at the platform: docs/channels.md)\n"
            for name in settings.channels
        )
        + "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    if not console_users(settings):
        print(
            "  No agent console users yet. Create one in another terminal:\n"
            "    make user NAME=dana ROLE=agent\n",
            flush=True,
        )
    exit_code = 0
    while not stopping:
        dead = stack.first_exited()
        if dead is not None:
            print(
                f"error: the {dead.name} process stopped. Last lines of {dead.log_path}:\n"
                f"{dead.log_tail()}",
                file=sys.stderr,
            )
            exit_code = 1
            break
        time.sleep(0.5)
    print("==> Stopping…", flush=True)
    stack.stop()
    print("==> Stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
