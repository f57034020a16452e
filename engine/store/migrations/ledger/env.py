"""Alembic environment of the ledger tree (see engine.store.migrations.environment)."""

from engine.store.migrations.environment import run

run()
