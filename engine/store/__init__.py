"""Storage: SQLAlchemy models and sessions, migrations, the paper/live ledgers, the audit log."""

from engine.store.base import CommonBase, Ledger, LedgerBase
from engine.store.db import Database

__all__ = ["CommonBase", "Database", "Ledger", "LedgerBase"]
