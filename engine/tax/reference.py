"""Reference implementation of the tax rules: share by share, in exact fractions, no cleverness.

Written independently of :mod:`engine.tax.matching` (no lots, pieces, pro-rata splits or finders):
every opening trade becomes N one-share *units* (a contract is its multiplier of units), each
carrying its own basis (or short-sale proceeds), wash-sale adjustment and holding-period start
as a :class:`fractions.Fraction`. The rules are those of :mod:`engine.tax.matching` and
:mod:`engine.tax.washsale`, applied one share at a time:

* FIFO: a sale closes the position's oldest open units; within one purchase, units already used
  as wash-sale replacements go first (they are the first untagged units when tagged);
* a loss unit (not §1256, not in an IRA) is replaced by the first unit, in acquisition order, of
  the same group (direction + symbol, or + underlying), acquired within 30 calendar days of the
  sale, never used before, not from the same purchase, and still held if bought before the sale;
  its whole loss moves into that unit (nothing into an IRA unit: Rev. Rul. 2008-5) together with
  the holding period;
* options left open after expiry expire at $0; §1256 units are marked at each finished year end.

Supported: BUY, SELL, EXPIRE (not ASSIGN/EXERCISE). :func:`reference_totals` returns a year's
totals, exactly, for the property tests (fees of 0 and cent prices keep every per-share amount in
whole cents, so the fast engine's cent rounding never enters and both must agree exactly) and for
the benchmark's ratio. It is quadratic and allocates an object per share: use it on small books.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from engine.core.clock import NY
from engine.tax.config import TaxConfig
from engine.tax.matching import is_long_term
from engine.tax.trades import TaxTrade


@dataclass
class Unit:
    origin: int
    ts: datetime
    account: str
    symbol: str
    group: tuple
    direction: int
    ira: bool
    s1256: bool
    amount: Fraction = Fraction(0)
    adj: Fraction = Fraction(0)
    hold: date | None = None
    opened: bool = False
    closed: bool = False
    tagged: bool = False


@dataclass
class Totals:
    proceeds: Fraction = Fraction(0)
    cost: Fraction = Fraction(0)
    adjustments: Fraction = Fraction(0)

    @property
    def gain(self) -> Fraction:
        return self.proceeds - self.cost + self.adjustments


def _money(x: Decimal) -> Fraction:
    return Fraction(str(x))


def reference_totals(trades: Iterable[TaxTrade], config: TaxConfig, year: int, matching: str,
                     as_of: date) -> dict[str, object]:
    """``{"short": Totals, "long": Totals, "wash": Fraction, "s1256": Fraction}`` for ``year``."""
    events = _events(sorted((t for t in trades if not config.is_paper(t.account)), key=lambda t: t.ts), as_of)
    units: dict[tuple, list[Unit]] = {}  # wash-sale group -> its units in acquisition order
    plan: list[tuple[tuple, int, list[Unit]]] = []  # per event: (event, units closed, units opened)
    net: dict[tuple[str, str], int] = {}
    for n, ev in enumerate(events):
        ts, account, sec, direction, qty, _price, _fees = ev
        key, count = (account, sec.symbol), qty * sec.multiplier
        held = net.get(key, 0)
        closing = min(count, abs(held)) if held * direction < 0 else 0
        group = (direction, sec.symbol if matching == "identical" else sec.underlying)
        new = [Unit(n, ts, account, sec.symbol, group, direction, config.is_ira(account), sec.section_1256)
               for _ in range(count - closing)]
        units.setdefault(group, []).extend(new)
        plan.append((ev, closing, new))
        net[key] = held + direction * count
    out = {"short": Totals(), "long": Totals(), "wash": Fraction(0), "s1256": Fraction(0)}
    positions: dict[tuple[str, str], list[Unit]] = {}
    last: dict[str, Fraction] = {}
    current = events[0][0].year if events else year
    for ev, closing, new in plan:
        ts, account, sec, direction, qty, price, fees = ev
        for y in range(current, ts.year):
            _mark(positions, last, y, out, year)
        current = ts.year
        count = qty * sec.multiplier
        if price:
            last[sec.symbol] = _money(price)
        gross = _money((price * count).quantize(Decimal("0.01")))
        total = gross + _money(fees) if direction > 0 else gross - _money(fees)
        per = total / count
        pos = positions.setdefault((account, sec.symbol), [])
        pos.sort(key=lambda u: (u.origin, not u.tagged))  # oldest purchase first, tagged units first
        closed = pos[:closing]
        del pos[:closing]
        rows = []
        for u in closed:
            u.closed = True
            if u.direction > 0:   # long sold
                rows.append((u, per, u.amount + u.adj, u.hold, ts.date()))
            else:                 # short bought back: proceeds were the short sale's
                rows.append((u, u.amount, per + u.adj, ts.date(), ts.date()))
        for u, proceeds, cost, acquired, sold in rows:
            loss = cost - proceeds
            disallowed = Fraction(0)
            if loss > 0 and not u.ira and not sec.section_1256:
                repl = _replacement(units.get(u.group, []), u, ts)
                if repl is not None:
                    repl.tagged = True
                    disallowed = loss
                    if not repl.ira:
                        repl.adj += loss
                        if u.direction > 0:
                            repl.hold = repl.ts.date() - timedelta(days=(sold - acquired).days)
            _book(out, year, u, sec.section_1256, proceeds, cost, disallowed, acquired, sold)
        for u in new:
            u.opened, u.amount = True, per
            u.hold = u.hold or ts.date()
        pos.extend(new)
    for y in range(current, as_of.year):
        _mark(positions, last, y, out, year)
    return out


def _replacement(units: list[Unit], sold: Unit, ts: datetime) -> Unit | None:
    day = ts.date()
    for r in units:
        if (not r.tagged and r.origin != sold.origin
                and abs((r.ts.date() - day).days) <= 30 and not (r.opened and r.closed)):
            return r
    return None


def _book(out: dict, year: int, u: Unit, s1256: bool, proceeds: Fraction, cost: Fraction, disallowed: Fraction,
          acquired: date, sold: date) -> None:
    if sold.year != year or u.ira:
        return
    if s1256:
        out["s1256"] += proceeds - cost
        return
    term = "long" if u.direction > 0 and is_long_term(acquired, sold) else "short"
    t = out[term]
    t.proceeds += proceeds
    t.cost += cost
    t.adjustments += disallowed
    out["wash"] += disallowed


def _mark(positions: dict, last: dict, y: int, out: dict, year: int) -> None:
    end = date(y, 12, 31)
    for pos in positions.values():
        for u in pos:
            if not u.s1256:
                continue
            value = last.get(u.symbol, Fraction(0))
            if u.direction > 0:
                _book(out, year, u, True, value, u.amount + u.adj, Fraction(0), u.hold, end)
            else:
                _book(out, year, u, True, u.amount, value + u.adj, Fraction(0), end, end)
            u.amount, u.adj = value, Fraction(0)


def _events(trades: list[TaxTrade], as_of: date) -> list[tuple]:
    """(ts, account, security, direction, quantity, price, fees), expiries included."""
    out: list[tuple] = []
    net: dict[tuple[str, str], tuple[int, object]] = {}

    def expire_before(day: date) -> None:
        for key, (q, sec) in sorted(net.items(), key=lambda kv: (kv[1][1].expiry or date.max, kv[0])):
            if q and sec.expiry is not None and sec.expiry < day:
                out.append((datetime.combine(sec.expiry, time(23, 59, 59), NY), key[0], sec, -1 if q > 0 else 1,
                            abs(q), Decimal(0), Decimal(0)))
                net[key] = (0, sec)

    for t in trades:
        expire_before(t.ts.date())
        key = (t.account, t.symbol)
        q = net.get(key, (0, t.security))[0]
        if t.side.value == "EXPIRE":
            direction = -1 if q > 0 else 1
        elif t.side.value in ("BUY", "SELL"):
            direction = 1 if t.side.value == "BUY" else -1
        else:
            raise ValueError("the reference implementation handles BUY, SELL and EXPIRE only")
        out.append((t.ts, t.account, t.security, direction, t.quantity, t.price, t.fees))
        net[key] = (q + direction * t.quantity, t.security)
    expire_before(as_of)
    return out
