"""Section 1256 (60/40, year-end marks, no wash sales), holding periods, lot methods.

Sources: IRC §1256(a)(1)-(3) and Form 6781 instructions (lines 7-9); Pub 550 "Holding Period"
(the February 5 example); Treas. Reg. §1.1012-1(c) (FIFO default, specific identification).
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.tax.config import TaxConfig
from engine.tax.matching import anniversary, is_long_term
from engine.tax.securities import classify
from tests.unit.tax.helpers import D, report, row, totals

SPXW = "SPXW250306P05800000"


def test_1256_split_60_40_with_fees(impl):
    """IRC §1256(a)(3): 2 SPXW bought @3.00 (+1.30) = 601.30, sold @4.00 (-1.30) = 798.70 ->
    net 197.40; line 8 = 40% = 78.96 short, line 9 = 60% = 118.44 long. Not on Form 8949."""
    rep = report(f"""
        2025-03-06T10:00:00,live,{SPXW},BUY,2,3.00,1.30
        2025-03-06T11:00:00,live,{SPXW},SELL,2,4.00,1.30""", 2025, impl=impl)
    s = rep.to_dict()["section_1256"]
    assert (s["net"], s["short_term_40"], s["long_term_60"]) == (D("197.40"), D("78.96"), D("118.44"))
    assert rep.rows == [] and rep.short_term.gain == 0


def test_1256_loss_split_and_no_wash_sale(impl):
    """§1256 losses are not washed (no code W, nothing carried): SPX loss 500 re-bought next day,
    then sold at +200: net -300 -> 40% -120, 60% -180."""
    rep = report("""
        2025-03-03T10:00:00,live,SPX250321C05800000,BUY,1,20.00,0
        2025-03-04T10:00:00,live,SPX250321C05800000,SELL,1,15.00,0
        2025-03-05T10:00:00,live,SPX250321C05800000,BUY,1,14.00,0
        2025-03-06T10:00:00,live,SPX250321C05800000,SELL,1,16.00,0""", 2025, impl=impl)
    s = rep.section_1256
    assert rep.wash_sale_disallowed == 0
    assert (s.net, s.short_term_40, s.long_term_60) == (D(-300), D(-120), D(-180))
    assert [e.gain for e in s.entries] == [D(-500), D(200)]


def test_1256_year_end_mark_to_market(impl):
    """IRC §1256(a)(1)-(2): an SPX call open on 2024-12-31 is treated as sold at its year-end
    value (mark 25.00 -> +500 in 2024) and 2025's gain is measured from that mark
    (sold 2025-01-10 @22 -> -300)."""
    text = """
        2024-12-20T10:00:00,live,SPX250117C06000000,BUY,1,20.00,0
        2025-01-10T10:00:00,live,SPX250117C06000000,SELL,1,22.00,0"""
    marks = {"2024:SPX250117C06000000": D("25.00")}
    r24 = report(text, 2024, impl=impl, marks=marks)
    r25 = report(text, 2025, impl=impl, marks=marks)
    assert (r24.section_1256.net, r25.section_1256.net) == (D(500), D(-300))
    assert r24.section_1256.entries[0].date_sold == date(2024, 12, 31)
    assert "marked to market at 25.00" in r24.section_1256.entries[0].explanation


def test_1256_year_end_mark_defaults_to_last_trade_price(impl):
    """Without a supplied mark the last trade price of the contract (here 20.00) is used."""
    text = "2024-12-20T10:00:00,live,SPX250117C06000000,BUY,1,20.00,0"
    rep = report(text, 2024, impl=impl)
    assert rep.section_1256.net == 0 and len(rep.section_1256.entries) == 1


def test_vix_and_index_options_are_1256_spy_is_not():
    """Broad-based index options (SPX, SPXW, NDX, RUT, VIX...) are §1256; SPY/QQQ/IWM options are
    equity options (IRC §1256(g)(6))."""
    assert classify("VIX250319C00020000").section_1256
    assert classify("NDXP250306C20000000").section_1256
    assert classify("RUTW250306C02000000").section_1256
    assert not classify("SPY250306C00500000").section_1256
    assert not classify("QQQ250306C00500000").section_1256
    assert not classify("IWM250306C00200000").section_1256


def test_1256_table_overridable_per_root_and_symbol(impl):
    """The root table is data: {"SPXW": false} sends SPXW to Form 8949; {"XYZ250321C00050000":
    true} makes one contract §1256."""
    cfg = TaxConfig(section_1256={"SPXW": False, "XYZ250321C00050000": True})
    rep = report(f"""
        2025-03-06T10:00:00,live,{SPXW},BUY,1,3.00,0
        2025-03-06T11:00:00,live,{SPXW},SELL,1,4.00,0
        2025-03-06T10:00:00,live,XYZ250321C00050000,BUY,1,1.00,0
        2025-03-06T11:00:00,live,XYZ250321C00050000,SELL,1,2.00,0""", 2025, impl=impl, config=cfg)
    assert [r.symbol for r in rep.rows] == [SPXW]
    assert rep.section_1256.net == D(100)


@pytest.mark.parametrize(("sold", "term", "box"), [("2024-02-05", "short", "A"), ("2024-02-06", "long", "D")])
def test_pub550_holding_period_february_5(impl, sold, term, box):
    """Pub 550, Holding Period: bought 2023-02-05 and sold 2024-02-05 -> not more than one year
    (short-term); sold 2024-02-06 -> long-term."""
    rep = report(f"""
        2023-02-05T10:00:00,live,XYZ,BUY,10,10.00,0
        {sold}T10:00:00,live,XYZ,SELL,10,12.00,0""", 2024, impl=impl)
    assert (row(rep, 0)["term"], row(rep, 0)["box"]) == (term, box)
    assert totals(rep, term)[3] == D(20)


def test_leap_day_anniversary():
    """A 29 February purchase: its anniversary is 28 February; long-term from 1 March."""
    assert anniversary(date(2024, 2, 29)) == date(2025, 2, 28)
    assert not is_long_term(date(2024, 2, 29), date(2025, 2, 28))
    assert is_long_term(date(2024, 2, 29), date(2025, 3, 1))


def test_wash_sale_tacks_holding_period_into_long_term(impl):
    """IRC §1223(3): a replacement's holding period includes the washed lot's. Held 2024-01-02 ->
    2024-12-02 (335 d), replaced 2024-12-10: start 2024-01-10; sold 2025-01-15 -> long-term."""
    rep = report("""
        2024-01-02T10:00:00,live,XYZ,BUY,10,10.00,0
        2024-12-02T10:00:00,live,XYZ,SELL,10,9.00,0
        2024-12-10T10:00:00,live,XYZ,BUY,10,9.00,0
        2025-01-15T10:00:00,live,XYZ,SELL,10,12.00,0""", 2025, impl=impl)
    r = row(rep, 0)
    assert (r["date_acquired"], r["term"], r["cost_basis"], r["gain"]) == ("2024-01-10", "long", D(100), D(20))


@pytest.mark.parametrize(("method", "gain", "washed"), [("fifo", D(10), D(0)), ("lifo", D(0), D(10)),
                                                        ("hifo", D(0), D(10))])
def test_lot_methods(impl, method, gain, washed):
    """FIFO (Treas. Reg. §1.1012-1(c)) sells the $10 lot: +10. LIFO and highest-cost sell the $12
    lot: loss 10 — washed, because the $10 lot bought within 30 days is still held."""
    rep = report("""
        2025-03-03T10:00:00,live,XYZ,BUY,10,10.00,0
        2025-03-04T10:00:00,live,XYZ,BUY,10,12.00,0
        2025-03-05T10:00:00,live,XYZ,SELL,10,11.00,0""", 2025, impl=impl, lot_method=method)
    assert (row(rep, 0)["gain"], row(rep, 0)["adjustment"]) == (gain, washed)


def test_cash_settled_index_assignment_closes_at_settlement(impl):
    """A cash-settled SPXW put written @20.00 (2,000) and assigned at its 12.50 intrinsic value
    (1,250): a §1256 gain of 750 (no stock changes hands) -> 40% 300 / 60% 450."""
    rep = report("""
        2025-03-03T10:00:00,live,SPXW250307P05800000,SELL,1,20.00,0
        2025-03-07T16:00:00,live,SPXW250307P05800000,ASSIGN,1,12.50,0""", 2025, impl=impl)
    s = rep.section_1256
    assert (s.net, s.short_term_40, s.long_term_60) == (D(750), D(300), D(450)) and rep.rows == []
