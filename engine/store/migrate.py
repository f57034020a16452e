"""Schema migrations with Alembic: two script trees, one for the common database and one for a
ledger (applied to paper and live alike, the ``ledger`` placeholder schema translated per target).

``smart0dte db upgrade`` calls :func:`upgrade_all`; :meth:`Database.ensure` calls
:func:`upgrade_target` lazily. A target already at head costs one small query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.store.base import LEDGER_SCHEMA, CommonBase, LedgerBase

if TYPE_CHECKING:
    from engine.store.db import Database

HERE = Path(__file__).parent / "migrations"


def _kind(ledger: str | None) -> str:
    return "common" if ledger is None else "ledger"


def version_table(ledger: str | None) -> str:
    return f"alembic_version_{_kind(ledger)}"


def alembic_config(db: Database, ledger: str | None) -> Config:
    kind = _kind(ledger)
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / kind))
    cfg.attributes["db"] = db
    cfg.attributes["ledger"] = ledger
    cfg.attributes["metadata"] = CommonBase.metadata if kind == "common" else LedgerBase.metadata
    return cfg


def _heads(cfg: Config) -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(cfg).get_heads())


def current_revision(db: Database, ledger: str | None) -> str | None:
    with db.engine_for(ledger).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "version_table": version_table(ledger), "version_table_schema": db.schema_of(ledger)})
        return ctx.get_current_revision()


@contextmanager
def schema_lock(db: Database) -> Iterator[None]:
    """One process at a time creates or migrates tables: a file lock beside the SQLite files, a
    session-level advisory lock on PostgreSQL. Without it, commands started together on a new
    state directory race to create the same tables."""
    if db.is_sqlite:
        import fcntl

        path = db.settings.path(".schema.lock")
        with open(path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    from sqlalchemy import text

    with db.engine_for(None).connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(72017161)"))
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(72017161)"))
            conn.commit()


@lru_cache(maxsize=2)
def _tree_heads(kind: str) -> tuple[str, ...]:
    """Heads of one script tree, read once per process (paper and live share the ledger tree)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / kind))
    return tuple(ScriptDirectory.from_config(cfg).get_heads())


def upgrade_target(db: Database, ledger: str | None) -> None:
    """Bring one target to head. A target already there costs one version query and no lock;
    otherwise the work runs under :func:`schema_lock` and is checked again there."""
    from engine.store.db import load_models

    load_models()
    heads = _tree_heads(_kind(ledger))
    if heads and current_revision(db, ledger) in heads:
        return
    with schema_lock(db):
        _upgrade_target(db, ledger)


def _upgrade_target(db: Database, ledger: str | None) -> None:
    from engine.store.db import load_models

    load_models()
    db.create_schema(ledger)
    cfg = alembic_config(db, ledger)
    heads = _heads(cfg)
    if not heads:  # no migration written yet for this tree: create what the models say
        meta = cfg.attributes["metadata"]
        meta.create_all(db.engine_for(ledger), checkfirst=True)
        return
    if current_revision(db, ledger) in heads:
        return
    with db.engine_for(ledger).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def upgrade_all(db: Database) -> dict[str, str | None]:
    """Migrate every target; returns each target's revision afterwards."""
    from engine.store.db import TARGETS

    out: dict[str, str | None] = {}
    for target in TARGETS:
        db.ensure(target)
        out[target or "common"] = current_revision(db, target)
    return out


def _scratch_engine(tmp: Path, ledger: str | None):
    """SQLite for diffing: the ledger file is ATTACHed under the placeholder schema name, so the
    generated operations keep ``schema='ledger'`` and apply to paper and live alike."""
    from sqlalchemy import create_engine, event

    eng = create_engine(f"sqlite:///{tmp / ('common.db' if ledger is None else 'ledger-main.db')}")
    if ledger is not None:
        @event.listens_for(eng, "connect")
        def _attach(dbapi_conn, _record) -> None:
            dbapi_conn.execute(f"ATTACH DATABASE '{tmp / 'ledger.db'}' AS {LEDGER_SCHEMA}")

    return eng


def autogenerate(message: str) -> list[Path]:
    """Write a new revision per tree whose models changed (developers run ``smart0dte db revision``).

    The diff is taken against a scratch SQLite database migrated to the current heads, so a
    revision holds only what changed since; a tree without changes gets no file.
    """
    import tempfile

    from engine.settings import load_settings
    from engine.store.db import Database, load_models

    load_models()
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(load_settings(home=Path(tmp), database_url=None))
        for ledger in (None, "paper"):
            cfg = alembic_config(db, ledger)
            cfg.attributes["autogenerate"] = True
            eng = _scratch_engine(Path(tmp), ledger)
            try:
                if _heads(cfg):
                    with eng.begin() as conn:
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "heads")
                with eng.begin() as conn:
                    cfg.attributes["connection"] = conn
                    script = command.revision(cfg, message=message, autogenerate=True)
            finally:
                eng.dispose()
            path = Path(script.path)  # type: ignore[union-attr]
            if "op." not in path.read_text().split("def downgrade")[0]:
                path.unlink()  # nothing changed in this tree
                continue
            written.append(path)
    return written
