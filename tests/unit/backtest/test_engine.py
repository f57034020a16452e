"""The day engine: no look-ahead, exits, settlement, fills through the shared model, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from engine.backtest import BacktestParams, BacktestService
from engine.backtest.pricing import model_quotes
from engine.execution.broker import Side
from engine.execution.fees import FeeLine, FeeSchedule
from engine.settings import get_settings
from tests.unit.backtest.bars import history

D1, D5 = date(2026, 11, 16), date(2026, 11, 20)


def run(h, **kw):
    base = {"strategy": "iron_condor", "start": h.days[0], "end": h.days[-1], "report": False}
    return BacktestService(get_settings()).run_sync(BacktestParams(**{**base, **kw}), history=h)


def perturb_after(h, day_index: int, minute: int, factor: float):
    """A copy of ``h`` whose bars of session ``day_index`` from ``minute`` on (and VIX) are shocked."""
    s = h.sessions[day_index]
    cut = slice(minute, None)

    def shocked(a, f):
        a = a.copy()
        a[cut] = a[cut] * f
        return a
    new = replace(s, open=shocked(s.open, factor), high=shocked(s.high, factor), low=shocked(s.low, factor),
                  close=shocked(s.close, factor), vix=shocked(s.vix, 2.0))
    sessions = list(h.sessions)
    sessions[day_index] = new
    return replace(h, sessions=sessions)


def test_future_bars_do_not_change_earlier_decisions():
    h = history(D1, D1, seed=3)
    base = run(h, take_profit=None, stop_loss=None, exit="15:50")
    t0 = base.trades[0]
    # shock everything after 12:00 (bar index 150): the 10:00 entry must not move
    alt = run(perturb_after(h, 0, 150, 0.97), take_profit=None, stop_loss=None, exit="15:50")
    t1 = alt.trades[0]
    assert (t1.legs, t1.entry_price, t1.entry_time, t1.entry_spot) == (t0.legs, t0.entry_price, t0.entry_time,
                                                                        t0.entry_spot)
    assert t1.pnl != t0.pnl  # control: the shock is visible after it happens
    # a take-profit that fires before the shock: the same exit; a single leg is closed completely,
    # so the whole trade is identical (abandoned worthless wings would settle with the day)
    for strategy in ("iron_condor", "short_put"):
        early = run(h, strategy=strategy, take_profit=0.05, stop_loss=None)
        e = early.trades[0]
        assert e.exit_reason.startswith("take_profit")
        minute = int(e.exit_time[:2]) * 60 + int(e.exit_time[3:]) - 570
        same = run(perturb_after(h, 0, minute + 1, 1.05), strategy=strategy, take_profit=0.05, stop_loss=None)
        s = same.trades[0]
        assert (s.legs, s.entry_price, s.exit_time, s.exit_reason) == (e.legs, e.entry_price, e.exit_time,
                                                                      e.exit_reason)
        if strategy == "short_put":
            assert s == e


def test_entry_goes_through_the_shared_fill_model_and_fees():
    h = history(D1, D1, seed=5)
    res = run(h, strategy="short_put", take_profit=None, stop_loss=None)
    t = res.trades[0]
    leg = t.legs[0]
    assert leg["qty"] == -1
    assert t.entry_price == -Decimal(str(leg["fill"]))  # sold at the bid: credit per share
    fees = FeeSchedule.from_config(get_settings().fills)
    entry_fees = fees.order_fees([FeeLine(Side.SELL, 1, Decimal(str(leg["fill"])))]).total
    assert t.fees >= entry_fees > 0
    # the fill is the modeled bid of that strike at 10:00
    bid, ask = model_quotes(np.array([leg["fill"]]), get_settings().backtest and
                            BacktestService(get_settings()).market_model().spread)
    assert bid[0] <= leg["fill"] <= ask[0]


def test_take_profit_and_stop_loss_are_shares_of_the_premium():
    h = history(D1, D5, seed=11, vol=0.25)
    res = run(h, take_profit=0.5, stop_loss=1.0)
    for t in res.trades:
        credit = -t.entry_price
        gross = (t.exit_price - t.entry_price)  # per share, before fees
        if t.exit_reason.startswith("take_profit"):
            assert gross >= Decimal("0.5") * credit - Decimal("0.0001")
        elif t.exit_reason.startswith("stop_loss"):
            assert gross <= -credit + Decimal("0.0001")
        else:
            assert t.exit_reason.startswith("time") and t.exit_time == "15:50"
    assert {t.exit_reason.split("+")[0] for t in res.trades} <= {"take_profit", "stop_loss", "stop_loss_intrabar",
                                                                 "time"}


def _crash_history(final: float):
    h = history(D1, date(2026, 11, 17), seed=2)
    s = h.sessions[0]
    close = s.close.copy()
    close[-30:] = np.linspace(close[-31], final, 30)
    sessions = [replace(s, close=close, low=np.minimum(s.low, close), high=np.maximum(s.high, close)),
                h.sessions[1]]
    return replace(h, sessions=sessions), close[-1], float(h.sessions[1].open[0])


def test_settlement_cash_versus_physical():
    h, last, next_open = _crash_history(480.0)
    kw = {"strategy": "short_put", "strike_offset": -5.0, "exit": "expiry", "take_profit": None,
          "stop_loss": None, "start": D1, "end": D1}
    cash = run(h, settlement="cash", **kw).trades[0]
    k = cash.legs[0]["strike"]
    assert cash.exit_reason == "expiry" and float(cash.exit_price) == pytest.approx(-(k - last), abs=1e-4)
    phys = run(h, settlement="physical", **kw).trades[0]
    assert phys.exit_reason == "assigned"
    # assigned 100 shares at the strike, sold at the next session's open
    want = -(k - last) + (next_open - last)
    assert float(phys.exit_price) == pytest.approx(want, abs=1e-4)
    assert phys.fees > cash.fees  # the stock sale pays commission


def test_otm_expiry_is_worthless_and_no_assignment():
    h, _, _ = _crash_history(520.0)
    t = run(h, strategy="short_put", exit="expiry", take_profit=None, stop_loss=None, start=D1, end=D1,
            settlement="physical").trades[0]
    assert t.exit_reason == "expiry" and t.exit_price == 0


def test_deterministic_and_several_structures():
    h = history(D1, D5, seed=4)
    extra = [{"strategy": "short_call", "short_delta": 0.05, "entry": "11:00"}]
    a = run(h, also=extra).to_dict()
    b = run(h, also=extra).to_dict()
    assert a == b
    labels = {t["strategy"] for t in a["trades_table"]}
    assert labels == {"iron_condor", "short_call#2"}
    assert a["trades"] == 10


def test_risk_sizing_scales_quantity():
    h = history(D1, D1, seed=4)
    t = run(h, risk_per_trade=0.02, capital=100_000).trades[0]
    # 2% of 100k over a max loss of under $500 per condor
    assert t.quantity >= 4 and float(t.max_loss) <= 2000 + 1e-6


def test_entry_filter_blocks_entries():
    h = history(D1, D5, seed=4, vix=25.0)
    assert run(h, entry_filter="low_vix").trades == [] and run(h).trades


def test_early_close_keeps_the_time_exit_before_the_close():
    h = history(date(2026, 11, 27), date(2026, 11, 27), seed=4)  # day after Thanksgiving: 13:00 close
    assert len(h.sessions[0]) == 210
    t = run(h, take_profit=None, stop_loss=None).trades[0]
    assert (t.entry_time, t.exit_time, t.exit_reason.split("+")[0]) == ("10:00", "12:50", "time")
    late = run(h, take_profit=None, stop_loss=None, entry="14:00")
    assert late.trades == [] and "no bar at the entry time 14:00" in late.skipped[0]


def test_a_spike_inside_a_bar_triggers_the_stop(monkeypatch):
    h = history(D1, D1, seed=8)
    s = h.sessions[0]
    high = s.high.copy()
    high[200] = s.close[200] * 1.01  # a 1% spike that closes back where it started
    spiked = replace(h, sessions=[replace(s, high=high)])
    kw = {"strategy": "short_call", "short_delta": 0.3, "take_profit": None, "stop_loss": 1.0}
    t = run(spiked, **kw).trades[0]
    assert (t.exit_reason, t.exit_time) == ("stop_loss_intrabar", "12:51")
    assert t.pnl < run(h, **kw).trades[0].pnl
    monkeypatch.setenv("SMART0DTE_BACKTEST__INTRABAR_STOPS", "false")
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    assert run(spiked, **kw).trades[0].exit_reason != "stop_loss_intrabar"


def test_qqq_and_iwm_trade_richer_vol_than_vix():
    h = history(D1, D1, seed=4)
    spy = run(h, strike_offset=8.0, take_profit=None, stop_loss=None).trades[0]
    iwm = run(replace(h, symbol="IWM"), underlying="IWM", strike_offset=8.0, take_profit=None,
              stop_loss=None).trades[0]
    assert [leg["strike"] for leg in iwm.legs] == [leg["strike"] for leg in spy.legs]
    assert iwm.entry_price < spy.entry_price < 0  # same strikes, 1.3x the vol: a bigger credit


def test_calendar_sells_the_far_leg_by_the_close():
    h = history(D1, D5, seed=6)
    res = run(h, strategy="calendar", right="call", take_profit=None, stop_loss=None, exit="expiry")
    assert len(res.trades) == 5
    for t in res.trades:
        assert t.entry_price > 0 and t.legs[0]["strike"] == t.legs[1]["strike"]
        assert t.exit_reason.startswith("time") and t.exit_time == "16:00"
        assert t.exit_price > 0  # the long leg still has a day (or a weekend) of time value


def test_exposure_counts_overlapping_structures_once():
    h = history(D1, D1, seed=4)
    kw = {"take_profit": None, "stop_loss": None}
    one = run(h, **kw).metrics.exposure
    both = run(h, also=[{"strategy": "short_call", "entry": "10:00", "take_profit": None, "stop_loss": None}],
               **kw).metrics.exposure
    assert one == pytest.approx((379 - 29) / 390) and both == pytest.approx(one)


def test_expiry_weekdays_restrict_sessions_and_old_ranges_are_flagged(monkeypatch):
    h = replace(history(date(2019, 2, 11), date(2019, 2, 15), seed=4), source="store")
    every = run(h)
    assert every.metrics.trades == 5 and any("Tuesday/Thursday" in n for n in every.notes)
    monkeypatch.setenv("SMART0DTE_BACKTEST__EXPIRY_WEEKDAYS", "mon,wed,fri")
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    mwf = run(h)
    assert [d.weekday() for d in mwf.days] == [0, 2, 4] and mwf.metrics.trades == 3
    assert not any("Tuesday/Thursday" in n for n in mwf.notes)
