"""Database access: one common database plus one ledger per trading mode (paper, live).

SQLite (default): ``HOME/smart0dte.db`` for common tables and ``HOME/ledger-paper.db`` /
``HOME/ledger-live.db`` for the ledgers — separate files, so a paper row can never be read as live.
PostgreSQL (``SMART0DTE_DATABASE_URL=postgresql+psycopg://…``): one database, ledgers in schemas
``paper`` and ``live`` (``SMART0DTE_DATABASE_SCHEMA_PREFIX`` prefixes every schema, which tests use
to isolate runs). The mapping is SQLAlchemy's ``schema_translate_map`` on the placeholder schema
``ledger`` (see :mod:`engine.store.base`), so models are written once.

Tables are created or migrated on first use of each target (:meth:`Database.ensure`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.core.errors import InvalidInput
from engine.settings import Settings
from engine.store.base import LEDGER_SCHEMA, CommonBase, Ledger, LedgerBase

#: Modules that define models; importing them fills the two metadata objects.
MODEL_MODULES: list[str] = [
    "engine.store.audit",
    "engine.execution.models",
    "engine.tax.models",
]

TARGETS = (None, Ledger.PAPER.value, Ledger.LIVE.value)


def load_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:  # a part that has not landed defines no tables yet
            if err.name != name:
                raise


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def check_ledger(ledger: str | None) -> str | None:
    if ledger is None:
        return None
    value = str(ledger).lower()
    if value not in (Ledger.PAPER.value, Ledger.LIVE.value):
        raise InvalidInput(f"account must be paper or live, not {ledger!r}", field="account")
    return value


class Database:
    """Engines and sessions for the common database and the two ledgers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.database_url or f"sqlite:///{settings.path('smart0dte.db')}"
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.schema_prefix = settings.database_schema_prefix
        self._engines: dict[str | None, Engine] = {}
        self._makers: dict[str | None, sessionmaker[Session]] = {}
        self._ready: set[str | None] = set()
        self._lock = threading.RLock()

    # --- engines ------------------------------------------------------------------------------
    def schema_of(self, ledger: str | None) -> str | None:
        """The PostgreSQL schema holding ``ledger`` (``None`` = common); ``None`` on SQLite."""
        if self.is_sqlite:
            return None
        if ledger is None:
            return f"{self.schema_prefix}common" if self.schema_prefix else None
        return f"{self.schema_prefix}{ledger}"

    def _sqlite_url(self, ledger: str | None) -> str:
        if ledger is None:
            return self.url
        url = make_url(self.url)
        base = Path(url.database or "smart0dte.db")
        return str(url.set(database=str(base.with_name(f"ledger-{ledger}.db"))))

    def engine_for(self, ledger: str | None = None) -> Engine:
        ledger = check_ledger(ledger)
        with self._lock:
            eng = self._engines.get(ledger)
            if eng is not None:
                return eng
            if self.is_sqlite:
                eng = create_engine(self._sqlite_url(ledger), future=True)
                event.listen(eng, "connect", _sqlite_pragmas)
                eng = eng.execution_options(schema_translate_map={LEDGER_SCHEMA: None})
            else:
                root = self._engines.get("__root__") or create_engine(
                    self.url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)
                self._engines["__root__"] = root  # type: ignore[index]
                eng = root.execution_options(schema_translate_map={
                    LEDGER_SCHEMA: self.schema_of(ledger or Ledger.PAPER.value),
                    None: self.schema_of(None)})
            self._engines[ledger] = eng
            return eng

    # --- schema -------------------------------------------------------------------------------
    def ensure(self, ledger: str | None = None) -> None:
        """Create or migrate the tables of one target (idempotent, once per process)."""
        ledger = check_ledger(ledger)
        if ledger in self._ready:
            return
        with self._lock:
            if ledger in self._ready:
                return
            from engine.store.migrate import upgrade_target

            upgrade_target(self, ledger)
            self._ready.add(ledger)

    def ensure_all(self) -> None:
        for target in TARGETS:
            self.ensure(target)

    def create_tables(self, metadata: MetaData, ledger: str | None = None) -> Engine:
        """Create the tables of a layer above the engine (chat memory, API users, UI threads) in the
        common database or a ledger: idempotent, and serialized across processes with the
        migrations' lock so commands started together on a new state directory never race."""
        from engine.store.migrate import schema_lock

        self.ensure(ledger)
        eng = self.engine_for(ledger)
        with schema_lock(self):
            metadata.create_all(eng, checkfirst=True)
        return eng

    def create_schema(self, ledger: str | None) -> None:
        schema = self.schema_of(ledger)
        if schema is None:
            return
        root = self.engine_for(ledger)
        with root.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

    # --- sessions -----------------------------------------------------------------------------
    @contextmanager
    def session(self, ledger: str | None = None) -> Iterator[Session]:
        """A session on the common database (``None``) or a ledger; commits on success."""
        ledger = check_ledger(ledger)
        self.ensure(ledger)
        maker = self._makers.get(ledger)
        if maker is None:
            maker = sessionmaker(self.engine_for(ledger), expire_on_commit=False, future=True)
            self._makers[ledger] = maker
        with maker() as sess:
            try:
                yield sess
                sess.commit()
            except BaseException:
                sess.rollback()
                raise

    def drop_schemas(self) -> None:
        """PostgreSQL only: drop this prefix's schemas (tests clean up with it)."""
        if self.is_sqlite or not self.schema_prefix:
            return
        with self.engine_for(None).begin() as conn:
            for target in TARGETS:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema_of(target)}" CASCADE'))

    def dispose(self) -> None:
        for eng in {id(e): e for e in self._engines.values()}.values():
            eng.dispose()
        self._engines.clear()
        self._makers.clear()
        self._ready.clear()


__all__ = ["Database", "MODEL_MODULES", "load_models", "CommonBase", "LedgerBase", "Ledger", "check_ledger"]
