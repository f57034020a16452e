"""The Alembic environment both script trees share; the connection, metadata and target come
from :mod:`engine.store.migrate` through the config's attributes."""

from __future__ import annotations

from alembic import context

from engine.store.migrate import version_table


def run() -> None:
    cfg = context.config
    db = cfg.attributes["db"]
    ledger = cfg.attributes["ledger"]

    def _run(connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=cfg.attributes["metadata"],
            version_table=version_table(ledger),
            version_table_schema=db.schema_of(ledger),
            render_as_batch=db.is_sqlite,
            compare_type=True,
            include_schemas=bool(cfg.attributes.get("autogenerate")),
        )
        with context.begin_transaction():
            context.run_migrations()

    conn = cfg.attributes.get("connection")
    if conn is not None:
        _run(conn)
    else:
        with db.engine_for(ledger).begin() as connection:
            _run(connection)
