"""`make run-prod`: the production profile — several of each server, behind HAProxy, on
PostgreSQL, Redis and RabbitMQ.

    python -m bot.production [--replicas 2]

What runs (each a process of its own, logs in DATA_DIR/logs/):

- HAProxy (Debian's package; `scripts/ensure-haproxy.sh` installs it) on the public
  ports: RASA_PORT → the Rasa servers (the socket.io path sticky by client address, REST
  round robin), ACTION_PORT → the action servers (round robin), WEB_PORT → the web
  fronts (sticky by client address: an agent's live console stream stays on the front
  that serves it);
- `--replicas` Rasa servers, action servers and web fronts on internal ports
  (INTERNAL_PORT_OFFSET above the public ones), all with the same settings;
- the conversation-facts consumer, reading RabbitMQ.

What they share, from the settings (deploy/production.env is this machine's, overlaid by
the environment and .env): DATABASE_URL and STORE_URL (PostgreSQL), LOCK_STORE_URL
(Redis: one turn at a time per conversation, across Rasa servers, `bot.lock_store`) and
EVENT_BROKER_URL (RabbitMQ: the tracker events, from each Rasa server's outbox,
`bot.event_relay`). The default `make run` stays one of each, with SQLite and no server.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from bot.errors import SetupError
from bot.launcher import (
    READY_TIMEOUT_S,
    Service,
    ServiceStack,
    actions_service,
    rasa_service,
    web_service,
)
from core.constants import RETRY_PROMPT
from core.paths import PROJECT_ROOT
from core.settings import Settings, read_dotenv

PRODUCTION_ENV = PROJECT_ROOT / "deploy" / "production.env"
HAPROXY_TEMPLATE = PROJECT_ROOT / "deploy" / "haproxy.cfg"
INTERNAL_PORT_OFFSET = 10_000
REPLICAS = 2


def production_settings(
    environ: dict[str, str] | None = None, env_file: Path = PRODUCTION_ENV
) -> Settings:
    """The settings: the environment, then .env, then `env_file` (this machine's servers)."""
    import os

    from core.paths import PROJECT_ROOT as root

    merged = {**read_dotenv(env_file), **read_dotenv(root / ".env"), **(environ or os.environ)}
    return Settings.load(environ=merged, dotenv=root / ".env.none")


def missing(settings: Settings) -> list[str]:
    """What the profile needs and the settings lack, each with its fix."""
    problems = []
    for name, url in (("DATABASE_URL", settings.database_url), ("STORE_URL", settings.store_url)):
        if not url.startswith(("postgresql", "postgres://")):
            problems.append(
                f"{name} must be a PostgreSQL URL (several servers share it), "
                f"not {url.split(':')[0]}"
            )
    if not settings.lock_store_url:
        problems.append("LOCK_STORE_URL must name a Redis (redis://host:6379/0)")
    if not settings.event_broker_url:
        problems.append("EVENT_BROKER_URL must name a RabbitMQ (amqp://user:password@host:5672/)")
    return problems


@dataclass
class ProductionStack:
    """HAProxy, `replicas` of each server and the facts consumer: a `ServiceStack` whose
    services are these (started, watched and stopped as the default run's are)."""

    settings: Settings
    replicas: int = REPLICAS
    # The servers' own ports by kind ("rasa", "action", "web"), one per replica; default:
    # INTERNAL_PORT_OFFSET away from the public ones.
    ports: dict[str, list[int]] | None = None
    stack: ServiceStack = field(init=False)

    def __post_init__(self) -> None:
        problems = missing(self.settings)
        if problems:
            raise SetupError(
                "The production profile cannot start:\n  - "
                + "\n  - ".join(problems)
                + f"\nSet them in {PRODUCTION_ENV.relative_to(PROJECT_ROOT)}, .env or the "
                "environment (README, 'Production profile')."
            )
        s = self.settings
        logs = s.data_dir / "logs"
        # Renders endpoints.yml (the action servers and the lock store behind the public
        # ports) and credentials.yml, as the default run does.
        self.stack = ServiceStack(s)
        endpoints, credentials = s.data_dir / "endpoints.yml", s.data_dir / "credentials.yml"
        services = [self.haproxy_service(logs)]
        for n in range(1, self.replicas + 1):
            port = self.internal_ports(n)
            actions = actions_service(
                dataclasses.replace(s, action_port=port["action"]),
                logs / f"actions-{n}.log",
                f"actions-{n}",
            )
            actions.env["ACTION_PORT"] = str(port["action"])
            rasa = rasa_service(
                dataclasses.replace(s, rasa_port=port["rasa"]),
                endpoints,
                credentials,
                logs / f"rasa-{n}.log",
                f"rasa-{n}",
            )
            web = web_service(
                dataclasses.replace(s, web_port=port["web"]), logs / f"web-{n}.log", f"web-{n}"
            )
            services += [actions, rasa, web]
        services.append(
            Service(
                "facts-consumer",
                [
                    sys.executable,
                    "-m",
                    "insights.consumer",
                    "--rabbitmq",
                    s.event_broker_url,
                    "--queue",
                    s.event_broker_queue,
                ],
                "",
                logs / "facts-consumer.log",
            )
        )
        self.stack.services = services

    @property
    def services(self) -> list[Service]:
        return self.stack.services

    def internal_ports(self, n: int) -> dict[str, int]:
        """Replica `n`'s ports: INTERNAL_PORT_OFFSET above the public ones (below them
        when that would pass 65535)."""
        if self.ports is not None:
            return {kind: ports[n - 1] for kind, ports in self.ports.items()}
        s = self.settings

        def port(public: int) -> int:
            above = public + INTERNAL_PORT_OFFSET + n - 1
            return above if above < 65536 else public - INTERNAL_PORT_OFFSET + n - 1

        return {
            "rasa": port(s.rasa_port),
            "action": port(s.action_port),
            "web": port(s.web_port),
        }

    def render_haproxy(self) -> Path:
        s = self.settings
        servers: dict[str, list[str]] = {"rasa": [], "action": [], "web": [], "rasa_tracked": []}
        for n in range(1, self.replicas + 1):
            for kind, port in self.internal_ports(n).items():
                servers[kind].append(
                    f"    server {kind}-{n} 127.0.0.1:{port} check inter 1s rise 1 fall 2"
                )
                if kind == "rasa":
                    # The Rasa servers' other backends take the state of rasa_rest's
                    # check: all of them see a server come up (and go down) at once.
                    servers["rasa_tracked"].append(
                        f"    server {kind}-{n} 127.0.0.1:{port} track rasa_rest/{kind}-{n}"
                    )
        errors = s.data_dir / "haproxy-errors"
        errors.mkdir(parents=True, exist_ok=True)
        for status, reason in (
            (502, "Bad Gateway"),
            (503, "Service Unavailable"),
            (504, "Gateway Timeout"),
        ):
            # What a client gets when its message did not go through (no server up, all
            # retries failed): JSON, the same words as the channels' own.
            body = json.dumps({"error": "unavailable", "message": RETRY_PROMPT})
            (errors / f"{status}.http").write_text(
                f"HTTP/1.0 {status} {reason}\r\nCache-Control: no-cache\r\nConnection: close"
                f"\r\nRetry-After: 2\r\nContent-Type: application/json\r\n\r\n{body}\n",
                encoding="utf-8",
            )
        text = HAPROXY_TEMPLATE.read_text(encoding="utf-8").format(
            errors=errors,
            host=s.host,
            rasa_port=s.rasa_port,
            action_port=s.action_port,
            web_port=s.web_port,
            rasa_servers="\n".join(servers["rasa"]),
            rasa_tracked_servers="\n".join(servers["rasa_tracked"]),
            action_servers="\n".join(servers["action"]),
            web_servers="\n".join(servers["web"]),
        )
        target = s.data_dir / "haproxy.cfg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def haproxy_service(self, logs: Path) -> Service:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(binary).exists():
            raise SetupError(
                "HAProxy is not installed. Run ./scripts/ensure-haproxy.sh (Debian's "
                "package), or `make run-prod`, which does."
            )
        return Service(
            "haproxy",
            [binary, "-db", "-f", str(self.render_haproxy())],
            f"http://127.0.0.1:{self.settings.web_port}/health",
            logs / "haproxy.log",
        )

    def start(self, timeout: float = READY_TIMEOUT_S, progress: bool = False) -> None:
        """Bring the store's schema up to date (seeding the sample data into an empty
        one) and create the tracker store's tables, so the servers do not race to; then
        start everything and wait until each answers."""
        from bot.store import SupportStore, load_seed
        from bot.tracker_store import UrlTrackerStore

        UrlTrackerStore(host=self.settings.database_url).engine.dispose()

        store = SupportStore(self.settings.store_url)
        try:
            store.create_schema()
            if not store.is_seeded():
                store.seed(load_seed())
        finally:
            store.close()
        self.stack.start(timeout, progress)
        self.wait_for_the_balancer(timeout)

    def wait_for_the_balancer(self, timeout: float) -> None:
        """Until HAProxy has every server up (it marks them down while they start)."""
        import httpx

        s = self.settings
        urls = [
            f"http://127.0.0.1:{s.rasa_port}/",
            f"http://127.0.0.1:{s.action_port}/health",
            f"http://127.0.0.1:{s.web_port}/health",
        ]
        deadline = time.monotonic() + timeout
        while urls:
            try:
                if httpx.get(urls[0], timeout=2.0).status_code == 200:
                    urls.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SetupError(
                    f"HAProxy has no server up behind {urls[0]} after {timeout:.0f} s."
                )
            time.sleep(0.5)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def first_exited(self) -> Service | None:
        return self.stack.first_exited()

    def stop(self) -> None:
        self.stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.production", description=__doc__)
    parser.add_argument("--replicas", type=int, default=REPLICAS, help="of each server")
    options = parser.parse_args(argv)
    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        settings = production_settings()
        stack = ProductionStack(settings, max(1, options.replicas))
        print(
            f"==> Starting HAProxy, {stack.replicas} Rasa servers, {stack.replicas} action "
            f"servers, {stack.replicas} web fronts and the facts consumer (logs in "
            f"{settings.data_dir / 'logs'})"
        )
        stack.start(progress=True)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"\n  Production profile running.\n"
        f"  Web chat:       http://127.0.0.1:{settings.web_port}/\n"
        f"  Agent console:  http://127.0.0.1:{settings.web_port}/console\n"
        f"  Rasa (REST):    http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    exit_code = 0
    while not stopping:
        dead = stack.first_exited()
        if dead is not None:
            print(f"error: {dead.name} stopped. Last lines of {dead.log_path}:\n{dead.log_tail()}")
            exit_code = 1
            break
        time.sleep(1.0)
    stack.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
