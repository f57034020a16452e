"""Wash sales of stock: IRS Publication 550 ("Wash Sales") and Treas. Reg. §1.1091-1 examples.

Expected numbers are derived by hand in each docstring; every case runs through both the fast
engine and the reference implementation (``impl`` fixture).
"""

from __future__ import annotations

from datetime import date

from engine.tax.config import TaxConfig
from tests.unit.tax.helpers import D, report, row, totals

IRA_CASE = """
    2025-03-01T10:00:00,live,XYZ,BUY,100,20.00,0
    2025-03-10T10:00:00,live,XYZ,SELL,100,16.00,0
    2025-03-15T10:00:00,ira,XYZ,BUY,100,15.00,0
    2025-06-15T10:00:00,ira,XYZ,SELL,100,10.00,0"""


def test_pub550_example1_loss_added_to_new_basis(impl):
    """Pub 550, Wash Sales, Example 1: bought 100 sh for $1,000, sold for $750, bought 100 within
    30 days for $800 -> $250 loss disallowed, new basis $800 + $250 = $1,050. Sold later for $1,100:
    gain $50. Holding period tacks: 32 days held -> new lot's start 2025-02-10 - 32 d = 2025-01-09."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,10.00,0
        2025-02-03T10:00:00,live,XYZ,SELL,100,7.50,0
        2025-02-10T10:00:00,live,XYZ,BUY,100,8.00,0
        2025-06-02T10:00:00,live,XYZ,SELL,100,11.00,0""", 2025, impl=impl)
    r0, r1 = row(rep, 0), row(rep, 1)
    assert (r0["proceeds"], r0["cost_basis"], r0["code"], r0["adjustment"], r0["gain"]) == (
        D(750), D(1000), "W", D(250), D(0))
    assert (r1["proceeds"], r1["cost_basis"], r1["code"], r1["gain"]) == (D(1100), D(1050), "", D(50))
    assert r1["date_acquired"] == "2025-01-09"
    assert rep.wash_sale_disallowed == D(250)
    assert totals(rep) == (D(1850), D(2050), D(250), D(50))
    assert "loss of $250.00 disallowed: replaced by XYZ bought 2025-02-10" in rep.rows[0].explanation


def test_pub550_example2_replacement_costs_more(impl):
    """Pub 550, Example 2: bought for $1,000, sold for $750, bought again for $1,100 within 30 days:
    $250 disallowed, basis $1,350. Sold later for $1,200 (no further purchase): loss $150 allowed."""
    rep = report("""
        2025-01-02T10:00:00,live,M,BUY,100,10.00,0
        2025-02-03T10:00:00,live,M,SELL,100,7.50,0
        2025-02-20T10:00:00,live,M,BUY,100,11.00,0
        2025-07-01T10:00:00,live,M,SELL,100,12.00,0""", 2025, impl=impl)
    assert row(rep, 1)["cost_basis"] == D(1350)
    assert row(rep, 1)["gain"] == D(-150)
    assert row(rep, 1)["code"] == ""
    assert rep.short_term.gain == D(-150)


def test_pub550_example3_fewer_shares_bought_partial_disallowance(impl):
    """Pub 550, Example 3: 100 sh bought 2024-09-24 for $5,000; 50 sh bought 2024-12-21 for $2,750;
    the 100 sold 2024-12-28 for $4,000. Half the $1,000 loss ($500) is disallowed; the other $500 is
    deductible; the 50 new shares' basis is $2,750 + $500 = $3,250 (sold 2025-03-03 for $3,500: +$250)."""
    text = """
        2024-09-24T10:00:00,live,M,BUY,100,50.00,0
        2024-12-21T10:00:00,live,M,BUY,50,55.00,0
        2024-12-28T10:00:00,live,M,SELL,100,40.00,0
        2025-03-03T10:00:00,live,M,SELL,50,70.00,0"""
    r24 = report(text, 2024, impl=impl)
    assert totals(r24) == (D(4000), D(5000), D(500), D(-500))
    assert r24.wash_sale_disallowed == D(500)
    r25 = report(text, 2025, impl=impl)
    assert (row(r25, 0)["cost_basis"], row(r25, 0)["gain"]) == (D(3250), D(250))
    # 95 days held (09-24 -> 12-28) tacked onto 12-21: start 2024-09-17; still short-term in March
    assert row(r25, 0)["date_acquired"] == "2024-09-17" and row(r25, 0)["term"] == "short"


def test_reg_1091_more_shares_bought_matched_in_order_acquired(impl):
    """Treas. Reg. §1.1091-1(c)/(e): more shares acquired than sold -> the replacements are the
    shares acquired first (50 on 03-03, 50 on 03-12); the 50 bought 03-14 are not. $1,000 loss on
    100 sh: $500 into each replacement lot (basis 450 + 500 = 950 and 480 + 500 = 980)."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,20.00,0
        2025-03-03T10:00:00,live,XYZ,BUY,50,9.00,0
        2025-03-10T10:00:00,live,XYZ,SELL,100,10.00,0
        2025-03-12T10:00:00,live,XYZ,BUY,50,9.60,0
        2025-03-14T10:00:00,live,XYZ,BUY,50,9.80,0
        2025-05-01T10:00:00,live,XYZ,SELL,150,10.00,0""", 2025, impl=impl)
    assert row(rep, 0)["adjustment"] == D(1000)
    later = [row(rep, i) for i in (1, 2, 3)]
    assert [r["cost_basis"] for r in later] == [D(950), D(980), D(490)]
    assert [r["gain"] for r in later] == [D(-450), D(-480), D(10)]


def test_gain_is_never_washed(impl):
    """IRC §1091 disallows losses only: a sale at a gain followed by a repurchase stays a gain."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,10.00,0
        2025-01-10T10:00:00,live,XYZ,SELL,100,12.00,0
        2025-01-11T10:00:00,live,XYZ,BUY,100,11.00,0""", 2025, impl=impl)
    assert row(rep, 0)["code"] == "" and row(rep, 0)["gain"] == D(200)
    assert rep.wash_sale_disallowed == 0


def test_replacement_bought_before_the_sale_and_still_held(impl):
    """Pub 550: "within 30 days before or after the sale". Lot 2 bought 5 days before the sale of
    lot 1 (FIFO) and still held -> lot 1's $200 loss goes into lot 2 (basis 900 + 200 = 1,100)."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,10.00,0
        2025-01-20T10:00:00,live,XYZ,BUY,100,9.00,0
        2025-01-25T10:00:00,live,XYZ,SELL,100,8.00,0
        2025-04-01T10:00:00,live,XYZ,SELL,100,12.00,0""", 2025, impl=impl)
    assert (row(rep, 0)["adjustment"], row(rep, 0)["gain"]) == (D(200), D(0))
    assert (row(rep, 1)["cost_basis"], row(rep, 1)["gain"]) == (D(1100), D(100))


def test_purchase_more_than_30_days_before_is_not_a_replacement(impl):
    """The window is 30 days before the sale: a lot bought 36 days before does not wash ($200 allowed)."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,10.00,0
        2025-01-10T10:00:00,live,XYZ,BUY,100,9.00,0
        2025-02-15T10:00:00,live,XYZ,SELL,100,8.00,0""", 2025, impl=impl)
    assert row(rep, 0)["code"] == "" and row(rep, 0)["gain"] == D(-200)


def test_window_edge_30_days_after_washes_31_does_not(impl):
    """61-day window: a purchase on day +30 is inside, on day +31 outside (calendar days)."""
    base = """
        2025-01-02T10:00:00,live,XYZ,BUY,10,10.00,0
        2025-03-03T10:00:00,live,XYZ,SELL,10,9.00,0
        {day}T10:00:00,live,XYZ,BUY,10,9.00,0"""
    inside = report(base.format(day="2025-04-02"), 2025, impl=impl)
    outside = report(base.format(day="2025-04-03"), 2025, impl=impl)
    assert inside.wash_sale_disallowed == D(10)
    assert outside.wash_sale_disallowed == 0


def test_chained_wash_sales(impl):
    """Chained washes: each loss moves into the next purchase, which is itself sold at a loss and
    replaced. Losses $20 and $40 disallowed; final basis 80 + 40 = 120 = proceeds -> gain 0; the
    total of column (h) equals the economic result (-100 + 90 - 80 ... = 0)."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,10,10.00,0
        2025-01-06T10:00:00,live,XYZ,SELL,10,8.00,0
        2025-01-10T10:00:00,live,XYZ,BUY,10,9.00,0
        2025-01-15T10:00:00,live,XYZ,SELL,10,7.00,0
        2025-01-20T10:00:00,live,XYZ,BUY,10,8.00,0
        2025-04-01T10:00:00,live,XYZ,SELL,10,12.00,0""", 2025, impl=impl)
    assert [row(rep, i)["adjustment"] for i in range(3)] == [D(20), D(40), D(0)]
    assert [row(rep, i)["cost_basis"] for i in range(3)] == [D(100), D(110), D(120)]
    assert totals(rep) == (D(270), D(330), D(60), D(0))


def test_december_loss_january_purchase(impl):
    """Across the year boundary: a 2024-12-20 loss replaced on 2025-01-10 is disallowed in 2024
    (code W in the 2024 report); the 2025 report carries it in the basis and has no W of its own."""
    text = """
        2024-11-01T10:00:00,live,XYZ,BUY,100,10.00,0
        2024-12-20T10:00:00,live,XYZ,SELL,100,7.00,0
        2025-01-10T10:00:00,live,XYZ,BUY,100,7.50,0
        2025-02-10T10:00:00,live,XYZ,SELL,100,8.00,0"""
    r24, r25 = report(text, 2024, impl=impl), report(text, 2025, impl=impl)
    assert (r24.wash_sale_disallowed, r24.short_term.gain) == (D(300), D(0))
    assert r25.wash_sale_disallowed == 0
    assert (row(r25, 0)["cost_basis"], row(r25, 0)["gain"]) == (D(1050), D(-250))


def test_ira_replacement_disallows_permanently(impl):
    """Rev. Rul. 2008-5: a loss sale in a taxable account replaced within 30 days in the
    taxpayer's IRA is disallowed (code W, $400) and NOT added to the IRA's basis; the IRA's own
    sale is never reported."""
    rep = report(IRA_CASE, 2025, impl=impl)
    assert len(rep.rows) == 1
    assert (row(rep, 0)["adjustment"], row(rep, 0)["gain"]) == (D(400), D(0))
    assert "permanently disallowed" in rep.rows[0].explanation
    assert "in IRA account ira" in rep.rows[0].explanation


def test_ira_flag_is_a_setting(impl):
    """The IRA list is configurable: with ira_accounts=['roth'] an account named 'roth' is the IRA
    and 'ira' is an ordinary taxable account (its sale is reported, its lot carries the $400)."""
    cfg = TaxConfig(ira_accounts=["roth"])
    rep = report(IRA_CASE, 2025, impl=impl, config=cfg)
    assert len(rep.rows) == 2
    assert (row(rep, 1)["cost_basis"], row(rep, 1)["gain"]) == (D(1900), D(-900))


def test_replacement_in_another_taxable_account(impl):
    """§1091 applies per taxpayer: a purchase in a second live account ('margin2') is a replacement."""
    rep = report("""
        2025-03-01T10:00:00,live,XYZ,BUY,10,20.00,0
        2025-03-10T10:00:00,live,XYZ,SELL,10,16.00,0
        2025-03-15T10:00:00,margin2,XYZ,BUY,10,15.00,0""", 2025, impl=impl)
    assert rep.wash_sale_disallowed == D(40)
    assert "replaced by XYZ bought 2025-03-15" in rep.rows[0].explanation


def test_shares_of_the_same_lot_do_not_replace_each_other(impl):
    """Selling half of one purchase at a loss: the other half of that same purchase is not a
    replacement (1099-B practice) -> $50 loss allowed."""
    rep = report("""
        2025-03-01T10:00:00,live,XYZ,BUY,10,20.00,0
        2025-03-10T10:00:00,live,XYZ,SELL,5,10.00,0""", 2025, impl=impl)
    assert row(rep, 0)["gain"] == D(-50) and rep.wash_sale_disallowed == 0


def test_short_sale_closed_at_loss_replaced_by_new_short_sale(impl):
    """Treas. Reg. §1.1091-1(g): closing a short sale at a loss and selling short again within 30
    days is a wash sale; the $500 loss raises the cost of closing the new short (gain 0, not 500)."""
    rep = report("""
        2025-03-03T10:00:00,live,XYZ,SELL,100,20.00,0
        2025-03-10T10:00:00,live,XYZ,BUY,100,25.00,0
        2025-03-20T10:00:00,live,XYZ,SELL,100,24.00,0
        2025-04-20T10:00:00,live,XYZ,BUY,100,19.00,0""", 2025, impl=impl)
    assert (row(rep, 0)["adjustment"], row(rep, 0)["gain"]) == (D(500), D(0))
    assert (row(rep, 1)["proceeds"], row(rep, 1)["cost_basis"], row(rep, 1)["gain"]) == (D(2400), D(2400), D(0))
    assert "sold short 2025-03-20" in rep.rows[0].explanation
    assert date.fromisoformat(row(rep, 0)["date_acquired"]) == date(2025, 3, 10)
