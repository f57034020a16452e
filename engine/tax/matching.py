"""Step two of the tax walk: lots, gains, wash sales and §1256 marks, in time order.

:func:`run_walk` takes validated trades (every year: earlier years' washes and marks change later
bases) and returns every :class:`~engine.tax.lots.Disposition`. Rules, with their sources:

* Basis and proceeds (IRC §1012, §1001): a purchase's basis is price × quantity × multiplier plus
  its fees; a sale's amount realized is that minus its fees. A trade that closes several lots
  splits its proceeds pro rata.
* Lot choice: FIFO unless the shares are adequately identified (Treas. Reg. §1.1012-1(c)); LIFO and
  highest-cost-first are offered as specific identification.
* Holding period (IRC §1222, §1223): long-term when sold after the calendar anniversary of the
  day of acquisition (Rev. Rul. 66-7: the holding period starts the day after purchase). A short
  sale closed, and a written option closed or expired, is short-term (IRC §1233(b), §1234(b)).
* Wash sales (IRC §1091, Treas. Reg. §1.1091-1/-2, see :mod:`engine.tax.washsale`): the disallowed
  loss is reported with code W in column (g) and added to the replacement's basis, whose holding
  period then includes the sold lot's (§1223(3)); gains are never washed; a replacement in an IRA
  disallows the loss permanently with no basis increase (Rev. Rul. 2008-5). Losses inside an IRA
  are not reported at all.
* Options (Pub 550, "Options"; IRC §1234): expiry = sale at $0 (long) or a gain of the premium
  (short); on assignment/exercise the premium adjusts the stock's proceeds (call assigned:
  + premium; put exercised: − premium paid) or basis (put assigned: − premium; call exercised: +
  premium paid) and is not reported on its own.
* Section 1256 (IRC §1256(a)): no wash-sale treatment; positions open at the end of a finished
  year are marked to market at the year's last trade price (or ``year_end_marks``) and their
  basis becomes that mark for the next year.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from engine.core.errors import InvalidInput
from engine.core.money import CENT, ZERO
from engine.tax.config import TaxConfig
from engine.tax.explain import usd
from engine.tax.lots import Disposition, Origin, Piece, WashLink, share
from engine.tax.plan import Op, Planner, group_key
from engine.tax.trades import TaxTrade
from engine.tax.washsale import FINDERS


def anniversary(day: date) -> date:
    """The same calendar day one year later (28 February for a 29 February start)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def is_long_term(acquired: date, sold: date) -> bool:
    """More than one year: sold after the calendar anniversary of the acquisition (IRC §1222)."""
    return sold > anniversary(acquired)


class Position:
    """Open lots of one (account, security), all in one direction."""

    __slots__ = ("lots", "direction", "units")

    def __init__(self) -> None:
        self.lots: deque[Origin] = deque()
        self.direction = 0
        self.units = 0


@dataclass(slots=True)
class WalkResult:
    dispositions: list[Disposition]
    positions: dict[tuple[str, str], Position]
    ops: list[Op] = field(default_factory=list)  # only with keep_ops (what-if needs them)


class Walk:
    """The chronological walk. ``impl``: ``fast`` (indexed finder) or ``reference`` (scan)."""

    def __init__(self, config: TaxConfig, matching: str | None = None, lot_method: str | None = None,
                 impl: str = "fast", as_of: date | None = None,
                 marks: dict[str, Decimal] | None = None, picks: dict[str, list[date]] | None = None) -> None:
        self.config = config
        self.picks = picks or {}  # trade ref -> acquisition days to close first (specific identification)
        self.keep_ops = False
        self.matching = matching or config.wash_sale_matching
        if self.matching not in ("identical", "underlying"):
            raise InvalidInput(f"wash_sale_matching must be identical or underlying, not {self.matching!r}",
                               field="wash_sale_matching")
        self.lot_method = lot_method or config.lot_method
        if self.lot_method not in ("fifo", "lifo", "hifo"):
            raise InvalidInput(f"lot_method must be fifo, lifo or hifo, not {self.lot_method!r}",
                               field="lot_method")
        self.finder = FINDERS[impl]()
        self.as_of = as_of
        self.marks = {**config.year_end_marks, **(marks or {})}
        self.positions: dict[tuple[str, str], Position] = {}
        self.out: list[Disposition] = []
        self._last_price: dict[str, Decimal] = {}
        self._open_1256: set[tuple[str, str]] = set()

    def run(self, trades: Iterable[TaxTrade]) -> WalkResult:
        ops = Planner(self.config, self.matching, self.finder, self.as_of).plan(trades)
        year = ops[0].ts.year if ops else None
        for op in ops:
            if op.ts.year != year:
                self._year_end(year, op.ts.year)
                year = op.ts.year
            self._apply(op)
        if year is not None and self.as_of is not None:
            self._year_end(year, self.as_of.year)
        return WalkResult(self.out, self.positions, ops if self.keep_ops else [])

    # --- one op --------------------------------------------------------------------------------
    def _apply(self, op: Op) -> None:
        if op.kind in ("trade", "stock") and op.price:
            self._last_price[op.sec.symbol] = op.price
        gross = (op.price * op.units).quantize(CENT)
        # bought: cost incl. fees; sold: amount realized net of fees; fold = premium moved in (+/-)
        total = gross + (op.fees if op.direction > 0 else -op.fees) + op.fold
        closing = share(total, op.close_units, op.units) if op.close_units else ZERO
        if op.close_units:
            pieces = self._close(op, op.close_units)
            if op.kind in ("assign", "exercise"):
                self._fold(op, pieces)
            else:
                self._dispose(op, pieces, closing)
        if op.origin is not None:
            op.origin.note = op.note
            op.origin.open(total - closing)
            self._hold(op.origin)

    def _hold(self, origin: Origin) -> None:
        pos = self._position_of(origin.account, origin.sec.symbol)
        pos.lots.append(origin)
        pos.direction = origin.direction
        pos.units += origin.units
        if origin.sec.section_1256:
            self._open_1256.add((origin.account, origin.sec.symbol))

    def _position_of(self, account: str, symbol: str) -> Position:
        pos = self.positions.get((account, symbol))
        if pos is None:
            pos = self.positions[(account, symbol)] = Position()
        return pos

    def _close(self, op: Op, units: int) -> list[tuple[Origin, Piece]]:
        pos = self._position_of(op.account, op.sec.symbol)
        out: list[tuple[Origin, Piece]] = []
        pos.units -= units
        pick = self.picks.get(op.ref) if self.picks else None
        while units:
            lots = pos.lots
            if pick and (chosen := _specific(lots, pick)) is not None:
                lot = chosen
            elif self.lot_method == "fifo":
                lot = lots[0]
            elif self.lot_method == "lifo":
                lot = lots[-1]
            else:  # highest cost per unit first (a short: highest proceeds first)
                lot = max(lots, key=Origin.unit_cost)
            take = min(units, lot.open_units)
            out.extend((lot, p) for p in lot.close(take))
            units -= take
            if lot.open_units == 0:
                if lots[0] is lot:
                    lots.popleft()
                elif lots[-1] is lot:
                    lots.pop()
                else:
                    lots.remove(lot)
        if pos.units == 0:
            self._open_1256.discard((op.account, op.sec.symbol))
        return out

    def _fold(self, op: Op, pieces: list[tuple[Origin, Piece]]) -> None:
        """Assignment/exercise: the option's net premium moves into the stock op."""
        if op.direction > 0:   # a short option bought back by assignment: premium received, net of W
            premium = sum((p.amount - p.adj for _, p in pieces), ZERO)
        else:                  # a long option exercised: premium paid incl. wash adjustments
            premium = sum((p.amount + p.adj for _, p in pieces), ZERO)
        stock = op.stock
        assert stock is not None
        # stock bought: basis + premium paid (call exercised) or - premium received (put assigned);
        # stock sold: proceeds + premium received (call assigned) or - premium paid (put exercised)
        received = op.direction > 0
        stock.fold = (-premium if received else premium) if stock.direction > 0 else (
            premium if received else -premium)
        what = f"{'call' if op.sec.is_call else 'put'} {'assigned' if received else 'exercised'} {op.ts.date()}"
        where = "basis" if stock.direction > 0 else "proceeds"
        sign = "added to" if stock.fold > 0 else "taken off"
        stock.note = f"{what}: premium {usd(premium)} of {op.sec.symbol} {sign} the stock's {where} (Pub 550)"

    def _dispose(self, op: Op, pieces: list[tuple[Origin, Piece]], amount: Decimal) -> None:
        """Close pieces against ``amount`` (proceeds of a sale, or the cost of buying back)."""
        rest, left = amount, op.close_units
        day = op.ts.date()
        kind = "expire" if op.kind == "expire" else "sale"
        made: list[Disposition] = []
        for lot, p in pieces:
            part = share(rest, p.units, left)
            rest -= part
            left -= p.units
            if lot.direction > 0:
                made.append(Disposition(op.seq, op.account, op.sec, 1, p.units, p.hold_start or lot.day, day,
                                        part, p.amount + p.adj, kind, lot.day, lot, carried=p.links,
                                        carried_adj=p.adj, note=_join(lot.note, op.note), ira=lot.ira))
            else:
                made.append(Disposition(op.seq, op.account, op.sec, -1, p.units, day, day, p.amount, part + p.adj,
                                        kind, lot.day, lot, carried=p.links, carried_adj=p.adj,
                                        note=_join(lot.note, op.note), ira=lot.ira))
        self.out.extend(made)
        if op.sec.section_1256:
            return
        for d in made:
            if d.cost > d.proceeds and not d.ira:
                self._wash(d)

    def _wash(self, d: Disposition) -> None:
        loss, need, day, sym, acct = d.cost - d.proceeds, d.units, d.date_sold, d.sec.symbol, d.account
        origin = d.origin
        key = origin.group if origin is not None else group_key(d.sec, d.direction, self.matching)
        taken = 0
        for lot in self.finder.candidates(key, day, origin):
            avail = lot.open_units - lot.tagged_open
            take = need - taken if avail > need - taken else avail
            taken += take
            amount = loss - d.disallowed if taken == need else share(loss, take, need)
            link = WashLink(sym, acct, day, lot.sec.symbol, lot.account, lot.day, lot.sec.multiplier, take, amount,
                            lot.ira, lot.direction < 0, lot.seq)
            self._carry(lot, take, amount, link, d)
            if d.washes is None:
                d.washes = [link]
            else:
                d.washes.append(link)
            d.disallowed += amount
            if taken == need:
                break

    def _carry(self, lot: Origin, units: int, amount: Decimal, link: WashLink, d: Disposition) -> None:
        """Move the disallowed loss into the replacement pieces (not for an IRA: Rev. Rul. 2008-5)."""
        pieces = lot.tag(units)
        if lot.ira:
            return
        held = (d.date_sold - d.date_acquired).days if d.direction > 0 else 0
        start = lot.day - timedelta(days=held)
        rest, left = amount, units
        for p in pieces:
            part = rest if p.units == left else share(rest, p.units, left)
            rest -= part
            left -= p.units
            p.adj += part
            if d.direction > 0:
                p.hold_start = start
            p.links = [*p.links, link] if p.links else [link]

    # --- §1256 year end -------------------------------------------------------------------------
    def _year_end(self, year: int | None, next_year: int) -> None:
        """Mark open §1256 positions to market at the end of each finished year (IRC §1256(a))."""
        if year is None:
            return
        for y in range(year, next_year):
            for key in sorted(self._open_1256):
                self._mark(key, y)

    def _mark(self, key: tuple[str, str], year: int) -> None:
        account, symbol = key
        pos = self.positions[key]
        price = self.marks.get(f"{year}:{symbol}", self._last_price.get(symbol, ZERO))
        end = date(year, 12, 31)
        for lot in pos.lots:
            for p in lot.pieces[lot.head:]:
                value = (Decimal(price) * p.units).quantize(CENT)
                if lot.direction > 0:
                    d = Disposition(-1, account, lot.sec, 1, p.units, p.hold_start or lot.day, end, value,
                                    p.amount + p.adj, kind="mtm", opened_on=lot.day, origin=lot)
                else:
                    d = Disposition(-1, account, lot.sec, -1, p.units, end, end, p.amount, value + p.adj,
                                    kind="mtm", opened_on=lot.day, origin=lot)
                d.ira = lot.ira
                d.note = f"marked to market at {price} on {end}"
                self.out.append(d)
                p.amount, p.adj = value, ZERO


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _specific(lots: Iterable[Origin], days: list[date]) -> Origin | None:
    """Specific identification (Treas. Reg. §1.1012-1(c)(2)): the first open lot bought on the
    first listed day that still has one; ``None`` when none is left (the lot method takes over)."""
    for day in days:
        for lot in lots:
            if lot.day == day and lot.open_units:
                return lot
    return None


def run_walk(trades: Iterable[TaxTrade], config: TaxConfig, *, matching: str | None = None,
             lot_method: str | None = None, impl: str = "fast", as_of: date | None = None,
             marks: dict[str, Decimal] | None = None, picks: dict[str, list[date]] | None = None,
             keep_ops: bool = False) -> WalkResult:
    """All dispositions of ``trades`` (any years, any order; paper accounts dropped).

    The walk allocates several small objects per trade and frees none until it ends, which makes
    CPython's cyclic collector rescan the growing heap over and over (half the run time at 100k
    trades); it is paused for the walk, as the objects form no garbage cycles until then.
    """
    with gc_paused():
        walk = Walk(config, matching, lot_method, impl, as_of, marks, picks)
        walk.keep_ops = keep_ops
        return walk.run(trades)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for an allocation-heavy batch."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
