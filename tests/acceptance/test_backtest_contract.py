"""Issue 6 §5 and issue 3 §5: ``backtest`` on synthetic and imported history, ``data import``, ``signals``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.acceptance.cli import Cli, iso_with_offset, number

SPY_1MIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "eqker" / "SPY_1min.csv"
CONTRACT = {"strategy", "underlying", "start", "end", "data", "trades", "total_pnl", "win_rate", "profit_factor",
            "max_drawdown", "sharpe", "equity_curve", "report"}
SIGNAL_KEYS = {"underlying", "direction", "strength", "confidence", "reasons", "ts"}


def backtest(start: str, end: str, *extra: str, strategy: str = "iron_condor") -> tuple[str, ...]:
    return ("backtest", "--strategy", strategy, "--underlying", "SPY", "--start", start, "--end", end,
            "--short-delta", "0.10", "--wing-width", "5", "--entry", "10:00", "--exit", "15:50",
            "--take-profit", "0.5", "--stop-loss", "2.0", "--quantity", "1", *extra, "--json")


def check_backtest(d: dict, strategy: str, start: str, end: str) -> None:
    assert set(d) >= CONTRACT, CONTRACT - set(d)
    assert (d["strategy"], d["underlying"], d["start"], d["end"]) == (strategy, "SPY", start, end)
    assert d["data"] in ("quoted", "modeled")
    assert isinstance(d["trades"], int) and d["trades"] > 0
    for k in ("total_pnl", "win_rate", "max_drawdown"):
        assert number(d[k]), (k, d[k])
    for k in ("profit_factor", "sharpe"):  # undefined without losses / with one day: null
        assert d[k] is None or number(d[k]), (k, d[k])
    assert 0 <= d["win_rate"] <= 1 and d["max_drawdown"] >= 0
    curve = d["equity_curve"]
    assert curve and all(set(p) == {"date", "equity"} and number(p["equity"]) for p in curve)
    days = [date.fromisoformat(p["date"]) for p in curve]
    assert days == sorted(days) and date.fromisoformat(start) <= days[0] and days[-1] <= date.fromisoformat(end)
    report = Path(d["report"])
    assert report.suffix == ".html" and report.is_file() and report.stat().st_size > 1000


def test_backtest_synthetic_imported_and_no_data(cli):
    if not SPY_1MIN.is_file():
        pytest.fail(f"shared data missing: {SPY_1MIN}")
    empty = Cli(cli.home.parent / "empty-home")  # a store with nothing imported, beside this one
    synthetic, imported, empty_store, signals, unknown = cli.many(
        backtest("2026-11-02", "2026-11-06", "--source", "synthetic"),
        ("data", "import", str(SPY_1MIN), "--symbol", "SPY"),
        None, ("signals", "SPY", "--json"), ("signals", "FOO", "--json"),
        other={2: (empty, backtest("2019-02-11", "2019-02-15"))})
    check_backtest(synthetic.ok(), "iron_condor", "2026-11-02", "2026-11-06")
    assert synthetic.data["data"] == "modeled"
    assert "2019-02-11" in empty_store.error()["message"]  # nothing imported yet: says so, exit 2
    imported.expect(0)

    real, no_data, bad_strategy = cli.many(
        backtest("2019-02-11", "2019-02-15"), backtest("2019-03-04", "2019-03-08"),
        backtest("2019-02-11", "2019-02-15", strategy="condor"))
    d = real.ok()
    check_backtest(d, "iron_condor", "2019-02-11", "2019-02-15")
    assert [p["date"] for p in d["equity_curve"]] == [f"2019-02-1{i}" for i in range(1, 6)]
    assert "2019-03-04" in no_data.error()["message"]
    assert "condor" in bad_strategy.error()["message"]

    rows = signals.ok()
    assert isinstance(rows, list) and rows
    for row in rows:
        assert set(row) >= SIGNAL_KEYS, set(row)
        assert number(row["strength"]) and 0 <= row["strength"] <= 1 and number(row["confidence"])
        assert isinstance(row["reasons"], list)
        iso_with_offset(row["ts"])
    # SPY's own signals plus the market-wide ones (VIX regime, correlation)
    assert any(r["underlying"] == "SPY" for r in rows)
    assert not {r["underlying"] for r in rows} & {"QQQ", "IWM"}
    assert "FOO" in unknown.error()["message"]

