"""``smart0dte backtest|signals|sweep`` end to end: real bar store, real files, the typer app."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app

CONTRACT = ["strategy", "underlying", "start", "end", "data", "trades", "total_pnl", "win_rate", "profit_factor",
            "max_drawdown", "sharpe", "equity_curve", "report"]


@pytest.fixture
def imported(shared_data):
    from engine.market.bars import BarStore
    from engine.settings import get_settings

    store = BarStore(get_settings())
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    store.import_csv(os.path.join(shared_data, "eqker", "VIX_1min.csv"), "VIX")
    return store


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_backtest_on_imported_2019_bars(imported, fresh_home, monkeypatch):
    monkeypatch.setenv("SMART0DTE_BACKTEST__PNG", "false")
    r = invoke("backtest", "--strategy", "iron_condor", "--underlying", "SPY", "--start", "2019-02-11",
               "--end", "2019-02-15", "--short-delta", "0.10", "--wing-width", "5", "--entry", "10:00",
               "--exit", "15:50", "--take-profit", "0.5", "--stop-loss", "2.0", "--quantity", "1", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert list(d)[: len(CONTRACT)] == CONTRACT
    assert (d["strategy"], d["underlying"], d["start"], d["end"], d["data"]) == \
        ("iron_condor", "SPY", "2019-02-11", "2019-02-15", "modeled")
    assert d["trades"] == len(d["trades_table"]) >= 4
    assert [p["date"] for p in d["equity_curve"]] == ["2019-02-11", "2019-02-12", "2019-02-13", "2019-02-14",
                                                      "2019-02-15"]
    assert d["total_pnl"] == pytest.approx(d["equity_curve"][-1]["equity"] - 100_000, abs=0.01)
    assert d["total_pnl"] == pytest.approx(sum(float(t["pnl"]) for t in d["trades_table"]), abs=0.01)
    assert d["iv_source"] == ["vix"]
    report = d["report"]
    assert report.startswith(str(fresh_home)) and report.endswith(".html")
    page = Path(report).read_text(encoding="utf-8")
    assert "Equity" in page and "Drawdown" in page and "2019-02-13" in page
    assert 'src="plotly.min.js"' in page
    assert (Path(report).parent / "plotly.min.js").stat().st_size > 1_000_000


def test_png_only_on_request(imported):
    """The CLI writes the HTML report every time; the PNG (a Chromium start) only with --png."""
    r = invoke("backtest", "--strategy", "iron_butterfly", "--start", "2019-02-11", "--end", "2019-02-12",
               "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert Path(d["report"]).is_file()
    assert d["png"] is None and d["png_error"] is None
    assert not list(Path(d["report"]).parent.glob("*.png"))


def test_no_data_range_exits_2(imported):
    r = invoke("backtest", "--strategy", "iron_condor", "--underlying", "SPY", "--start", "2020-03-02",
               "--end", "2020-03-06", "--json")
    assert r.exit_code == 2
    err = json.loads(r.stdout)["error"]
    assert err["type"] == "no_data" and "2020-03-02" in err["message"]
    r = invoke("backtest", "--strategy", "iron_condor", "--start", "2019-02-16", "--end", "2019-02-17")
    assert r.exit_code == 2 and "no SPY" in r.stderr


def test_bad_flags_exit_2(imported):
    r = invoke("backtest", "--strategy", "iron_condor", "--start", "2019-02-11", "--end", "2019-02-15",
               "--entry", "25:00", "--json")
    assert r.exit_code == 2 and "entry" in json.loads(r.stdout)["error"]["message"]
    r = invoke("backtest", "--strategy", "condor", "--start", "2019-02-11", "--end", "2019-02-15")
    assert r.exit_code == 2


def test_backtest_on_synthetic_history(monkeypatch):
    monkeypatch.setenv("SMART0DTE_BACKTEST__PNG", "false")
    r = invoke("backtest", "--strategy", "short_put", "--underlying", "QQQ", "--start", "2026-10-01",
               "--end", "2026-10-14", "--source", "synthetic", "--exit", "expiry", "--take-profit", "none",
               "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["source"] == "synthetic" and d["sessions"] == 10 and d["trades"] == 10
    assert {t["exit_reason"] for t in d["trades_table"]} <= {"expiry", "assigned", "stop_loss"}
    # same seed, same answer
    again = json.loads(invoke("backtest", "--strategy", "short_put", "--underlying", "QQQ", "--start",
                              "2026-10-01", "--end", "2026-10-14", "--source", "synthetic", "--exit",
                              "expiry", "--take-profit", "none", "--json").stdout)
    assert again["equity_curve"] == d["equity_curve"]
    sized = json.loads(invoke("backtest", "--strategy", "iron_condor", "--underlying", "SPY", "--start",
                              "2026-10-01", "--end", "2026-10-02", "--source", "synthetic", "--risk-per-trade",
                              "0.02", "--filter", "none", "--json").stdout)
    assert all(t["quantity"] > 1 for t in sized["trades_table"])


@pytest.mark.slow
def test_png_report_through_debian_chromium(imported):
    r = invoke("backtest", "--strategy", "iron_butterfly", "--start", "2019-02-11", "--end", "2019-02-12",
               "--png", "--json")
    d = json.loads(r.stdout)
    assert d["png_error"] is None, d["png_error"]
    with open(d["png"], "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_signals_cli_json():
    r = invoke("signals", "SPY", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert {"underlying", "direction", "strength", "confidence", "reasons", "ts"} <= set(row)


def test_sweep_cli_serial():
    r = invoke("sweep", "--strategy", "iron_condor", "--start", "2026-09-01", "--end", "2026-09-10",
               "--source", "synthetic", "--short-delta", "0.05,0.15", "--take-profit", "0.5,none",
               "--metric", "total_pnl", "--backend", "serial", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["runs"] == 4 and d["backend"] == "serial" and len(d["rows"]) == 4
    assert d["rows"][0]["total_pnl"] >= d["rows"][-1]["total_pnl"]
    assert {row["params"]["take_profit"] for row in d["rows"]} == {0.5, None}


def test_correlation_matrix_cli():
    r = invoke("signals", "--correlation", "30", "--json")
    assert r.exit_code == 0, r.output
    m = json.loads(r.stdout)
    assert m["tickers"] == ["SPY", "QQQ", "IWM", "VIX"] and m["window"] == 30
    assert all(len(row) == 4 for row in m["matrix"]) and m["matrix"][1][1] == pytest.approx(1.0)
    text = invoke("signals", "--correlation", "30")
    assert text.exit_code == 0 and "SPY" in text.stdout
