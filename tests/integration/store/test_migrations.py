"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BLANK_SCHEMA, MetaData

from engine.settings import load_settings
from engine.store.base import LEDGER_SCHEMA, CommonBase, LedgerBase
from engine.store.db import Database, load_models
from engine.store.migrate import HERE, current_revision, upgrade_all, version_table

_TEST_ONLY = {"test_probe"}


def _diff(db: Database, ledger: str | None) -> list:
    # compare against the models as placed for this target (the "ledger" placeholder translated)
    source = CommonBase.metadata if ledger is None else LedgerBase.metadata
    schema = db.schema_of(ledger)
    # index names were derived from the placeholder schema ("ix_ledger_<table>_<col>"): keep them
    prefix = "ix_ledger_" if ledger else "ix_"
    meta = MetaData(naming_convention={**source.naming_convention,
                                       "ix": prefix + "%(table_name)s_%(column_0_name)s"})

    def referred(_table, _to, _constraint, referred_schema):
        if referred_schema == LEDGER_SCHEMA:
            return schema if schema is not None else BLANK_SCHEMA
        return referred_schema

    for table in source.tables.values():
        table.to_metadata(meta, schema=schema, referred_schema_fn=referred)

    def include(name, type_, _parent):
        if type_ == "schema":
            return name == schema
        return not (type_ == "table" and name in _TEST_ONLY)

    with db.engine_for(ledger).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "version_table": version_table(ledger), "version_table_schema": schema,
            "include_schemas": schema is not None, "include_name": include, "compare_type": True})
        return [d for d in compare_metadata(ctx, meta)
                if not (d[0] == "add_table" and d[1].name in _TEST_ONLY)]


def _check(db: Database) -> None:
    load_models()
    revisions = upgrade_all(db)
    has_scripts = any(any((HERE / kind / "versions").glob("*.py")) for kind in ("common", "ledger"))
    if has_scripts:
        assert all(revisions.values()), revisions
    for ledger in (None, "paper", "live"):
        assert _diff(db, ledger) == [], f"models and migrations differ for {ledger or 'common'}"
    assert current_revision(db, "paper") == current_revision(db, "live")


def test_migrations_match_models_sqlite(fresh_home):
    db = Database(load_settings())
    try:
        _check(db)
    finally:
        db.dispose()


def test_migrations_match_models_postgres(postgres_url, pg_schema_prefix):
    db = Database(load_settings(database_url=postgres_url, database_schema_prefix=pg_schema_prefix))
    try:
        _check(db)
    finally:
        db.drop_schemas()
        db.dispose()
