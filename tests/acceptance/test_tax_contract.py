"""Issue 7 §4: trade CSV import, ``tax report --json`` with hand-derived numbers, exports.

The trades (all amounts in dollars, one option contract = 100 shares):

- SPY 2025-03-03 500C: buy 2 @ 3.00 + 1.30 fees (basis 601.30), sell 2 @ 1.50 − 1.30 (proceeds 298.70):
  loss 302.60. Re-bought 1 @ 1.20 + 0.65 the same day: a wash sale for 1 of 2 contracts (IRC §1091,
  partial replacement), $151.30 disallowed, code W, and added to the replacement's basis
  (120.65 + 151.30 = 271.95); that lot sold @ 2.20 − 0.65 = 219.35: loss 52.60, no replacement.
- SPY 2025-03-07 510C bought 2025-03-05 @ 1.00 + 0.65, EXPIRE: proceeds 0, loss 100.65 (a different
  contract: not substantially identical under the default ``identical`` preset).
- SPY stock bought 2024-01-02 10 @ 470, sold 2025-03-10 @ 560: long-term gain 900.
- SPXW 2025-04-01 5500P bought @ 5.00 + 1.00, sold @ 7.00 − 1.00: §1256, net 198.00 → 40 % short-term
  79.20, 60 % long-term 118.80 (IRC §1256(a)(3)); not on Form 8949.
- Paper rows are never part of tax.
Under the ``underlying`` preset the 510C purchase also replaces the first loss: all 302.60 disallowed.
"""

from __future__ import annotations

import csv

import pytest

from tests.acceptance.cli import number

HEADER = "datetime,account,symbol,side,quantity,price,fees"
TRADES = """\
2024-01-02T10:00:00,live,SPY,BUY,10,470,0
2025-03-03T10:15:00,live,SPY250303C00500000,BUY,2,3.00,1.30
2025-03-03T11:00:00,live,SPY250303C00500000,SELL,2,1.50,1.30
2025-03-03T11:30:00,live,SPY250303C00500000,BUY,1,1.20,0.65
2025-03-03T15:00:00,live,SPY250303C00500000,SELL,1,2.20,0.65
2025-03-05T10:00:00,live,SPY250307C00510000,BUY,1,1.00,0.65
2025-03-07T16:00:00,live,SPY250307C00510000,EXPIRE,1,0,0
2025-03-10T10:00:00,live,SPY,SELL,10,560,0
2025-04-01T10:00:00,live,SPXW250401P05500000,BUY,1,5.00,1.00
2025-04-01T15:00:00,live,SPXW250401P05500000,SELL,1,7.00,1.00
2025-05-01T10:00:00,paper,SPY250501C00500000,BUY,5,1.00,0
2025-05-01T11:00:00,paper,SPY250501C00500000,SELL,5,0.50,0
"""
REPORT_KEYS = {"year", "wash_sale_matching", "short_term", "long_term", "wash_sale_disallowed", "section_1256",
               "rows"}
TOTAL_KEYS = {"proceeds", "cost_basis", "adjustments", "gain"}
ROW_KEYS = {"description", "symbol", "quantity", "date_acquired", "date_sold", "proceeds", "cost_basis", "code",
            "adjustment", "gain", "term", "box"}


def check_report_shape(r: dict) -> None:
    assert set(r) == REPORT_KEYS, set(r)
    for part in ("short_term", "long_term"):
        assert set(r[part]) == TOTAL_KEYS and all(number(v) for v in r[part].values()), r[part]
        t = r[part]
        assert t["gain"] == pytest.approx(t["proceeds"] - t["cost_basis"] + t["adjustments"], abs=0.005)
    assert set(r["section_1256"]) == {"net", "short_term_40", "long_term_60"}
    assert all(number(v) for v in r["section_1256"].values()) and number(r["wash_sale_disallowed"])
    for row in r["rows"]:
        assert set(row) == ROW_KEYS, set(row)
        for k in ("quantity", "proceeds", "cost_basis", "adjustment", "gain"):
            assert number(row[k]), (k, row)
        assert row["term"] in ("short", "long") and row["box"] in tuple("ABCDEF")
        assert row["gain"] == pytest.approx(row["proceeds"] - row["cost_basis"] + row["adjustment"], abs=0.005)


def test_import_report_and_exports(cli, tmp_path):
    good = tmp_path / "trades.csv"
    good.write_text(HEADER + "\n" + TRADES)
    bad = tmp_path / "bad.csv"  # a valid row, then a bad one: nothing of the file is imported
    bad.write_text(HEADER + "\n2025-06-02T10:00:00,live,QQQ,BUY,5,500,0\n2025-06-03T10:00:00,live,QQQ,SELL,5,510,0\n"
                   "2025-06-04T10:00:00,live,QQQ,SELL,five,510,0\n")
    cli("tax", "import", str(good)).expect(0)
    rejected = cli("tax", "import", str(bad))
    assert rejected.rc != 0 and "five" in (rejected.err + rejected.out)
    out = {f: tmp_path / f"{f}.csv" for f in ("8949", "6781", "schedule-d")}
    report, underlying, *exports = cli.many(
        ("tax", "report", "--year", "2025", "--json"),
        ("tax", "report", "--year", "2025", "--json", "--wash-sale-matching", "underlying"),
        *[("tax", "export", "--year", "2025", "--form", f, "--out", str(p)) for f, p in out.items()])

    r = report.ok()
    check_report_shape(r)
    assert (r["year"], r["wash_sale_matching"]) == (2025, "identical")
    assert r["short_term"] == pytest.approx({"proceeds": 518.05, "cost_basis": 973.90, "adjustments": 151.30,
                                             "gain": -304.55}, abs=0.005)
    assert r["long_term"] == pytest.approx({"proceeds": 5600.0, "cost_basis": 4700.0, "adjustments": 0.0,
                                            "gain": 900.0}, abs=0.005)
    assert r["wash_sale_disallowed"] == pytest.approx(151.30, abs=0.005)
    assert r["section_1256"] == pytest.approx({"net": 198.0, "short_term_40": 79.2, "long_term_60": 118.8},
                                              abs=0.005)
    washed = [row for row in r["rows"] if row["code"] == "W"]
    assert len(washed) == 1 and washed[0]["adjustment"] == pytest.approx(151.30, abs=0.005)
    assert washed[0]["symbol"].replace(" ", "") == "SPY250303C00500000" and washed[0]["quantity"] == 2
    assert len(r["rows"]) == 4 and sum(row["term"] == "long" for row in r["rows"]) == 1
    assert all(row["date_acquired"] <= row["date_sold"] for row in r["rows"])
    assert not any("SPXW" in row["symbol"] or "250501" in row["symbol"] for row in r["rows"])  # §1256, paper

    u = underlying.ok()
    check_report_shape(u)
    assert u["wash_sale_matching"] == "underlying"
    assert u["wash_sale_disallowed"] == pytest.approx(302.60, abs=0.005)

    for res, (form, path) in zip(exports, out.items(), strict=True):
        res.expect(0)
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) >= 2 and all(rows[0]), (form, rows[:2])
    with out["8949"].open(newline="") as fh:
        body = list(csv.DictReader(fh))
    assert len(body) == 4 and any("W" in row.values() for row in body)


def test_bad_files_and_arguments(cli, tmp_path):
    wrong_header = tmp_path / "h.csv"
    wrong_header.write_text("datetime,account,symbol,side,qty,price,fees\n2025-03-03T10:15:00,live,SPY,BUY,1,3,0\n")
    bad_side = tmp_path / "s.csv"
    bad_side.write_text(HEADER + "\n2025-03-03T10:15:00,live,SPY,HOLD,1,3,0\n")
    header, side, form = cli.many(
        ("tax", "import", str(wrong_header)), ("tax", "import", str(bad_side)),
        ("tax", "export", "--year", "2025", "--form", "1040", "--out", str(tmp_path / "x.csv")))
    assert header.rc != 0 and side.rc != 0 and form.rc != 0
    assert "HOLD" in side.err + side.out and "1040" in form.err + form.out
