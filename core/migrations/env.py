"""Alembic's environment for the store database, run by `core.migrations` on each command.

`core.migrations.runner` always hands a connection in `config.attributes["connection"]`,
already inside a transaction that holds the migration lock, so every revision of one
upgrade commits together or not at all. `target_metadata` is set only for
`revision --autogenerate`.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "core/migrations/env.py needs a connection: run migrations with "
        "`python -m core.migrations` or `core.migrations.upgrade(engine)`, not `alembic`."
    )

context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    # SQLite cannot ALTER most things: autogenerate writes batch operations there.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
