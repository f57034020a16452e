"""The storage layer on real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.errors import InvalidInput
from engine.settings import load_settings
from engine.store.base import LedgerBase
from engine.store.db import Database


class _Probe(LedgerBase):
    """A ledger table used only by these tests."""

    __tablename__ = "test_probe"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note: Mapped[str] = mapped_column(String(40))


def _roundtrip(db: Database) -> None:
    db.ensure_all()
    for ledger in ("paper", "live"):  # the probe is no part of the migrations
        _Probe.__table__.create(db.engine_for(ledger), checkfirst=True)
    with db.session("paper") as s:
        s.add(_Probe(note="paper row"))
    with db.session("live") as s:
        s.add(_Probe(note="live row"))
        s.add(_Probe(note="live row 2"))
    with db.session("paper") as s:
        assert [p.note for p in s.scalars(select(_Probe))] == ["paper row"]
    with db.session("live") as s:
        assert sorted(p.note for p in s.scalars(select(_Probe))) == ["live row", "live row 2"]


def test_sqlite_ledgers_are_separate_files(fresh_home):
    db = Database(load_settings())
    _roundtrip(db)
    assert (fresh_home / "ledger-paper.db").exists()
    assert (fresh_home / "ledger-live.db").exists()
    assert (fresh_home / "smart0dte.db").exists()
    db.dispose()


def test_postgres_ledgers_are_separate_schemas(postgres_url, pg_schema_prefix):
    db = Database(load_settings(database_url=postgres_url, database_schema_prefix=pg_schema_prefix))
    try:
        _roundtrip(db)
        assert db.schema_of("paper") == f"{pg_schema_prefix}paper"
        assert db.schema_of("live") == f"{pg_schema_prefix}live"
    finally:
        db.drop_schemas()
        db.dispose()


def test_unknown_ledger_is_refused_naming_the_field():
    db = Database(load_settings())
    with pytest.raises(InvalidInput) as err, db.session("demo"):
        pass
    assert err.value.field == "account"


def test_db_upgrade_command(fresh_home):
    from typer.testing import CliRunner

    from agent.cli.main import app

    result = CliRunner().invoke(app, ["db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert '"ok":true' in result.output
