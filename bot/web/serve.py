"""The web front as its own process serves it: `uvicorn bot.web.serve:create_app --factory`.

The process's log records are redacted (`privacy.log_records`) before the app is built;
tests build `bot.web.app.create_app` directly and keep their logging as it is.
"""

from __future__ import annotations

from starlette.applications import Starlette

from bot.web import app
from core.settings import Settings
from privacy import log_records


def create_app(settings: Settings | None = None) -> Starlette:
    log_records.install()  # no personal data in the logs
    return app.create_app(settings)
