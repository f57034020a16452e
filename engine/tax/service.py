"""``TaxService``: the tax part's facade (imports, the yearly report, exports, what-if).

Trades come from two places, never from paper:

* files imported with :meth:`TaxService.import_file` (project CSV, IB Flex XML/CSV), stored in
  the live ledger (:mod:`engine.tax.store`);
* the live ledger's own fills, through ``engine.execution.ledger_export.ledger_trades(db, "live")``
  (rows shaped like the CSV's) — unless ``SMART0DTE_TAX__INCLUDE_LIVE_LEDGER=false``.

Every report replays all years (a December loss can be washed by a January purchase; a §1256 mark
changes next year's basis), then keeps the asked year's rows. The async methods are the engine
contract (``Engine.tax_report``/``tax_whatif`` await them); ``*_sync`` twins serve the CLI and
code that is not in an event loop.
"""

from __future__ import annotations

import asyncio
import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.tax.imports import read_file
from engine.tax.matching import run_walk
from engine.tax.plan import Planner
from engine.tax.report import TaxReport, build_report
from engine.tax.trades import Side, TaxTrade, make_trade
from engine.tax.washsale import ScanFinder
from engine.tax.whatif import WashSaleWarning, check_trade

if TYPE_CHECKING:
    from engine.tax.store import ImportResult, TradeStore

FORMS = ("8949", "6781", "schedule-d")


class TaxService:
    """Tax lots, wash sales, §1256 and forms for the live accounts of one taxpayer."""

    def __init__(self, settings, db=None) -> None:
        self.settings = settings
        self.config = settings.tax
        self._db = db
        self._own_db = db is None

    @property
    def db(self):
        if self._db is None:
            from engine.store.db import Database

            self._db = Database(self.settings)
        return self._db

    def close(self) -> None:
        """Release the database connections this service opened itself (not a shared ``db``)."""
        if self._db is not None and self._own_db:
            self._db.dispose()

    @property
    def store(self) -> TradeStore:
        from engine.tax.store import TradeStore  # SQLAlchemy only when there is something stored

        return TradeStore(self.db, self.settings)

    def has_ledger(self) -> bool:
        """False on a fresh SQLite home (no live ledger file): nothing to read, no DB to create."""
        return self.settings.database_url is not None or (self.settings.home / "ledger-live.db").exists()

    # --- trades --------------------------------------------------------------------------------
    def ledger_trades(self) -> list[TaxTrade]:
        """Fills of the live ledger as tax trades (empty until the execution part provides them)."""
        if not self.config.include_live_ledger or not self.has_ledger():
            return []
        try:
            from engine.execution.ledger_export import ledger_trades
        except ModuleNotFoundError as err:
            if err.name != "engine.execution.ledger_export":
                raise
            return []
        out = []
        for i, row in enumerate(ledger_trades(self.db, "live"), start=1):
            if self.config.is_paper(str(row.get("account", ""))):
                continue
            ref = f"live ledger fill {row.get('id') or row.get('fill_id') or i}"
            try:
                out.append(make_trade(datetime_=row["datetime"], account=row.get("account") or "live",
                                      symbol=row["symbol"], side=row["side"], quantity=row["quantity"],
                                      price=row["price"], fees=row.get("fees", 0), source="ledger", ref=ref,
                                      overrides=self.config.section_1256))
            except InvalidInput as err:
                raise InvalidInput(f"{ref}: {err.message}", field=err.field) from None
        return drop_deliveries(out)

    def trades(self) -> list[TaxTrade]:
        """Imported trades plus live-ledger fills (paper accounts are dropped by the walk too)."""
        if not self.has_ledger():
            return []
        return [*self.store.load(self.config.section_1256), *self.ledger_trades()]

    # --- sync API ------------------------------------------------------------------------------
    def import_file_sync(self, path: str | Path) -> ImportResult:
        """Validate the whole file (rows, then against the book: no expiring what is not open),
        then store it in one transaction. Raises :class:`InvalidInput` naming the row."""
        parsed = read_file(path, self.config)
        book = self.trades()
        # Planning is cheap and catches EXPIRE/ASSIGN/EXERCISE of positions that are not open.
        Planner(self.config, self.config.wash_sale_matching, ScanFinder()).plan(
            [*book, *(p.trade for p in parsed.trades)])
        return self.store.add(parsed)

    def report_sync(self, year: int, wash_sale_matching: str | None = None, *, lot_method: str | None = None,
                    as_of: datetime | None = None, marks: dict[str, Decimal] | None = None) -> TaxReport:
        year = _year(year)
        matching = wash_sale_matching or self.config.wash_sale_matching
        today = (as_of or datetime.now(NY)).date()
        walk = run_walk(self.trades(), self.config, matching=matching, lot_method=lot_method, as_of=today,
                        marks=marks)
        return build_report(walk.dispositions, year, matching, self.config.basis_reported_to_irs)

    def export_sync(self, year: int, form: str, out: str | Path, wash_sale_matching: str | None = None) -> Path:
        from engine.tax.export import write_form

        if form not in FORMS:
            raise InvalidInput(f"form must be one of {', '.join(FORMS)}, not {form!r}", field="form")
        report = self.report_sync(year, wash_sale_matching)
        path = Path(out).expanduser()
        if path.parent and not path.parent.exists():
            raise InvalidInput(f"folder {path.parent} does not exist", field="out")
        with path.open("w", newline="", encoding="utf-8") as fh:
            write_form(report, form, csv.writer(fh))
        return path

    def whatif_sync(self, symbol: str, quantity: int, price: object, account: str = "live", *,
                    side: str | None = None, when: datetime | None = None,
                    wash_sale_matching: str | None = None, lot_method: str | None = None,
                    lots: list[date] | None = None) -> WashSaleWarning | None:
        """Would this trade be (or cause) a wash sale? ``quantity`` > 0 with no ``side`` means SELL
        (the question "what if I sell this now?"); a negative quantity means BUY; an explicit
        ``side`` (BUY/SELL) wins and the quantity's sign is then ignored. ``when`` defaults to now
        (pass the market clock's time in simulation); ``lot_method`` (fifo/lifo/hifo) and ``lots``
        (purchase days to sell first: specific identification) plan which lots a sale closes."""
        q = int(quantity)
        if q == 0:
            raise InvalidInput("quantity must not be zero", field="quantity")
        chosen = (side or ("SELL" if q > 0 else "BUY")).upper()
        if chosen not in ("BUY", "SELL"):
            raise InvalidInput(f"side must be BUY or SELL, not {side!r}", field="side")
        return check_trade(self.trades(), self.config, symbol=symbol, quantity=abs(q), price=price,
                           account=str(account).lower(), side=chosen, when=when or datetime.now(NY),
                           matching=wash_sale_matching, lot_method=lot_method, lots=lots)

    # --- async contract (Engine facade) ---------------------------------------------------------
    async def import_file(self, path: str | Path) -> int:
        return (await asyncio.to_thread(self.import_file_sync, path)).imported

    async def report(self, year: int, wash_sale_matching: str | None = None) -> TaxReport:
        return await asyncio.to_thread(self.report_sync, year, wash_sale_matching)

    async def export(self, year: int, form: str, out: str | Path, wash_sale_matching: str | None = None) -> Path:
        return await asyncio.to_thread(self.export_sync, year, form, out, wash_sale_matching)

    async def whatif(self, symbol: str, quantity: int, price: object, account: str = "live",
                     **options: object) -> WashSaleWarning | None:
        """See :meth:`whatif_sync` (options: side, when, wash_sale_matching, lot_method, lots)."""
        return await asyncio.to_thread(self.whatif_sync, symbol, quantity, price, account, **options)


def drop_deliveries(trades: list[TaxTrade]) -> list[TaxTrade]:
    """Drop the stock row a ledger books after a physically settled ASSIGN/EXERCISE.

    The tax contract's ASSIGN/EXERCISE row creates the stock trade itself (at the strike, premium
    folded in); a source that also lists the stock delivery (same instant, the underlying,
    contracts x multiplier shares at the strike) would count it twice.
    """
    pending: list[tuple] = []
    out: list[TaxTrade] = []
    for t in trades:
        sec = t.security
        if t.side in (Side.ASSIGN, Side.EXERCISE) and sec.is_option and not sec.cash_settled:
            buys = (t.side is Side.ASSIGN) != sec.is_call
            pending.append((t.ts, t.account, sec.underlying, t.quantity * sec.multiplier,
                            Side.BUY if buys else Side.SELL, sec.strike))
            out.append(t)
            continue
        key = (t.ts, t.account, t.symbol, t.quantity, t.side, t.price)
        if pending and key in pending:
            pending.remove(key)
            continue
        out.append(t)
    return out


def _year(year: object) -> int:
    try:
        y = int(year)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(f"year {year!r} is not a number", field="year") from None
    if not 1990 <= y <= 2200:
        raise InvalidInput(f"year {y} is out of range", field="year")
    return y
