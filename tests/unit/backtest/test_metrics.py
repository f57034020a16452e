"""Statistics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from engine.backtest.metrics import compute, drawdown
from engine.backtest.params import BacktestParams, PayoffParams


def test_metrics_by_hand():
    trades = np.array([100.0, -50.0, 30.0, -20.0, 40.0])
    daily = np.array([100.0, -50.0, 30.0, -20.0, 40.0, 0.0])
    m = compute(trades, daily, 1000.0, minutes_in_market=195, minutes_total=6 * 390)
    assert m.trades == 5 and m.total_pnl == 100.0
    assert m.win_rate == pytest.approx(0.6)
    assert m.avg_win == pytest.approx(170 / 3) and m.avg_loss == pytest.approx(-35.0)
    assert m.profit_factor == pytest.approx(170 / 70) and m.expectancy == pytest.approx(20.0)
    # equity 1100, 1050, 1080, 1060, 1100, 1100: worst fall 1100 -> 1050
    assert m.max_drawdown == pytest.approx(50.0) and m.max_drawdown_pct == pytest.approx(50 / 1100)
    eq_prev = np.array([1000, 1100, 1050, 1080, 1060, 1100.0])
    r = daily / eq_prev
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(252))
    assert m.sortino == pytest.approx(r.mean() / np.sqrt(np.mean(np.minimum(r, 0) ** 2)) * np.sqrt(252))
    assert m.exposure == pytest.approx(195 / 2340)
    assert m.best_day == 100.0 and m.worst_day == -50.0


def test_undefined_statistics_are_none():
    m = compute(np.array([10.0, 5.0]), np.array([10.0, 5.0]), 1000.0)
    assert m.profit_factor is None and m.sortino is None and m.max_drawdown == 0.0
    empty = compute(np.array([]), np.array([0.0, 0.0]), 1000.0)
    assert empty.win_rate is None and empty.sharpe is None and empty.total_pnl == 0.0


def test_drawdown_series():
    dd, pct = drawdown(np.array([110.0, 90.0, 120.0, 60.0]), 100.0)
    assert dd.tolist() == [0.0, -20.0, 0.0, -60.0] and pct[-1] == pytest.approx(-0.5)


def test_params_validation_and_aliases():
    p = BacktestParams.coerce({"strategy": "iron_condor", "underlying": "spy", "start": "2019-02-11",
                               "end": "2019-02-15", "entry_time": "10:30", "exit_time": "15:00",
                               "take_profit_pct": 0.4, "stop_loss_pct": 1.5})
    assert (p.underlying, p.entry.hour, p.entry.minute, p.exit.hour, p.take_profit, p.stop_loss) == \
        ("SPY", 10, 30, 15, 0.4, 1.5)
    assert BacktestParams(strategy="straddle", start="2019-02-11", end="2019-02-11", exit="expiry").exit is None
    for bad in ({"end": "2019-02-01"}, {"entry": "09:00"}, {"exit": "09:45"}, {"short_delta": 1.2},
                {"quantity": 0}, {"strategy": "jade_lizard"}, {"underlying": "TSLA"}, {"entry": "ten"}):
        with pytest.raises(ValidationError):
            BacktestParams(**{"strategy": "iron_condor", "start": "2019-02-11", "end": "2019-02-15", **bad})
    pp = PayoffParams.coerce({"strategy": "vertical", "underlying": "SPY", "side": "buy", "strike": 500})
    spec = pp.spec()
    assert spec.credit is False and spec.side == "long" and spec.strike == 500
