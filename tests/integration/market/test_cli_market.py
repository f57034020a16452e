"""The market CLI contract: quote/chain JSON shapes, errors (exit 2), the installed script."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app

RUNNER = CliRunner()
QUOTE_KEYS = {"symbol", "bid", "ask", "last", "bid_size", "ask_size", "ts", "source"}
ROW_KEYS = {"symbol", "strike", "right", "bid", "ask", "mid", "iv", "delta", "gamma", "theta", "vega",
            "volume", "open_interest"}


def invoke(*args):
    return RUNNER.invoke(app, list(args))


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM", "VIX", "SPY261120C00600000", "spy"])
def test_quote_json_contract(symbol):
    r = invoke("quote", symbol, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) == QUOTE_KEYS and d["symbol"] == symbol.upper()
    assert all(isinstance(d[k], (int, float)) and not isinstance(d[k], bool) for k in ("bid", "ask", "last"))
    assert isinstance(d["bid_size"], int) and d["ask"] >= d["bid"] > 0
    assert d["ts"].startswith("2026-11-20T10:30:0")
    assert len(d["ts"]) == 25 and d["ts"].endswith("-05:00")  # whole seconds, offset included
    assert d["source"] == "sim"


@pytest.mark.parametrize("underlying", ["SPY", "QQQ", "IWM"])
def test_chain_json_contract(underlying):
    r = invoke("chain", underlying, "--expiry", "0dte", "--strikes", "4", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) == {"underlying", "expiry", "spot", "ts", "rows"}
    assert d["underlying"] == underlying and d["expiry"] == "2026-11-20"
    assert len(d["rows"]) == 18 and all(set(row) == ROW_KEYS for row in d["rows"])
    strikes = sorted({row["strike"] for row in d["rows"]})
    assert len(strikes) == 9 and strikes[0] < d["spot"] < strikes[-1]
    call = next(row for row in d["rows"] if row["right"] == "call" and row["strike"] == strikes[4])
    assert 0.2 < call["delta"] < 0.8 and call["iv"] > 0 and call["theta"] < 0 and call["vega"] > 0


def test_chain_vix_dated_expiry_and_0dte_refusal():
    r = invoke("chain", "VIX", "--expiry", "2026-11-25", "--strikes", "3", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["expiry"] == "2026-11-25"
    r = invoke("chain", "VIX", "--expiry", "0dte", "--json")
    assert r.exit_code == 2
    err = json.loads(r.stdout)["error"]
    assert err["type"] == "invalid_input" and "AM-settled" in err["message"] and "2026-11-25" in err["message"]


@pytest.mark.parametrize(("args", "etype", "needle"), [
    (("quote", "FOO"), "unknown_symbol", "FOO"),
    (("quote", "SPY261320C00600000"), "malformed_symbol", "261320"),
    (("quote", "SPY261120C0060000"), "malformed_symbol", "SPY261120C0060000"),
    (("chain", "SPY", "--expiry", "2026-13-01"), "invalid_input", "2026-13-01"),
    (("chain", "SPY", "--expiry", "2026-11-21"), "invalid_input", "2026-11-21"),
    (("chain", "XYZ"), "unknown_symbol", "XYZ"),
    (("chain", "SPY", "--strikes", "0"), "invalid_input", "--strikes"),
])
def test_errors_exit_2_with_one_line(args, etype, needle):
    r = invoke(*args, "--json")
    assert r.exit_code == 2
    err = json.loads(r.stdout)["error"]
    assert err["type"] == etype and needle in err["message"]
    plain = invoke(*args)
    assert plain.exit_code == 2
    lines = [ln for ln in plain.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]


def test_tables_without_json():
    r = invoke("chain", "SPY", "--strikes", "2")
    assert r.exit_code == 0 and "strike" in r.stdout and "SPY 2026-11-20 chain" in r.stdout
    r = invoke("quote", "VIX")
    assert r.exit_code == 0 and "VIX" in r.stdout and "2026-11-20" in r.stdout


def test_dashboard_once_renders_one_frame():
    r = invoke("dashboard", "--once", "--strikes", "2")
    assert r.exit_code == 0, r.output
    for text in ("SPY", "QQQ", "IWM", "VIX", "SPY 2026-11-20 chain", "session 2026-11-20", "SPY today"):
        assert text in r.stdout


def _script() -> str:
    path = Path(sys.executable).with_name("smart0dte")
    assert path.exists(), "console script not installed (make install)"
    return str(path)


@pytest.mark.slow
def test_installed_console_script_quote_and_chain(tmp_path):
    env = {**os.environ, "SMART0DTE_HOME": str(tmp_path / "fresh"),
           "SMART0DTE_SIM_START": "2026-11-20T10:30:00-05:00"}
    t0 = time.perf_counter()
    out = subprocess.run([_script(), "quote", "SPY", "--json"], env=env, capture_output=True, text=True,
                         timeout=60)
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert set(first) == QUOTE_KEYS
    in_process = json.loads(invoke("quote", "SPY", "--json").stdout)
    assert (first["bid"], first["ask"]) == (in_process["bid"], in_process["ask"])  # same pinned instant
    bad = subprocess.run([_script(), "chain", "VIX", "--expiry", "0dte"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "VIX" in bad.stderr
    print(f"smart0dte quote: {elapsed:.2f} s")  # the target lives in benchmarks/cli_latency.py


@pytest.mark.slow
def test_dashboard_runs_live_and_ctrl_c_exits_cleanly(tmp_path):
    import signal

    env = {**os.environ, "SMART0DTE_HOME": str(tmp_path / "dash"),
           "SMART0DTE_SIM_START": "2026-11-20T10:30:00-05:00", "SMART0DTE_SIM_SPEED": "60"}
    proc = subprocess.Popen([_script(), "dashboard", "--refresh", "0.2", "--strikes", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "dashboard stopped" in out
    assert "SPY 2026-11-20 chain" in out
