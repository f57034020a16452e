"""Property tests: the fast engine equals the reference, and the tax books balance.

For random trade streams (stock and options on one underlying, two taxable accounts and an IRA,
buys, sells that open shorts, options left to expire): the fast engine (indexed finder) and the
reference (scan) produce the same dispositions for both presets and every lot method; and once
every position is closed, the total of column (h) over all years (plus §1256 results) equals the
cash P&L exactly — wash sales only move losses in time, never create or destroy them — as long as
no replacement sits in an IRA (Rev. Rul. 2008-5 destroys those on purpose).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.clock import NY
from engine.core.money import ZERO
from engine.tax.config import TaxConfig
from engine.tax.matching import run_walk
from engine.tax.reference import reference_totals
from engine.tax.report import build_report
from engine.tax.trades import make_trade

SYMBOLS = ["SPY", "SPY250321C00500000", "SPY250321C00505000", "SPY250328P00490000", "SPXW250321C05800000"]
START = datetime(2025, 2, 3, 9, 30, tzinfo=NY)
FAR = date(2099, 1, 1)

trade_st = st.tuples(
    st.integers(0, 60 * 24 * 45),               # minutes after START
    st.sampled_from(["live", "live", "live2", "ira"]),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(1, 4),
    st.integers(5, 900),                        # cents
    st.sampled_from(["0", "0.65", "1.30"]),
)


def _trades(raw, with_ira=True):
    out = []
    for minutes, acct, sym, side, qty, px, fee in sorted(raw, key=lambda r: r[0]):
        if acct == "ira" and not with_ira:
            acct = "live"
        ts = START + timedelta(minutes=minutes)
        if sym != "SPY" and ts.date() > date(2025, 3, 21) and "250321" in sym:
            continue
        out.append(make_trade(datetime_=ts, account=acct, symbol=sym, side=side, quantity=qty,
                              price=Decimal(px) / 100, fees=fee))
    return out


def _key(d):
    return (d.seq, d.account, d.sec.symbol, d.units, d.date_acquired, d.date_sold, d.proceeds, d.cost,
            d.disallowed, d.kind)


@settings(max_examples=60, deadline=None)
@given(st.lists(trade_st, min_size=1, max_size=60), st.sampled_from(["identical", "underlying"]),
       st.sampled_from(["fifo", "lifo", "hifo"]))
def test_fast_equals_reference(raw, matching, method):
    trades = _trades(raw)
    cfg = TaxConfig()
    fast = run_walk(trades, cfg, matching=matching, lot_method=method, impl="fast", as_of=FAR)
    ref = run_walk(trades, cfg, matching=matching, lot_method=method, impl="reference", as_of=FAR)
    assert [_key(d) for d in fast.dispositions] == [_key(d) for d in ref.dispositions]


@settings(max_examples=60, deadline=None)
@given(st.lists(trade_st, min_size=1, max_size=60), st.sampled_from(["identical", "underlying"]))
def test_books_balance_when_everything_is_closed(raw, matching):
    trades = _trades(raw, with_ira=False)
    net: dict[tuple[str, str], int] = defaultdict(int)
    for t in trades:
        if t.symbol == "SPY":
            net[(t.account, t.symbol)] += t.quantity if t.side.value == "BUY" else -t.quantity
    end = START + timedelta(days=60)
    for (acct, sym), q in net.items():
        if q:
            trades.append(make_trade(datetime_=end, account=acct, symbol=sym, side="SELL" if q > 0 else "BUY",
                                     quantity=abs(q), price="500", fees="0"))
    cash = ZERO
    for t in trades:
        gross = t.price * t.quantity * t.security.multiplier
        cash += gross - t.fees if t.side.value == "SELL" else -(gross + t.fees)
    walk = run_walk(trades, TaxConfig(), matching=matching, as_of=FAR)
    assert sum((d.gain for d in walk.dispositions), ZERO) == cash
    for d in walk.dispositions:
        assert d.disallowed <= max(d.loss, ZERO)


@settings(max_examples=80, deadline=None)
@given(st.lists(trade_st, min_size=1, max_size=40), st.sampled_from(["identical", "underlying"]))
def test_fast_engine_equals_share_by_share_reference(raw, matching):
    """The independent share-by-share reference (exact fractions) and the fast engine agree to the
    cent on every year's Form 8949 totals, code-W total and §1256 net (fees 0: see reference.py)."""
    trades = [replace(t, fees=Decimal(0)) for t in _trades(raw)]
    walk = run_walk(trades, TaxConfig(), matching=matching, as_of=FAR)
    for year in (2025,):
        rep = build_report(walk.dispositions, year, matching)
        ref = reference_totals(trades, TaxConfig(), year, matching, FAR)
        for term, t in (("short", rep.short_term), ("long", rep.long_term)):
            r = ref[term]
            assert (t.proceeds, t.cost_basis, t.adjustments) == (r.proceeds, r.cost, r.adjustments), term
        assert rep.wash_sale_disallowed == ref["wash"]
        assert rep.section_1256.net == ref["s1256"]


def _with_events(trades, flags):
    """Insert EXPIRE / ASSIGN / EXERCISE rows after some option trades, on positions that exist."""
    net: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for t, flag in zip(trades, flags + [0] * len(trades), strict=False):
        out.append(t)
        key = (t.account, t.symbol)
        net[key] += t.quantity if t.side.value == "BUY" else -t.quantity
        q = net[key]
        if not flag or not t.security.is_option or q == 0 or t.ts.date() > t.security.expiry:
            continue
        side = ("EXPIRE", "EXERCISE" if q > 0 else "ASSIGN")[flag % 2]
        price = "7.25" if t.security.cash_settled and side != "EXPIRE" else "0"
        out.append(make_trade(datetime_=t.ts + timedelta(minutes=1), account=t.account, symbol=t.symbol,
                              side=side, quantity=abs(q), price=price, fees="0"))
        net[key] = 0
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(trade_st, min_size=1, max_size=50), st.lists(st.integers(0, 3), max_size=50),
       st.sampled_from(["identical", "underlying"]), st.sampled_from(["fifo", "lifo", "hifo"]))
def test_fast_equals_reference_with_expiry_assignment_exercise(raw, flags, matching, method):
    """The same equality with option events: premiums folded into stock lots, cash settlements."""
    trades = _with_events(_trades(raw), flags)
    cfg = TaxConfig()
    fast = run_walk(trades, cfg, matching=matching, lot_method=method, impl="fast", as_of=FAR)
    ref = run_walk(trades, cfg, matching=matching, lot_method=method, impl="reference", as_of=FAR)
    assert [_key(d) for d in fast.dispositions] == [_key(d) for d in ref.dispositions]
    for d in fast.dispositions:
        assert d.disallowed <= max(d.loss, ZERO)
