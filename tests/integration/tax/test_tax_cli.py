"""The tax part end to end: the ``smart0dte tax`` CLI on a real SQLite home, imports persisted and
deduplicated, exports readable as spreadsheets, the live ledger's fills in the report and the
paper ledger's not, and the same on PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from engine.settings import load_settings

DATA = Path(__file__).resolve().parents[2] / "unit" / "tax" / "data"
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def report(year: int = 2025, *extra: str) -> dict:
    code, out = cli("tax", "report", "--year", str(year), "--json", *extra)
    assert code == 0, out
    return json.loads(out)


def test_fresh_home_report_is_empty_and_creates_no_database(fresh_home):
    rep = report()
    assert rep["rows"] == [] and rep["short_term"]["gain"] == 0 and rep["wash_sale_matching"] == "identical"
    assert not (fresh_home / "ledger-live.db").exists()


def test_import_report_reimport_and_exports(tmp_path):
    code, out = cli("tax", "import", str(DATA / "trades.csv"), "--json")
    assert code == 0 and json.loads(out)["imported"] == 5 and json.loads(out)["paper_rows_ignored"] == 1
    rep = report()
    assert rep["short_term"] == {"proceeds": 178.7, "cost_basis": 358.25, "adjustments": 36.3, "gain": -143.25}
    assert rep["wash_sale_disallowed"] == 36.3
    assert rep["rows"][0]["code"] == "W" and rep["rows"][0]["box"] == "A"
    # the same file again adds nothing
    code, out = cli("tax", "import", str(DATA / "trades.csv"), "--json")
    assert code == 0 and json.loads(out)["already_imported"] and json.loads(out)["imported"] == 0
    assert report() == rep
    # the preset flag
    under = report(2025, "--wash-sale-matching", "underlying")
    assert under["wash_sale_matching"] == "underlying" and under["wash_sale_disallowed"] == 72.6
    # a second file repeating some executions adds only the new ones
    extra = tmp_path / "more.csv"
    extra.write_text((DATA / "trades.csv").read_text() + "2025-03-04T10:00:00,live,SPY,BUY,10,500,1\n")
    code, out = cli("tax", "import", str(extra), "--json")
    assert json.loads(out)["imported"] == 1 and json.loads(out)["duplicates"] == 5
    # 10 SPY shares bought 03-04 now replace 10 of the expired contract's 100 share-equivalents too:
    # 106.95 x 10/100 = 10.695 -> 10.70 (half-even)
    assert report(2025, "--wash-sale-matching", "underlying")["wash_sale_disallowed"] == 83.3
    # exports open as spreadsheets with the forms' columns
    for form, first in (("8949", "part"), ("6781", "line"), ("schedule-d", "line")):
        out_csv = tmp_path / f"{form}.csv"
        code, _ = cli("tax", "export", "--year", "2025", "--form", form, "--out", str(out_csv))
        assert code == 0
        rows = list(csv.DictReader(out_csv.open(newline="")))
        assert next(iter(rows[0])) == first if rows else True
    f8949 = list(csv.DictReader((tmp_path / "8949.csv").open(newline="")))
    assert [r["gain"] for r in f8949] == ["-36.30", "-106.95"] and f8949[0]["code"] == "W"
    sched = {r["line"]: r for r in csv.DictReader((tmp_path / "schedule-d.csv").open(newline=""))}
    assert sched["7"]["gain"] == "-143.25"


def test_bad_row_rejects_whole_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("datetime,account,symbol,side,quantity,price,fees\n"
                   "2025-03-03T10:00:00,live,SPY,BUY,10,500,0\n"
                   "2025-03-03T11:00:00,live,SPY,SELL,ten,501,0\n")
    code, out = cli("tax", "import", str(bad), "--json")
    assert code == 2
    err = json.loads(out)["error"]
    assert err["type"] == "invalid_input" and "bad.csv row 2 (line 3)" in err["message"] and "quantity" in err["message"]
    assert report()["rows"] == []  # nothing imported


def test_expiring_what_is_not_open_rejects_the_file(tmp_path):
    """Checked against the stored book: an EXPIRE of 3 contracts with 2 open names the row."""
    f = tmp_path / "exp.csv"
    f.write_text("datetime,account,symbol,side,quantity,price,fees\n"
                 "2025-03-03T10:00:00,live,SPY250303C00500000,BUY,2,1.00,0\n"
                 "2025-03-03T16:00:00,live,SPY250303C00500000,EXPIRE,3,0,0\n")
    code, out = cli("tax", "import", str(f), "--json")
    assert code == 2 and "row 2 (line 3): EXPIRE of 3" in json.loads(out)["error"]["message"]
    assert report()["rows"] == []


def test_flex_xml_import_through_the_cli():
    code, out = cli("tax", "import", str(DATA / "flex_trades.xml"), "--json")
    assert code == 0 and json.loads(out)["kind"] == "flex-xml" and json.loads(out)["imported"] == 9
    rep = report()
    assert rep["short_term"]["gain"] == -326.91
    assert rep["section_1256"] == {"net": 247.86, "short_term_40": 99.14, "long_term_60": 148.72}


def test_explain_and_whatif_commands():
    cli("tax", "import", str(DATA / "trades.csv"))
    code, out = cli("tax", "explain", "--year", "2025", "--json")
    lines = json.loads(out)["explanations"]
    assert code == 0 and lines[0]["explanation"].startswith("loss of $72.60, $36.30 of it disallowed")
    code, out = cli("tax", "whatif", "SPY", "10", "500", "--side", "BUY", "--json")
    assert code == 0 and json.loads(out) == {"wash_sale": False, "warning": None}


def test_bad_flags_exit_2():
    code, out = cli("tax", "report", "--year", "2025", "--json", "--wash-sale-matching", "similar")
    assert code == 2 and "identical or underlying" in out
    code, out = cli("tax", "export", "--year", "2025", "--form", "1040", "--out", "x.csv", "--json")
    assert code == 2 and "form must be one of" in out


def _book_fill(db, ledger: str, symbol: str, action: str, qty: int, price: str, ts: datetime, n: int) -> None:
    from engine.execution.models import TradeRow

    with db.session(ledger) as s:
        s.add(TradeRow(exec_id=f"x{n}", order_id=f"o{n}", ts=ts, symbol=symbol, underlying=symbol[:3],
                       action=action, quantity=qty, price=Decimal(price), multiplier=100, fees=Decimal("0.65")))


def test_live_ledger_fill_in_report_paper_fill_not(fresh_home):
    """A fill booked in the live ledger is taxed; the same fill in the paper ledger is not."""
    from engine.store.db import Database
    from engine.tax.service import TaxService

    settings = load_settings()
    db = Database(settings)
    sym = "SPY250303C00500000"
    for n, (ledger, action, px, hour) in enumerate([("live", "BUY", "1.00", 15), ("live", "SELL", "1.50", 16),
                                                    ("paper", "BUY", "1.00", 15), ("paper", "SELL", "3.00", 16)]):
        _book_fill(db, ledger, sym, action, 1, px, datetime(2025, 3, 3, hour, 0, tzinfo=UTC), n)
    rep = TaxService(settings, db=db).report_sync(2025)
    assert [(r.symbol, r.proceeds, r.cost_basis) for r in rep.rows] == [(sym, Decimal("149.35"), Decimal("100.65"))]
    assert report()["short_term"]["gain"] == 48.7  # the CLI sees the same
    db.dispose()


def test_ledger_assignment_stock_row_is_not_counted_twice(fresh_home):
    """The execution ledger books ASSIGN and then the stock BUY at the strike; the tax engine makes
    that stock trade itself from the ASSIGN row, so the ledger's copy is dropped: basis 5,000 - 199.35
    premium + 0.65 assignment fee = 4,801.30 (once, not twice)."""
    from engine.store.db import Database
    from engine.tax.service import TaxService

    settings = load_settings()
    db = Database(settings)
    t0, t1 = datetime(2025, 3, 3, 15, tzinfo=UTC), datetime(2025, 3, 21, 21, tzinfo=UTC)
    _book_fill(db, "live", "XYZ250321P00050000", "SELL", 1, "2.00", t0, 1)
    _book_fill(db, "live", "XYZ250321P00050000", "ASSIGN", 1, "0", t1, 2)
    from engine.execution.models import TradeRow

    with db.session("live") as s:
        s.add(TradeRow(exec_id="x3", order_id=None, ts=t1, symbol="XYZ", underlying="XYZ", action="BUY",
                       quantity=100, price=Decimal("50"), multiplier=1, fees=Decimal(0)))
    _book_fill(db, "live", "XYZ", "SELL", 100, "49.00", datetime(2025, 4, 1, 15, tzinfo=UTC), 4)
    rep = TaxService(settings, db=db).report_sync(2025)
    assert [(r.symbol, r.quantity, r.cost_basis) for r in rep.rows] == [("XYZ", 100, Decimal("4801.30"))]
    db.dispose()


@pytest.mark.postgres
def test_postgres_import_and_report(postgres_url, pg_schema_prefix, monkeypatch):
    from engine.store.db import Database
    from engine.tax.service import TaxService

    settings = load_settings(database_url=postgres_url, database_schema_prefix=pg_schema_prefix)
    db = Database(settings)
    try:
        tax = TaxService(settings, db=db)
        assert tax.import_file_sync(DATA / "flex_trades.xml").imported == 9
        assert tax.import_file_sync(DATA / "flex_trades.xml").already_imported
        rep = tax.report_sync(2025)
        assert rep.short_term.gain == Decimal("-326.91") and rep.section_1256.net == Decimal("247.86")
    finally:
        db.drop_schemas()
        db.dispose()


def test_real_process_exit_code_on_bad_file(tmp_path, fresh_home):
    """The installed command, in its own process: non-zero exit and the row named on stderr."""
    bad = tmp_path / "bad.csv"
    bad.write_text("datetime,account,symbol,side,quantity,price,fees\n2025-03-03T10:00:00,live,SPY,BUY,1,x,0\n")
    env = {**os.environ, "SMART0DTE_HOME": str(fresh_home)}
    proc = subprocess.run([sys.executable, "-m", "agent.cli.main", "tax", "import", str(bad)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "bad.csv row 1 (line 2) (price)" in proc.stderr


async def test_engine_facade_report_and_whatif(tmp_path):
    """Through ``Engine`` (what tools and the risk guard use): the report, and a what-if warning
    for buying back a contract sold at a loss the same morning."""
    from engine.runtime import Engine

    f = tmp_path / "t.csv"
    f.write_text("datetime,account,symbol,side,quantity,price,fees\n"
                 "2025-03-03T10:00:00,live,SPY250321C00500000,BUY,2,3.00,0\n"
                 "2025-03-03T10:30:00,live,SPY250321C00500000,SELL,2,2.00,0\n")
    engine = Engine(load_settings())
    try:
        assert await engine.tax.import_file(f) == 2
        rep = await engine.tax_report(2025)
        assert rep.to_dict()["short_term"]["gain"] == Decimal(-200)
        when = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)  # 11:00 in New York
        warning = await engine.tax.whatif("SPY250321C00500000", 1, "1.50", "live", side="BUY", when=when)
        assert warning is not None and warning.disallowed == Decimal(100)
        assert "buying this now would be a wash-sale replacement" in warning.message
        assert await engine.tax_whatif("SPY250321C00500000", 1, "1.50", "paper") is None
    finally:
        await engine.close()


def test_lot_method_flag_and_year_end_mark_setting(tmp_path, monkeypatch):
    """--lot-method lifo sells the $12 lot (loss 10, washed by the $10 lot still held); a §1256
    year-end mark from SMART0DTE_TAX__YEAR_END_MARKS (padded symbol accepted) sets 2024's gain."""
    f = tmp_path / "t.csv"
    f.write_text("datetime,account,symbol,side,quantity,price,fees\n"
                 "2025-03-03T10:00:00,live,XYZ,BUY,10,10.00,0\n"
                 "2025-03-04T10:00:00,live,XYZ,BUY,10,12.00,0\n"
                 "2025-03-05T10:00:00,live,XYZ,SELL,10,11.00,0\n"
                 "2024-12-20T10:00:00,live,SPX250117C06000000,BUY,1,20.00,0\n"
                 "2025-01-10T10:00:00,live,SPX250117C06000000,SELL,1,22.00,0\n")
    monkeypatch.setenv("SMART0DTE_TAX__YEAR_END_MARKS", '{"2024:SPX   250117C06000000": "25.00"}')
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    assert cli("tax", "import", str(f))[0] == 0
    assert [r["gain"] for r in report(2025)["rows"]] == [10.0]
    assert [r["adjustment"] for r in report(2025, "--lot-method", "lifo")["rows"]] == [10.0]
    assert report(2024)["section_1256"]["net"] == 500.0
    code, out = cli("tax", "report", "--year", "2025", "--json", "--lot-method", "random")
    assert code == 2 and "lot_method must be fifo, lifo or hifo" in out
