"""Rasa's server with its API secret taken from the environment, and the header to call it.

`rasa run --auth-token T` shows T in every process listing, and Rasa takes that token
only from the query string (`?token=T`), so it also ends up in URLs and access logs.
`python -m bot.rasa_server <rasa run options>`, which `make run` starts, runs Rasa's own
`rasa run` in this process with `--jwt-secret` set from RASA_API_TOKEN: the command line
holds no secret, and the HTTP API accepts only `Authorization: Bearer <JWT>`, a JWT
signed with RASA_API_TOKEN (HS256). Callers get that header from `api_headers`:

    >>> httpx.get(f"{rasa_url}/conversations/{id}/tracker",
    ...           headers=api_headers(settings.rasa_api_token))  # doctest: +SKIP

Importing this module is cheap: Rasa loads only when `main` runs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence

from core.errors import ConfigurationError
from core.tokens import SessionTokens

TOKEN_ENV = "RASA_API_TOKEN"
JWT_METHOD = "HS256"
# Rasa's `requires_auth` lets the role "admin" read and write every conversation; the
# role "user" only the conversation named like its username.
API_ROLE = "admin"
API_USER = "brightbasket"
TOKEN_TTL_S = 300
# Options that would put a secret on the command line.
SECRET_OPTIONS = ("-t", "--auth-token", "--jwt-secret", "--jwt-private-key")
MAX_REQUEST_BYTES = 1024 * 1024


def api_token(secret: str, ttl_s: float = TOKEN_TTL_S, now: float | None = None) -> str:
    """A short-lived JWT for Rasa's HTTP API, signed with `secret` (RASA_API_TOKEN)."""
    import jwt

    issued = int(time.time() if now is None else now)
    payload = {
        "user": {"username": API_USER, "role": API_ROLE},
        "iat": issued,
        "exp": issued + int(ttl_s),
    }
    return jwt.encode(payload, secret, algorithm=JWT_METHOD)


def api_headers(secret: str) -> dict[str, str]:
    """The `Authorization` header for one call to Rasa's HTTP API."""
    return {"Authorization": f"Bearer {api_token(secret)}"}


def session_headers(session_secret: str, sender: str) -> dict[str, str]:
    """The `Authorization` header for REST messages to conversation `sender`, as a
    client holding that conversation's session token sends it (benchmarks, evaluation)."""
    _, token = SessionTokens(session_secret).issue(sender)
    return {"Authorization": f"Bearer {token}"}


def rasa_argv(options: Sequence[str], secret: str) -> list[str]:
    """`rasa run` with `options` and the JWT secret, for Rasa's argument parser only."""
    for option in options:
        if option.split("=", 1)[0] in SECRET_OPTIONS:
            raise ConfigurationError(
                f"{option.split('=', 1)[0]} puts a secret on the command line; "
                f"bot.rasa_server takes it from {TOKEN_ENV} in the environment instead."
            )
    if not secret:
        raise ConfigurationError(
            f"{TOKEN_ENV} is not set: Rasa's HTTP API would have no secret. `make run` sets "
            "a random one for each run; to start Rasa alone, export one."
        )
    # `--jwt-secret=…` in one word: a random secret may start with "-" (token_urlsafe),
    # and argparse would take a separate "-abc…" for an option and stop.
    return ["rasa", "run", *options, f"--jwt-secret={secret}", "--jwt-method", JWT_METHOD]


def main(options: Sequence[str] | None = None) -> int:
    """`rasa run` with `options` (default: this command's arguments) and the JWT secret."""
    given = sys.argv[1:] if options is None else options
    try:
        argv = rasa_argv(given, os.environ.get(TOKEN_ENV, ""))
    except ConfigurationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # Rasa parses sys.argv; the process's own command line (/proc/<pid>/cmdline, `ps`)
    # stays the one without the secret.
    sys.argv = argv
    # Sanic reads a whole request body before any handler runs, up to 100 MB by default;
    # nothing sent to this server is near 1 MiB (Sanic answers 413 beyond).
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    from bot import action_calls, replayed_turns
    from bot.turn_profile import install_from_environ
    from privacy import log_records

    log_records.install()  # no personal data in the logs
    # httpx logs every request's URL at INFO, and Telegram's Bot API URL holds the bot's
    # token: warnings only.
    for library in ("httpx", "httpcore"):
        logging.getLogger(library).setLevel(logging.WARNING)

    action_calls.install()  # validation compiled once, pooled connections to the actions
    no_tracker_store_fallback()
    replayed_turns.install()  # a message sent again is answered from its stored turn
    install_from_environ()  # per-stage timings, only when TURN_PROFILE names a file
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


def no_tracker_store_fallback() -> None:
    """Rasa wraps the tracker store in `FailSafeTrackerStore`, which, when the database
    fails, saves and loads in an in-memory store of this process instead: the customer
    gets an answer whose turn is stored nowhere, and each server's memory then holds a
    different conversation. Here a database failure fails the turn instead: the channels
    answer "please send it again" and nothing is split or lost."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain

    def tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
        if store is None:  # no tracker store configured: Rasa's own default
            return InMemoryTrackerStore(domain)
        store.domain = domain
        return store

    Agent._create_tracker_store = staticmethod(tracker_store)  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.exit(main())
