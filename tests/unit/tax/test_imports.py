"""Trade files: the project CSV and IB Flex Query exports (XML and CSV), all rows or none.

Sample Flex files (tests/unit/tax/data) follow IB's Flex Query Trades section: camelCase XML
attributes / display-name CSV headers, signed quantities, negative IBCommission, ``Ep``/``A``
Notes/Codes, the STK delivery row of an assignment, an ORDER-level summary row.
Expected numbers are derived by hand in the docstrings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import InvalidInput
from engine.tax.config import TaxConfig
from engine.tax.imports import parse_bytes, read_file
from engine.tax.matching import run_walk
from engine.tax.report import build_report
from tests.unit.tax.helpers import FAR, D

DATA = Path(__file__).parent / "data"
HEADER = "datetime,account,symbol,side,quantity,price,fees\n"


def _report(parsed, year=2025, matching="identical", cfg=None):
    cfg = cfg or TaxConfig()
    walk = run_walk([p.trade for p in parsed.trades], cfg, matching=matching, as_of=FAR)
    return build_report(walk.dispositions, year, matching)


def test_project_csv_sample():
    """trades.csv: 2 @1.25 (+1.30) = 251.30, sold @0.90 (-1.30) = 178.70 -> loss 72.60; 1 re-bought
    @0.70 (+0.65) = 70.65 replaces half: W 36.30; it expires: 0 - (70.65 + 36.30) = -106.95.
    The paper row is ignored; the IRA lot is never reported."""
    parsed = read_file(DATA / "trades.csv", TaxConfig())
    assert (parsed.kind, len(parsed.trades), parsed.paper_rows) == ("csv", 5, 1)
    rep = _report(parsed)
    assert [(r.proceeds, r.cost_basis, r.adjustment, r.gain) for r in rep.rows] == [
        (D("178.70"), D("251.30"), D("36.30"), D("-36.30")), (D(0), D("106.95"), D(0), D("-106.95"))]
    assert rep.short_term.gain == D("-143.25")


def test_project_csv_underlying_preset_with_ira_replacement():
    """Underlying preset: the IRA's SPY put bought the next day is a replacement too: the $72.60
    loss is washed half into the live lot ($36.30) and half permanently (IRA, Rev. Rul. 2008-5)."""
    rep = _report(read_file(DATA / "trades.csv", TaxConfig()), matching="underlying")
    assert rep.rows[0].adjustment == D("72.60")
    assert "IRA part permanently disallowed" in rep.rows[0].explanation
    assert rep.short_term.gain == D("-106.95")


def test_flex_xml_sample():
    """flex_trades.xml: SPY 510C 2 @2.50 (+1.30) = 501.30, sold @0.94 (-1.31) = 186.69: loss
    314.61; 1 re-bought @1.10 (+0.65) replaces half: W 157.30 (157.305 half-even); it expires (Ep):
    -(110.65 + 157.30) = -267.95. XYZ 50P written @2 (-0.65) = 199.35, assigned (A): stock basis
    5,000 - 199.35 = 4,800.65 (IB's STK delivery row skipped); sold 100 @49 (-1) = 4,899: +98.35.
    SPXW: 548.93 - 301.07 = 247.86 -> 40% 99.14 / 60% 148.72."""
    parsed = read_file(DATA / "flex_trades.xml", TaxConfig())
    assert parsed.kind == "flex-xml" and parsed.skipped_rows == 1 and len(parsed.trades) == 9
    sides = [p.trade.side.value for p in parsed.trades]
    assert sides.count("EXPIRE") == 1 and sides.count("ASSIGN") == 1
    rep = _report(parsed)
    assert (rep.short_term.proceeds, rep.short_term.cost_basis, rep.short_term.adjustments,
            rep.short_term.gain) == (D("5085.69"), D("5569.90"), D("157.30"), D("-326.91"))
    s = rep.section_1256
    assert (s.net, s.short_term_40, s.long_term_60) == (D("247.86"), D("99.14"), D("148.72"))


def test_flex_csv_sample_and_account_map():
    """flex_trades.csv: QQQ 480P 3 @1.20 (+1.95) = 361.95, sold @0.80 (-1.95) = 238.05: loss
    123.90; 2 re-bought @0.70 (+1.30) = 141.30 replace 2/3: W 82.60; they expire (Ep): -223.90.
    U7654321 maps to the IRA through flex_accounts."""
    cfg = TaxConfig(flex_accounts={"U7654321": "ira"})
    parsed = read_file(DATA / "flex_trades.csv", cfg)
    assert parsed.kind == "flex-csv" and len(parsed.trades) == 5
    assert [p.trade.account for p in parsed.trades] == ["live"] * 4 + ["ira"]
    rep = _report(parsed, cfg=cfg)
    assert (rep.short_term.proceeds, rep.short_term.cost_basis, rep.short_term.adjustments,
            rep.short_term.gain) == (D("238.05"), D("585.85"), D("82.60"), D("-265.20"))


def test_flex_csv_with_section_prefixes():
    """Flex CSV exported with HEADER/DATA section codes and BOF/EOF markers reads the same."""
    lines = (DATA / "flex_trades.csv").read_text().splitlines()
    text = "\n".join(['"BOF","U1234567","tax","1"', '"HEADER","TRNT",' + lines[0]]
                     + ['"DATA","TRNT",' + x for x in lines[1:]] + ['"EOF","U1234567"'])
    plain = parse_bytes((DATA / "flex_trades.csv").read_bytes(), "a.csv", TaxConfig())
    coded = parse_bytes(text.encode(), "b.csv", TaxConfig())
    assert [p.trade.as_row() for p in coded.trades] == [p.trade.as_row() for p in plain.trades]


@pytest.mark.parametrize(("row", "needle"), [
    ("2025-13-03T10:00:00,live,SPY,BUY,1,1,0", "datetime"),
    ("2025-03-03T10:00:00,live,SPY,HOLD,1,1,0", "side 'HOLD' must be BUY, SELL, EXPIRE, ASSIGN or EXERCISE"),
    ("2025-03-03T10:00:00,live,SPY,BUY,-1,1,0", "quantity"),
    ("2025-03-03T10:00:00,live,SPY,BUY,1.5,1,0", "whole number"),
    ("2025-03-03T10:00:00,live,SPY,BUY,1,abc,0", "price 'abc' is not a number"),
    ("2025-03-03T10:00:00,live,SPY,BUY,1,1,-1", "fees"),
    ("2025-03-03T10:00:00,live,SPY250303C0050000,BUY,1,1,0", "symbol"),
    ("2025-03-03T10:00:00,,SPY,BUY,1,1,0", "account is empty"),
    ("2025-03-03T10:00:00,live,SPY,EXPIRE,1,0,0", "options only"),
    ("2025-03-03T10:00:00,live,SPY250303C00500000,ASSIGN,1,5,0", "price 0"),
    ("2025-03-03T10:00:00,live,SPY,BUY,1,1", "has 6 fields"),
])
def test_one_bad_row_rejects_the_file_naming_row_and_reason(row, needle):
    text = HEADER + "2025-03-03T09:45:00,live,SPY,BUY,1,500,0\n" + row + "\n"
    with pytest.raises(InvalidInput) as err:
        parse_bytes(text.encode(), "mine.csv", TaxConfig())
    msg = err.value.message
    assert msg.startswith("mine.csv row 2 (line 3)") and needle in msg and "nothing was imported" in msg


def test_bad_flex_rows_are_refused():
    xml = (DATA / "flex_trades.xml").read_text()
    for old, new, needle in [('currency="USD" assetCategory="OPT" symbol="SPY', 'currency="EUR" assetCategory="OPT" '
                              'symbol="SPY', "currency EUR"),
                             ('assetCategory="STK" symbol="XYZ" description="XYZ CORP" conid="1234" multiplier="1"',
                              'assetCategory="FUT" symbol="XYZ" description="XYZ CORP" conid="1234" multiplier="1"',
                              "asset class FUT"),
                             ('quantity="1" tradePrice="1.1"', 'quantity="-1" tradePrice="1.1"', "contradicts")]:
        with pytest.raises(InvalidInput, match=needle):
            parse_bytes(xml.replace(old, new, 1).encode(), "f.xml", TaxConfig())


def test_assignment_stock_row_without_option_row_is_refused():
    xml = (DATA / "flex_trades.xml").read_text()
    lines = [x for x in xml.splitlines() if 'notes="A" buySell="BUY" ibExecID="" levelOfDetail' not in x
             or 'assetCategory="STK"' in x]
    with pytest.raises(InvalidInput, match="without the option row"):
        parse_bytes("\n".join(lines).encode(), "f.xml", TaxConfig())


def test_unrecognized_files():
    for data, needle in [(b"", "empty"), (b"a,b,c\n1,2,3\n", "unrecognized header"), (b"<foo/>", "not an IB Flex"),
                         (b"<FlexQueryResponse><Trades>", "not well-formed")]:
        with pytest.raises(InvalidInput, match=needle):
            parse_bytes(data, "x", TaxConfig())


def test_identical_rows_in_one_file_are_two_trades_with_distinct_keys():
    text = HEADER + "2025-03-03T09:45:00,live,SPY,BUY,1,500,0\n" * 2
    parsed = parse_bytes(text.encode(), "x.csv", TaxConfig())
    assert len({p.key for p in parsed.trades}) == 2
