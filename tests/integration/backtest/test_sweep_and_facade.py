"""Sweeps (serial, process pool, Ray) give identical ranked rows; the Engine facade runs tools' dicts."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from engine.backtest import BacktestParams, BacktestService
from engine.core.errors import InvalidInput
from engine.settings import get_settings

GRID = {"short_delta": [0.05, 0.10, 0.20], "take_profit": [0.5, None]}


def base() -> BacktestParams:
    return BacktestParams(strategy="iron_condor", start=date(2026, 9, 1), end=date(2026, 9, 30),
                          source="synthetic", report=False)


def test_serial_sweep_ranks_by_metric():
    res = BacktestService(get_settings()).sweep(base(), GRID, metric="total_pnl", backend="serial")
    assert res.runs == 6 and len(res.rows) == 6
    pnl = [r["total_pnl"] for r in res.rows]
    assert pnl == sorted(pnl, reverse=True)
    assert {(r["params"]["short_delta"], r["params"]["take_profit"]) for r in res.rows} == \
        {(d, t) for d in GRID["short_delta"] for t in GRID["take_profit"]}
    dd = BacktestService(get_settings()).sweep(base(), GRID, metric="max_drawdown", backend="serial", top=2)
    assert len(dd.rows) == 2 and dd.rows[0]["max_drawdown"] <= dd.rows[1]["max_drawdown"]


def test_bad_sweeps_are_refused_before_work():
    svc = BacktestService(get_settings())
    with pytest.raises(InvalidInput, match="cannot sweep"):
        svc.sweep(base(), {"colour": [1]})
    with pytest.raises(InvalidInput, match="unknown metric"):
        svc.sweep(base(), GRID, metric="luck")
    with pytest.raises(ValueError):
        svc.sweep(base(), {"short_delta": [0.1, 2.0]}, backend="serial")


@pytest.mark.slow
def test_process_pool_matches_serial():
    svc = BacktestService(get_settings())
    serial = svc.sweep(base(), GRID, metric="sharpe", backend="serial")
    pool = svc.sweep(base(), GRID, metric="sharpe", backend="process", workers=2)
    assert pool.backend == "process" and pool.rows == serial.rows


@pytest.mark.slow
def test_ray_local_two_workers_matches_serial():
    pytest.importorskip("ray")
    svc = BacktestService(get_settings())
    serial = svc.sweep(base(), GRID, metric="sharpe", backend="serial")
    ray_res = svc.sweep(base(), GRID, metric="sharpe", backend="ray", workers=2)
    assert ray_res.backend == "ray" and ray_res.rows == serial.rows


def test_engine_facade_accepts_the_tools_dict(monkeypatch):
    monkeypatch.setenv("SMART0DTE_BACKTEST__SOURCE", "synthetic")
    monkeypatch.setenv("SMART0DTE_BACKTEST__PNG", "false")
    from engine.runtime import Engine
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    engine = Engine(get_settings())

    async def go():
        try:
            return await engine.backtest({"strategy": "vertical", "underlying": "IWM", "start": date(2026, 9, 1),
                                          "end": date(2026, 9, 5), "entry_time": "10:30", "take_profit_pct": 0.6})
        finally:
            await engine.close()
    res = asyncio.run(go())
    d = res.to_dict()
    assert d["underlying"] == "IWM" and d["trades"] == 4  # Tue 1 to Fri 4 September
    assert all(t["entry_time"] == "10:30" for t in d["trades_table"])


def test_tools_layer_reads_the_result():
    from tools.research import backtest_result

    h_params = BacktestParams(strategy="iron_condor", start=date(2026, 9, 1), end=date(2026, 9, 4),
                              source="synthetic", report=False)
    res = BacktestService(get_settings()).run_sync(h_params)
    out = backtest_result(res)
    assert out.trades == 4 and out.total_pnl == pytest.approx(res.metrics.total_pnl, abs=0.01)
    assert [p.date for p in out.equity_curve] == res.days and out.sharpe == res.metrics.sharpe


def test_backfill_from_the_market_history_into_the_store():
    from engine.market.bars import BarStore
    from engine.market.service import MarketService

    s = get_settings()
    market = MarketService(s)
    svc = BacktestService(s, market=market)

    async def go():
        try:
            return await svc.backfill("SPY", date(2026, 11, 16), date(2026, 11, 18)), \
                await svc.backfill("SPY", date(2026, 11, 16), date(2026, 11, 18))
        finally:
            await market.close()
    first, again = asyncio.run(go())
    assert first == 2 * 3 * 390 and again == 0  # SPY and VIX, three sessions; nothing twice
    assert BarStore(s).days("SPY") == [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)]
    res = svc.run_sync(BacktestParams(strategy="iron_condor", start=date(2026, 11, 16), end=date(2026, 11, 18),
                                      report=False))
    assert res.source == "store" and res.metrics.trades == 3 and res.iv_sources == ["vix"] * 3
