"""The action server: rasa_sdk's app, closed to anyone without the shared secret.

rasa_sdk authenticates nobody, and `python -m rasa_sdk` binds to 0.0.0.0, so whoever
reaches its port can post a made-up tracker to `/webhook` and run real actions (change
an address, cancel a subscription, refund). `python -m bot.action_server`, which
`make run` starts, serves the same app on `HOST` and answers 401 to every request
except `/health` that lacks `Authorization: Bearer <ACTION_SERVER_TOKEN>`. Rasa sends
that header from `endpoints.yml` (`action_endpoint.headers`, filled from the
environment), so the secret is never on a command line or in a URL.

    >>> app = create_app("a-long-random-secret")  # doctest: +SKIP
"""

from __future__ import annotations

import hmac
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from core.errors import ConfigurationError
from core.settings import Settings

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.request import Request
    from sanic.response import HTTPResponse

ACTIONS_PACKAGE = "bot.actions"
TOKEN_ENV = "ACTION_SERVER_TOKEN"
# Paths anyone may call: the launcher's readiness probe. Everything else needs the secret.
OPEN_PATHS = frozenset({"/health"})


def create_app(token: str, actions: str | ModuleType = ACTIONS_PACKAGE) -> Sanic:
    """rasa_sdk's Sanic app for `actions`, refusing requests without `token`."""
    if not token:
        raise ConfigurationError(
            f"The action server needs a shared secret and got an empty one. Set {TOKEN_ENV} "
            "(`make run` sets a random one for each run)."
        )
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from sanic import response

    # No browser calls the action server, so no origin is allowed (rasa_sdk's default: *).
    app = create_sdk_app(actions, cors_origins=None)
    expected = f"Bearer {token}".encode()

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        if hmac.compare_digest(given, expected):
            return None
        return response.json(
            {
                "error": "unauthorized",
                "message": f"The action server needs `Authorization: Bearer <{TOKEN_ENV}>`.",
            },
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    return app


def main() -> int:
    """Serve the actions on HOST:ACTION_PORT with the secret from the environment.

    The secret is read from the environment only, as Rasa reads it (`${ACTION_SERVER_TOKEN}`
    in endpoints.yml): the two sides cannot disagree. `make run` passes it to both.
    """
    settings = Settings.load()
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(
            f"error: {TOKEN_ENV} is not set. `make run` sets it for the Rasa server and the "
            f"action server; to start the action server alone, export the same {TOKEN_ENV} "
            "for both.",
            file=sys.stderr,
        )
        return 2
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    from privacy import log_records

    log_records.install()  # no personal data in the logs
    utils.configure_colored_logging(settings.log_level)
    utils.update_sanic_log_level()
    app = create_app(token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    print(f"Action server on http://{settings.host}:{settings.action_port}", flush=True)
    app.run(settings.host, settings.action_port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
