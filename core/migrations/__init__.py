"""Schema migrations of the store database (Alembic): sample store, handoff queue, accounts.

Every table the project itself owns lives in the database at STORE_URL (SQLite by
default, PostgreSQL by URL) and is created and changed only by the revisions in
`core/migrations/versions/`: one linear chain, numbered 0001, 0002, ... Revision 0001 is
the schema as `create_all` made it before migrations existed. Rasa's tracker store
(DATABASE_URL) is not ours and is not migrated here.

When they run: `make setup` upgrades the database (step "==> Database schema at revision
..."), and so does every process on first opening it (`core.database.Database` for the
handoff queue and console accounts, `bot.store.SupportStore` for the sample store), so a
new version of the code upgrades an installation on its first start.

    >>> from core.database import create_engine
    >>> upgrade(create_engine("sqlite:///data/runtime/store.db"))
    SchemaUpgrade(before=None, after='0001', adopted=True)

Safety:
  - A database made before migrations (tables, no `alembic_version`) is adopted at 0001
    with every row kept; 0001 creates only the tables it lacks.
  - Processes starting together (action server, web front) serialize on a lock held by
    the upgrade's single transaction: `pg_advisory_xact_lock` on PostgreSQL, `BEGIN
    IMMEDIATE` on SQLite. The second finds the work done. A failed upgrade changes nothing.
  - A database at a revision this code does not know (upgraded by a newer version)
    raises `SchemaError` (a `ConfigurationError`) naming the revision and the fix.

Adding a migration, when a model in `bot/store/schema.py`, `routing/queue.py` or
`routing/accounts.py` changes:

    make migration MSG="add consent table"
    # = python -m core.migrations revision -m "add consent table" --autogenerate \\
    #     --metadata bot.store.schema:metadata --metadata routing.queue:metadata \\
    #     --metadata routing.accounts:metadata

then read the new `versions/000N_add_consent_table.py` and make it self-contained
(explicit columns; never import the models: a migration records history, the models
show today), add data migrations by hand, and run `tests/core/test_migrations.py`, which
fails while the head revision and the models differ. On SQLite, alter tables with
`op.batch_alter_table` (autogenerate writes it). `python -m core.migrations current` and
`upgrade` show and apply the revision of STORE_URL's database.
"""

from __future__ import annotations

from core.migrations.runner import (
    BASELINE,
    SchemaError,
    SchemaUpgrade,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)

__all__ = [
    "BASELINE",
    "SchemaError",
    "SchemaUpgrade",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
]
