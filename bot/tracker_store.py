"""`UrlTrackerStore`: Rasa's SQL tracker store, configured by one database URL.

endpoints.yml names it as `type: bot.tracker_store.UrlTrackerStore`. The URL comes from
the endpoint's `url:` key, else the DATABASE_URL setting, else SQLite in DATA_DIR — so the
default run needs no database server, and production points DATABASE_URL at PostgreSQL:

    DATABASE_URL=postgresql://rasa:secret@db.internal:5432/rasa make run

A PostgreSQL database that does not exist yet is created on first start.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from core.database import normalize_database_url, prepare_database, redact
from core.settings import Settings

logger = logging.getLogger(__name__)


class UrlTrackerStore(SQLTrackerStore):
    """SQL tracker store taking a single SQLAlchemy URL (SQLite or PostgreSQL)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        url = normalize_database_url(host or Settings.load().database_url)
        prepare_database(url)
        logger.info("Tracker store: %s", redact(url))
        # SQLTrackerStore uses `host` as the complete URL when it contains "://".
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
