"""Tables of the tax part, in the LIVE ledger only (``LedgerBase``; the service never opens them
on the paper ledger, so a paper row cannot become taxable).

* ``tax_imports`` — one row per imported file (its SHA-256 makes a re-import a no-op);
* ``tax_trades`` — the imported trades, exactly as validated. Money and prices are stored as
  decimal strings (exact on SQLite and PostgreSQL alike); ``ts`` is the ISO 8601 instant with its
  offset. ``key`` dedupes the same execution across files (IB execution id, or the row's fields and
  occurrence number for the project CSV).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import LedgerBase


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TaxImport(LedgerBase):
    __tablename__ = "tax_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    trades: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class TaxTradeRow(LedgerBase):
    __tablename__ = "tax_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("ledger.tax_imports.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    ts: Mapped[str] = mapped_column(String(40))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[str] = mapped_column(String(32))
    fees: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(300))
