"""Step one of the tax walk: turn trades into lot operations, before any money is computed.

Whether a trade opens or closes depends only on the net position, never on prices, so it is known
up front. That is what lets a loss be matched with a purchase made up to 30 days *later*: every
opening lot exists (as an unopened :class:`~engine.tax.lots.Origin`) before the walk starts.

Rules applied here:

* a ``SELL`` with no open long opens a short; a ``BUY`` closes an open short first (the rest
  opens a long) — and vice versa;
* ``EXPIRE`` closes the open option position (long or short) at $0 on the row's date (Pub 550:
  an expired long option is a sale at $0 on the expiry date; a written option that expires is a
  short-term gain of the premium);
* ``ASSIGN`` (short option assigned) / ``EXERCISE`` (long option exercised) close the option and
  create the stock trade at the strike: put assigned / call exercised = stock bought, call assigned
  / put exercised = stock sold. The option's premium is not a separate gain or loss; the walk
  folds it into the stock's basis or proceeds (Pub 550, "Options"; Rev. Rul. 78-182). Cash-settled
  (index) options have no stock leg: the row closes the option at its price (the settlement);
* an option still open after its expiry date with no closing row is treated as expired at $0
  on the expiry date (a broker file that left the row out must not keep a dead position alive);
* accounts named in ``paper_accounts`` are dropped: paper trades are never part of tax.

Inconsistent input (expiring or assigning more than is open, assigning a long, exercising a
short) raises :class:`InvalidInput` naming the trade's source line.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.money import ZERO
from engine.tax.config import TaxConfig
from engine.tax.lots import Origin
from engine.tax.securities import Security, classify
from engine.tax.trades import Side, TaxTrade

EXPIRY_TIME = time(23, 59, 59)  # after every trade of the expiry day


@dataclass(slots=True)
class Op:
    """One lot operation. ``direction`` is what the op does to the position: +1 buys, -1 sells.

    ``close_units`` close the opposite position; the rest opens :attr:`origin`. ``fold`` links an
    option that was assigned/exercised to its stock op (``stock``), which gets the premium.
    """

    seq: int
    ts: datetime
    account: str
    sec: Security
    kind: str            # trade | expire | assign | exercise | stock
    direction: int
    units: int
    price: Decimal
    fees: Decimal
    close_units: int = 0
    origin: Origin | None = None
    stock: Op | None = None
    fold: Decimal = ZERO
    ref: str = ""
    synthetic: bool = False
    note: str = ""       # how an assignment/exercise premium was folded into this stock op


def group_key(sec: Security, direction: int, matching: str) -> Hashable:
    """The wash-sale group: same direction, same security or same underlying (preset)."""
    return (direction, sec.symbol if matching == "identical" else sec.underlying)


class Planner:
    """Builds the op list and every opening lot; ``finder`` receives the lots by group."""

    def __init__(self, config: TaxConfig, matching: str, finder, as_of: date | None = None) -> None:
        self.config = config
        self.matching = matching
        self.finder = finder
        self.as_of = as_of
        self.ops: list[Op] = []
        self._net: dict[tuple[str, str], int] = {}
        self._expiries: list[tuple[date, str, str]] = []
        self._secs: dict[tuple[str, str], Security] = {}

    def plan(self, trades: Iterable[TaxTrade]) -> list[Op]:
        ordered = sorted((t for t in trades if not self.config.is_paper(t.account)), key=lambda t: t.ts)
        for t in ordered:
            self._expire_before(t.ts.date())
            self._trade(t)
        self._expire_before(self.as_of or date.max)
        return self.ops

    # --- ops -----------------------------------------------------------------------------------
    def _push(self, op: Op) -> Op:
        key = (op.account, op.sec.symbol)
        net = self._net.get(key, 0)
        if net * op.direction < 0:
            op.close_units = min(op.units, abs(net))
        rest = op.units - op.close_units
        if rest:
            op.origin = Origin(op.seq, op.ts, op.account, op.sec, op.direction, rest,
                               self.config.is_ira(op.account), op.ref)
            op.origin.group = group_key(op.sec, op.direction, self.matching)
            self.finder.add(op.origin.group, op.origin)
        new = net + op.direction * op.units
        self._net[key] = new
        if op.sec.is_option and new != 0 and net == 0:
            heapq.heappush(self._expiries, (op.sec.expiry, op.account, op.sec.symbol))
            self._secs[key] = op.sec
        self.ops.append(op)
        return op

    def _op(self, t: TaxTrade, kind: str, direction: int, units: int, price: Decimal, fees: Decimal) -> Op:
        return Op(len(self.ops), t.ts, t.account, t.security, kind, direction, units, price, fees, ref=t.ref)

    def _trade(self, t: TaxTrade) -> None:
        sec = t.security
        units = t.quantity * sec.multiplier
        net = self._net.get((t.account, sec.symbol), 0)
        if t.side in (Side.BUY, Side.SELL):
            self._push(self._op(t, "trade", 1 if t.side is Side.BUY else -1, units, t.price, t.fees))
            return
        if t.side is Side.EXPIRE:
            if abs(net) < units:
                raise InvalidInput(f"{t.ref}: EXPIRE of {t.quantity} {sec.symbol} but {abs(net) // sec.multiplier} "
                                   f"open in account {t.account}", field="quantity")
            self._push(self._op(t, "expire", -1 if net > 0 else 1, units, ZERO, t.fees))
            return
        want = -1 if t.side is Side.ASSIGN else 1  # assigned options are short, exercised long
        if net * want < units:
            held = "short" if want < 0 else "long"
            raise InvalidInput(f"{t.ref}: {t.side.value} of {t.quantity} {sec.symbol} needs {t.quantity} {held} "
                               f"open in account {t.account}, found {abs(net) // sec.multiplier} "
                               f"{'long' if net > 0 else 'short' if net < 0 else ''}".rstrip(), field="side")
        if sec.cash_settled:  # settles in cash at the row's price: an ordinary closing trade
            self._push(self._op(t, "trade", -want, units, t.price, t.fees))
            return
        opt = self._push(self._op(t, t.side.value.lower(), -want, units, ZERO, ZERO))
        stock_sec = classify(sec.underlying, self.config.section_1256)
        # put assigned / call exercised: stock bought; call assigned / put exercised: stock sold
        buys = (t.side is Side.ASSIGN) != sec.is_call
        opt.stock = self._push(Op(len(self.ops), t.ts, t.account, stock_sec, "stock", 1 if buys else -1,
                                  units, sec.strike or ZERO, t.fees, ref=t.ref))

    def _expire_before(self, day: date) -> None:
        """Expire (at $0) options still open after their expiry date, before ``day``'s trades."""
        while self._expiries and self._expiries[0][0] < day:
            expiry, account, symbol = heapq.heappop(self._expiries)
            net = self._net.get((account, symbol), 0)
            if net == 0:
                continue
            sec = self._secs[(account, symbol)]
            ts = datetime.combine(expiry, EXPIRY_TIME, NY)
            op = Op(len(self.ops), ts, account, sec, "expire", -1 if net > 0 else 1, abs(net), ZERO, ZERO,
                    ref=f"{symbol} expired {expiry} (no expiry row)", synthetic=True)
            self._push(op)
