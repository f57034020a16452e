"""Persistence of imported trades (tables in :mod:`engine.tax.models`, live ledger only).

An import is one transaction: the file's row in ``tax_imports`` and its new trades, or nothing.
Re-importing the same file (same SHA-256) adds nothing; a different file repeating executions
already stored (overlapping IB statements) adds only the new ones (unique ``key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.store.base import Ledger
from engine.tax.imports import ParsedFile
from engine.tax.models import TaxImport, TaxTradeRow
from engine.tax.securities import classify
from engine.tax.trades import Side, TaxTrade

LEDGER = Ledger.LIVE.value
_CHUNK = 500


@dataclass(slots=True)
class ImportResult:
    file: str
    kind: str
    imported: int
    duplicates: int
    paper_rows: int
    skipped_rows: int
    already_imported: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "kind": self.kind, "imported": self.imported,
                "duplicates": self.duplicates, "paper_rows_ignored": self.paper_rows,
                "rows_skipped": self.skipped_rows, "already_imported": self.already_imported}


class TradeStore:
    """Imported trades of the live ledger. ``db`` is an :class:`engine.store.db.Database`."""

    def __init__(self, db, settings) -> None:
        self.db = db
        self.settings = settings

    def add(self, parsed: ParsedFile) -> ImportResult:
        result = ImportResult(parsed.name, parsed.kind, 0, 0, parsed.paper_rows, parsed.skipped_rows)
        with self.db.session(LEDGER) as s:
            if s.scalar(select(TaxImport.id).where(TaxImport.sha256 == parsed.sha256)) is not None:
                result.already_imported = True
                result.duplicates = len(parsed.trades)
                return result
            keys = [p.key for p in parsed.trades]
            known: set[str] = set()
            for i in range(0, len(keys), _CHUNK):
                known.update(s.scalars(select(TaxTradeRow.key).where(TaxTradeRow.key.in_(keys[i:i + _CHUNK]))))
            imp = TaxImport(sha256=parsed.sha256, file_name=parsed.name[:255], kind=parsed.kind)
            s.add(imp)
            s.flush()
            rows = []
            for p in parsed.trades:
                if p.key in known:
                    result.duplicates += 1
                    continue
                known.add(p.key)
                t = p.trade
                rows.append({"import_id": imp.id, "key": p.key, "ts": t.ts.isoformat(), "account": t.account,
                             "symbol": t.symbol, "side": t.side.value, "quantity": t.quantity,
                             "price": str(t.price), "fees": str(t.fees), "source": t.source, "ref": t.ref[:300]})
            if rows:
                try:
                    s.execute(insert(TaxTradeRow), rows)
                except IntegrityError:
                    raise InvalidInput(f"{parsed.name}: another import stored some of these trades at the "
                                       "same time; nothing was imported from this file, run it again",
                                       field="file") from None
            imp.trades = len(rows)
            result.imported = len(rows)
        return result

    def load(self, overrides: dict[str, bool] | None = None) -> list[TaxTrade]:
        """Every stored trade (classified with today's §1256 table)."""
        with self.db.session(LEDGER) as s:
            rows = s.execute(select(TaxTradeRow.ts, TaxTradeRow.account, TaxTradeRow.symbol, TaxTradeRow.side,
                                    TaxTradeRow.quantity, TaxTradeRow.price, TaxTradeRow.fees,
                                    TaxTradeRow.source, TaxTradeRow.ref).order_by(TaxTradeRow.id)).all()
        return [TaxTrade(datetime.fromisoformat(ts).astimezone(NY), acct, sym, Side(side), qty, Decimal(px), Decimal(fee),
                         classify(sym, overrides), src, ref)
                for ts, acct, sym, side, qty, px, fee, src, ref in rows]

    def count(self) -> int:
        with self.db.session(LEDGER) as s:
            return int(s.scalar(select(func.count(TaxTradeRow.id))) or 0)
