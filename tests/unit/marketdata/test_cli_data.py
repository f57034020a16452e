"""``smart0dte data …`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from agent.cli.main import app

runner = CliRunner()


def _spy(shared_data: str) -> str:
    return os.path.join(shared_data, "eqker", "SPY_1min.csv")


def test_import_json_then_days_and_bars(shared_data):
    res = runner.invoke(app, ["data", "import", _spy(shared_data), "--symbol", "spy", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["symbol"] == "SPY" and out["rows"] == 1950 and out["days"] == 5 and out["new_days"] == 5
    assert out["first"] == "2019-02-11T09:30:00-05:00" and out["last"] == "2019-02-15T15:59:00-05:00"
    again = json.loads(runner.invoke(app, ["data", "import", _spy(shared_data), "--symbol", "SPY", "--json"]).stdout)
    assert again["new_days"] == 0 and again["days"] == 5  # idempotent re-import
    days = json.loads(runner.invoke(app, ["data", "days", "--json"]).stdout)
    assert days == [{"symbol": "SPY", "days": 5, "first": "2019-02-11", "last": "2019-02-15"}]
    bars = json.loads(runner.invoke(app, ["data", "bars", "SPY", "--interval", "1h", "--start", "2019-02-15",
                                          "--json"]).stdout)
    assert [b["start"][11:16] for b in bars["bars"]] == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30",
                                                          "15:30"]
    assert bars["bars"][-1]["close"] == 277.39
    text = runner.invoke(app, ["data", "import", _spy(shared_data), "--symbol", "SPY"])
    assert text.exit_code == 0 and "imported 1950 bars of SPY" in text.stdout


def test_bad_file_exit_2_with_row_and_reason(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("datetime,open,high,low,close,volume\n2019-02-15 16:00:00,277.27,277.4,277.19,277.39,2689895\n"
                   "2019-02-15 15:59:00,277.25,277.1,277.2,277.27,1015666")
    res = runner.invoke(app, ["data", "import", str(bad), "--symbol", "SPY", "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert err["type"] == "invalid_input" and "row 2 (line 3)" in err["message"] and "high 277.1" in err["message"]
    plain = runner.invoke(app, ["data", "import", str(bad), "--symbol", "SPY"])
    assert plain.exit_code == 2
    days = json.loads(runner.invoke(app, ["data", "days", "--json"]).stdout)
    assert days == []  # nothing was stored
    res = runner.invoke(app, ["data", "import", str(bad), "--symbol", "SPY", "--label", "middle", "--json"])
    assert res.exit_code == 2 and "--label" in json.loads(res.stdout)["error"]["message"]
    res = runner.invoke(app, ["data", "import", str(bad), "--symbol", "SPY", "--tz", "Mars/Olympus", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["message"].startswith("unknown time zone")
    res = runner.invoke(app, ["data", "bars", "QQQ", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["type"] == "no_data"


def test_import_with_a_time_zone(tmp_path):
    f = tmp_path / "chicago.csv"
    f.write_text("datetime,open,high,low,close,volume\n2024-03-01 08:30,10,11,9.5,10.5,1\n"
                 "2024-03-01 08:31,10,11,9.5,10.5,1\n2024-03-01 08:32,10,11,9.5,10.5,1\n")
    res = runner.invoke(app, ["data", "import", str(f), "--symbol", "SPY", "--tz", "America/Chicago", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["first"] == "2024-03-01T09:30:00-05:00"


def test_prune_keeps_imports(shared_data):
    runner.invoke(app, ["data", "import", _spy(shared_data), "--symbol", "SPY"])
    out = json.loads(runner.invoke(app, ["data", "prune", "--json"]).stdout)
    assert out["removed_days"] == 0 and out["retention_days"] == 400


def test_console_script_end_to_end(shared_data, fresh_home):
    exe = os.path.join(os.path.dirname(sys.executable), "smart0dte")
    res = subprocess.run([exe, "data", "import", _spy(shared_data), "--symbol", "SPY", "--json"],
                         capture_output=True, text=True, timeout=60, env={**os.environ})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rows"] == 1950
    assert (fresh_home / "bars" / "1m" / "symbol=SPY" / "day=2019-02-15" / "bars.parquet").exists()


def test_unknown_symbol_is_refused(shared_data):
    res = runner.invoke(app, ["data", "import", _spy(shared_data), "--symbol", "FOO", "--json"])
    assert res.exit_code == 2
    assert '"unknown_symbol"' in res.stdout
