"""Alembic environment of the common tree (see engine.store.migrations.environment)."""

from engine.store.migrations.environment import run

run()
