"""Form 8949 / Form 6781 / Schedule D output, per the forms' instructions.

Sources: Instructions for Form 8949 (boxes A-F, code W, column (g) positive for a nondeductible
loss, column (h) = (d) - (e) + (g)); Instructions for Form 6781 (Part I lines 1-9); Instructions
for Schedule D (lines 1b/2/3/4/7, 8b/9/10/11/15/16).
"""

from __future__ import annotations

import csv
import io

from engine.tax.config import TaxConfig
from engine.tax.export import HEADERS, write_form
from tests.unit.tax.helpers import D, report

MIXED = """
    2023-01-03T10:00:00,live,XYZ,BUY,100,10.00,1.00
    2025-03-03T10:00:00,live,XYZ,SELL,100,12.00,1.00
    2025-03-03T10:00:00,live,SPY250321C00500000,BUY,1,2.00,0.65
    2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,1.00,0.65
    2025-03-05T10:00:00,live,SPY250321C00500000,BUY,1,1.20,0.65
    2025-03-06T10:00:00,live,SPY250321C00500000,SELL,1,1.80,0.65
    2025-03-06T10:00:00,live,SPXW250306P05800000,BUY,1,3.00,0
    2025-03-06T11:00:00,live,SPXW250306P05800000,SELL,1,5.50,0
    2025-03-06T11:00:00,paper,SPY250321C00500000,BUY,5,1.00,0
"""


def test_box_a_d_by_default_and_b_e_when_basis_not_reported():
    """Covered securities: box A (short) / D (long) by default; B / E with basis_reported_to_irs=False."""
    a = report(MIXED, 2025)
    b = report(MIXED, 2025, config=TaxConfig(basis_reported_to_irs=False))
    assert sorted({r.box for r in a.rows}) == ["A", "D"]
    assert sorted({r.box for r in b.rows}) == ["B", "E"]


def test_column_h_identity_and_totals():
    """Every row: (h) = (d) - (e) + (g); totals are sums of rows; W only with a positive (g).
    Hand check: XYZ long-term 1,199 - 1,001 = +198; SPY loss 200.65 - 99.35 = 101.30 washed;
    re-entry basis 120.65 + 101.30 = 221.95, proceeds 179.35 -> -42.60."""
    rep = report(MIXED, 2025)
    for r in rep.rows:
        assert r.gain == r.proceeds - r.cost_basis + r.adjustment
        assert (r.code == "W") == (r.adjustment > 0)
    assert rep.long_term.gain == D(198)
    assert rep.short_term.gain == D("-42.60")
    assert rep.wash_sale_disallowed == D("101.30")
    assert rep.section_1256.net == D(250)


def test_report_json_contract_fields():
    """The exact key sets of the ``tax report --json`` contract (issue 7, section 4)."""
    d = report(MIXED, 2025).to_dict()
    assert list(d) == ["year", "wash_sale_matching", "short_term", "long_term", "wash_sale_disallowed",
                       "section_1256", "rows"]
    assert set(d["short_term"]) == set(d["long_term"]) == {"proceeds", "cost_basis", "adjustments", "gain"}
    assert set(d["section_1256"]) == {"net", "short_term_40", "long_term_60"}
    assert all(set(r) == {"description", "symbol", "quantity", "date_acquired", "date_sold", "proceeds",
                          "cost_basis", "code", "adjustment", "gain", "term", "box"} for r in d["rows"])
    assert {r["term"] for r in d["rows"]} == {"short", "long"}


def test_paper_rows_never_count():
    """Paper trades are never part of tax: the 5 paper contracts change nothing."""
    without = report("\n".join(x for x in MIXED.splitlines() if "paper" not in x), 2025)
    assert report(MIXED, 2025).to_dict() == without.to_dict()


def _csv(rep, form):
    buf = io.StringIO()
    write_form(rep, form, csv.writer(buf))
    return list(csv.reader(io.StringIO(buf.getvalue())))


def test_8949_csv_columns_and_values():
    rows = _csv(report(MIXED, 2025), "8949")
    assert rows[0] == HEADERS["8949"]
    washed = next(r for r in rows[1:] if r[7] == "W")
    assert washed[:10] == ["I", "A", "1 SPY 21 Mar 2025 500 Call", "2025-03-03", "2025-03-04", "99.35", "200.65",
                           "W", "101.30", "0.00"]
    assert next(r for r in rows[1:] if r[0] == "II")[1] == "D"


def test_6781_csv_lines():
    """Form 6781 Part I: line 1 entry (gain 250 in column (c)), line 7 = 250, line 8 = 100 (40%),
    line 9 = 150 (60%)."""
    rows = _csv(report(MIXED, 2025), "6781")
    assert rows[0] == HEADERS["6781"]
    lines = {r[0]: r for r in rows[1:]}
    assert rows[1][0] == "1" and rows[1][5:7] == ["0.00", "250.00"]
    assert (lines["7"][6], lines["8"][6], lines["9"][6]) == ("250.00", "100.00", "150.00")


def test_schedule_d_lines():
    """Schedule D: line 1b = box A totals; line 4 = 6781 line 8; line 7 = 1b + 4; line 8b = box
    D; line 11 = 6781 line 9; line 15 = 8b + 11; line 16 = 7 + 15."""
    rep = report(MIXED, 2025)
    lines = {r[0]: r for r in _csv(rep, "schedule-d")[1:]}
    assert lines["1b"][5] == "-42.60"
    assert lines["4"][5] == "100.00"
    assert lines["7"][5] == "57.40"
    assert lines["8b"][5] == "198.00"
    assert lines["11"][5] == "150.00"
    assert lines["15"][5] == "348.00"
    assert lines["16"][5] == "405.40"
    assert lines["1b"][4] == "101.30"  # the W adjustment flows to column (g) of line 1b
