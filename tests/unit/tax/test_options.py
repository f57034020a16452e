"""Options: expiry, assignment, exercise, shorts, 0DTE re-entry, the two matching presets.

Sources: Pub 550 "Options" (expiry, premium folded into stock on exercise/assignment, written
options short-term), IRC §1091 (options are securities; "contract or option to acquire"),
Treas. Reg. §1.1091-1(g) (short sales), and hand-built 0DTE scenarios (issue 7). Numbers by hand.
"""

from __future__ import annotations

from engine.tax.config import TaxConfig
from tests.unit.tax.helpers import D, report, row, totals

C500 = "SPY250303C00500000"
DIFFERENT_STRIKE = """
    2025-03-03T10:00:00,live,SPY250321C00500000,BUY,1,2.00,0
    2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,1.00,0
    2025-03-07T10:00:00,live,SPY250321C00505000,BUY,1,0.80,0
    2025-03-10T10:00:00,live,SPY250321C00505000,SELL,1,1.50,0"""


def test_0dte_same_day_reentry_with_fees(impl):
    """0DTE re-entry: buy 2 @1.50 (+1.30) = 301.30, sell 2 @1.20 (-1.30) = 238.70 -> loss 62.60,
    washed by the 11:00 re-entry 2 @1.10 (+1.30) = 221.30 -> basis 283.90; sold 2 @1.40 (-1.30) =
    278.70 -> loss 5.20 allowed. Column (h) total -5.20 = the day's economic result."""
    rep = report(f"""
        2025-03-03T10:00:00,live,{C500},BUY,2,1.50,1.30
        2025-03-03T10:30:00,live,{C500},SELL,2,1.20,1.30
        2025-03-03T11:00:00,live,{C500},BUY,2,1.10,1.30
        2025-03-03T15:00:00,live,{C500},SELL,2,1.40,1.30""", 2025, impl=impl)
    assert row(rep, 0)["adjustment"] == D("62.60")
    assert row(rep, 1)["cost_basis"] == D("283.90")
    assert totals(rep) == (D("517.40"), D("585.20"), D("62.60"), D("-5.20"))
    assert rep.rows[0].explanation == f"loss of $62.60 disallowed: replaced by {C500} bought 2025-03-03"


def test_issue_example_explanation_wording(impl):
    """The issue's sentence: "loss of $312.40 disallowed: replaced by SPY250307C00510000 bought 2025-03-05"."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250307C00510000,BUY,1,5.00,0
        2025-03-04T10:00:00,live,SPY250307C00510000,SELL,1,1.876,0
        2025-03-05T10:00:00,live,SPY250307C00510000,BUY,1,2.00,0""", 2025, impl=impl)
    assert rep.rows[0].explanation == ("loss of $312.40 disallowed: replaced by SPY250307C00510000 "
                                       "bought 2025-03-05")


def test_different_strike_identical_preset_not_washed(impl):
    """Preset identical (1099-B-like): a different strike is a different security -> $100 allowed."""
    rep = report(DIFFERENT_STRIKE, 2025, impl=impl, matching="identical")
    assert rep.wash_sale_disallowed == 0
    assert rep.short_term.gain == D(-100) + D(70)


def test_different_strike_underlying_preset_washed(impl):
    """Preset underlying (conservative): any SPY option replaces -> $100 into the 505 call's basis
    (80 + 100 = 180; sold for 150: loss 30). Total (h) is the same -30, only the timing differs."""
    rep = report(DIFFERENT_STRIKE, 2025, impl=impl, matching="underlying")
    assert rep.wash_sale_disallowed == D(100)
    assert (row(rep, 1)["cost_basis"], row(rep, 1)["gain"]) == (D(180), D(-30))
    assert rep.wash_sale_matching == "underlying"


def test_setting_default_preset_from_config(impl):
    """TaxConfig.wash_sale_matching is the default when the report does not choose."""
    cfg = TaxConfig(wash_sale_matching="underlying")
    rep = report("""
        2025-03-03T10:00:00,live,SPY250321C00500000,BUY,1,2.00,0
        2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,1.00,0
        2025-03-07T10:00:00,live,SPY250321P00490000,BUY,1,0.80,0""", 2025, impl=impl, config=cfg)
    assert rep.wash_sale_disallowed == D(100) and rep.wash_sale_matching == "underlying"


def test_expired_0dte_then_next_day_0dte_under_both_presets(impl):
    """A long 0DTE call expiring worthless is a sale at $0 on expiry day (Pub 550): loss 150.
    Next day's 0DTE (a different expiry) washes it only under the underlying preset."""
    text = """
        2025-03-03T10:00:00,live,SPY250303C00500000,BUY,1,1.50,0
        2025-03-03T16:00:00,live,SPY250303C00500000,EXPIRE,1,0,0
        2025-03-04T10:00:00,live,SPY250304C00500000,BUY,1,1.00,0
        2025-03-04T11:00:00,live,SPY250304C00500000,SELL,1,2.00,0"""
    ident = report(text, 2025, impl=impl, matching="identical")
    under = report(text, 2025, impl=impl, matching="underlying")
    assert row(ident, 0)["proceeds"] == 0 and row(ident, 0)["gain"] == D(-150)
    assert "(expired)" in row(ident, 0)["description"]
    assert ident.wash_sale_disallowed == 0
    assert under.wash_sale_disallowed == D(150)
    assert (row(under, 1)["cost_basis"], row(under, 1)["gain"]) == (D(250), D(-50))


def test_stock_loss_replaced_by_call_under_underlying(impl):
    """IRC §1091(a) "contract or option to acquire": under the underlying preset a call bought
    within 30 days replaces 100 shares (1 contract = 100 shares) -> the stock's $500 loss washed."""
    text = """
        2025-03-03T10:00:00,live,SPY,BUY,100,500.00,0
        2025-03-10T10:00:00,live,SPY,SELL,100,495.00,0
        2025-03-12T10:00:00,live,SPY250417C00500000,BUY,1,6.00,0"""
    assert report(text, 2025, impl=impl, matching="underlying").wash_sale_disallowed == D(500)
    assert report(text, 2025, impl=impl, matching="identical").wash_sale_disallowed == 0


def test_partial_replacement_of_contracts(impl):
    """5 contracts sold at a $100/contract loss, 3 bought back: 3/5 of $500 = $300 disallowed,
    $200 allowed; the explanation says 3 of 5."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250321C00500000,BUY,5,3.00,0
        2025-03-04T10:00:00,live,SPY250321C00500000,SELL,5,2.00,0
        2025-03-05T10:00:00,live,SPY250321C00500000,BUY,3,1.50,0""", 2025, impl=impl)
    r = row(rep, 0)
    assert (r["adjustment"], r["gain"]) == (D(300), D(-200))
    assert "loss of $500.00, $300.00 of it disallowed" in rep.rows[0].explanation
    assert "3 of 5 SPY250321C00500000" in rep.rows[0].explanation


def test_each_replacement_share_used_once(impl):
    """Treas. Reg. §1.1091-1(e): one purchase of 2 contracts sold in two fills at a $100 loss
    each, then ONE contract bought back: it replaces the earlier loss only ($100 W, $100 allowed)."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250321C00500000,BUY,2,2.00,0
        2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,1.00,0
        2025-03-04T11:00:00,live,SPY250321C00500000,SELL,1,1.00,0
        2025-03-05T10:00:00,live,SPY250321C00500000,BUY,1,0.50,0""", 2025, impl=impl)
    assert [row(rep, i)["adjustment"] for i in range(2)] == [D(100), D(0)]


def test_held_position_on_same_underlying_is_a_replacement(impl):
    """Underlying preset: the C505 call bought the day before and still held replaces the C500
    loss ($100 into C505: basis 300); C505 sold at 100 -> loss 200, replaced by C510 (basis 50 + 200)."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250321C00500000,BUY,1,2.00,0
        2025-03-03T10:00:00,live,SPY250321C00505000,BUY,1,2.00,0
        2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,1.00,0
        2025-03-04T11:00:00,live,SPY250321C00505000,SELL,1,1.00,0
        2025-03-05T10:00:00,live,SPY250321C00510000,BUY,1,0.50,0
        2025-03-06T10:00:00,live,SPY250321C00510000,SELL,1,0.50,0""", 2025, impl=impl, matching="underlying")
    assert [row(rep, i)["adjustment"] for i in range(3)] == [D(100), D(200), D(0)]
    assert [row(rep, i)["cost_basis"] for i in range(3)] == [D(200), D(300), D(250)]
    assert rep.short_term.gain == D(-200)


def test_short_option_expired_is_premium_gain(impl):
    """Pub 550: a written option that expires is a short-term gain of the premium: 2.00 x 100 - 0.65
    fee = 199.35. Column (b) and (c): the expiry date."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250303P00490000,SELL,1,2.00,0.65
        2025-03-03T16:00:00,live,SPY250303P00490000,EXPIRE,1,0,0""", 2025, impl=impl)
    r = row(rep, 0)
    assert (r["proceeds"], r["cost_basis"], r["gain"], r["term"]) == (D("199.35"), D(0), D("199.35"), "short")
    assert r["date_acquired"] == r["date_sold"] == "2025-03-03"


def test_short_option_closed_after_a_year_is_still_short_term(impl):
    """Closing a written option is short-term whatever the holding (IRC §1234(b)): opened
    2024-01-10, bought back 2025-03-10 -> short-term, box A."""
    rep = report("""
        2024-01-10T10:00:00,live,SPY260116C00600000,SELL,1,10.00,0
        2025-03-10T10:00:00,live,SPY260116C00600000,BUY,1,4.00,0""", 2025, impl=impl)
    assert (row(rep, 0)["term"], row(rep, 0)["box"], row(rep, 0)["gain"]) == ("short", "A", D(600))


def test_short_option_loss_washed_by_new_short(impl):
    """Reg. §1.1091-1(g) on written options: sold 1 @1.00, bought back @2.00 (loss 100), sold the
    same contract again @1.50 within 30 days -> washed; closing the new short @0.50: 150 - (50 + 100) = 0."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250321P00490000,SELL,1,1.00,0
        2025-03-04T10:00:00,live,SPY250321P00490000,BUY,1,2.00,0
        2025-03-05T10:00:00,live,SPY250321P00490000,SELL,1,1.50,0
        2025-03-06T10:00:00,live,SPY250321P00490000,BUY,1,0.50,0""", 2025, impl=impl)
    assert [row(rep, i)["adjustment"] for i in range(2)] == [D(100), D(0)]
    assert row(rep, 1)["cost_basis"] == D(150) and row(rep, 1)["gain"] == 0


def test_put_assigned_reduces_stock_basis(impl):
    """Pub 550: a written put exercised against you -> reduce the stock's basis by the premium:
    sold XYZ 50P @2.00 (200); assigned: 100 sh at 5,000 - 200 = 4,800; sold @49 = 4,900 -> +100."""
    rep = report("""
        2025-03-03T10:00:00,live,XYZ250321P00050000,SELL,1,2.00,0
        2025-03-21T16:00:00,live,XYZ250321P00050000,ASSIGN,1,0,0
        2025-04-01T10:00:00,live,XYZ,SELL,100,49.00,0""", 2025, impl=impl)
    assert len(rep.rows) == 1
    assert (row(rep, 0)["cost_basis"], row(rep, 0)["gain"]) == (D(4800), D(100))
    assert row(rep, 0)["date_acquired"] == "2025-03-21"


def test_call_assigned_adds_premium_to_proceeds(impl):
    """Pub 550: a written call exercised -> increase the amount realized by the premium: 100 sh
    bought @45 (4,500), sold 50C @3.00 (300), assigned: proceeds 5,000 + 300 = 5,300 -> +800."""
    rep = report("""
        2025-01-02T10:00:00,live,XYZ,BUY,100,45.00,0
        2025-03-03T10:00:00,live,XYZ250321C00050000,SELL,1,3.00,0
        2025-03-21T16:00:00,live,XYZ250321C00050000,ASSIGN,1,0,0""", 2025, impl=impl)
    assert len(rep.rows) == 1
    assert (row(rep, 0)["proceeds"], row(rep, 0)["cost_basis"], row(rep, 0)["gain"]) == (D(5300), D(4500), D(800))


def test_call_exercised_adds_cost_to_stock_basis(impl):
    """Pub 550: exercising a call adds its cost to the stock's basis: 50C bought @2.00 + 0.65 =
    200.65; stock basis 5,000 + 200.65 = 5,200.65; sold @55 = 5,500 -> +299.35."""
    rep = report("""
        2025-03-03T10:00:00,live,XYZ250321C00050000,BUY,1,2.00,0.65
        2025-03-20T16:00:00,live,XYZ250321C00050000,EXERCISE,1,0,0
        2025-04-01T10:00:00,live,XYZ,SELL,100,55.00,0""", 2025, impl=impl)
    assert len(rep.rows) == 1
    assert (row(rep, 0)["cost_basis"], row(rep, 0)["gain"]) == (D("5200.65"), D("299.35"))


def test_put_exercised_reduces_stock_proceeds_long_term(impl):
    """Pub 550: exercising a put reduces the amount realized by its cost. 100 sh bought 2023-01-03
    @60 (6,000); 55P bought 2024-05-01 @1.50 (150); exercised 2024-06-03: proceeds 5,500 - 150 =
    5,350 -> loss 650, long-term (held since 2023), box D."""
    rep = report("""
        2023-01-03T10:00:00,live,XYZ,BUY,100,60.00,0
        2024-05-01T10:00:00,live,XYZ240621P00055000,BUY,1,1.50,0
        2024-06-03T16:00:00,live,XYZ240621P00055000,EXERCISE,1,0,0""", 2024, impl=impl)
    assert rep.rows and len(rep.rows) == 1
    r = row(rep, 0)
    assert (r["proceeds"], r["cost_basis"], r["gain"], r["term"], r["box"]) == (
        D(5350), D(6000), D(-650), "long", "D")
    assert totals(rep, "long") == (D(5350), D(6000), D(0), D(-650))


def test_option_left_open_past_expiry_expires_at_zero(impl):
    """A position still open after its expiry with no closing row is closed at $0 on the expiry
    date (the broker file left the row out): loss = cost 120."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY250305C00500000,BUY,1,1.20,0
        2025-03-10T10:00:00,live,SPY,BUY,1,500.00,0""", 2025, impl=impl)
    r = row(rep, 0)
    assert (r["date_sold"], r["proceeds"], r["gain"]) == ("2025-03-05", D(0), D(-120))


def test_sell_without_long_opens_short_and_buy_closes_it_first(impl):
    """A SELL with no open long opens a short; a BUY closes the short first: short 100 @20; buy 150
    @15 (2,250): 100 close the short (cost 1,500, gain 500), 50 open a long (basis 750); sold @16: +50."""
    rep = report("""
        2025-03-03T10:00:00,live,XYZ,SELL,100,20.00,0
        2025-03-10T10:00:00,live,XYZ,BUY,150,15.00,0
        2025-03-20T10:00:00,live,XYZ,SELL,50,16.00,0""", 2025, impl=impl)
    assert [(row(rep, i)["proceeds"], row(rep, i)["cost_basis"]) for i in range(2)] == [
        (D(2000), D(1500)), (D(800), D(750))]
    assert "(short)" in row(rep, 0)["description"]


def test_padded_occ_symbol_equals_compact(impl):
    """OCC padded symbols (root left-justified in six) are the same contract as compact ones."""
    rep = report("""
        2025-03-03T10:00:00,live,SPY   250321C00500000,BUY,1,2.00,0
        2025-03-04T10:00:00,live,SPY250321C00500000,SELL,1,2.50,0""", 2025, impl=impl)
    assert row(rep, 0)["symbol"] == "SPY250321C00500000" and row(rep, 0)["gain"] == D(50)


def test_expiry_booked_next_business_day_counts_on_expiration_date(impl):
    """Brokers that book an expiration the next business day: the option still ended on its
    expiration date (Pub 550), so the sale at $0 is dated Friday 2025-03-07, not Monday."""
    rep = report("""
        2025-03-05T10:00:00,live,SPY250307C00510000,BUY,1,1.00,0
        2025-03-10T08:00:00,live,SPY250307C00510000,EXPIRE,1,0,0""", 2025, impl=impl)
    assert (row(rep, 0)["date_sold"], row(rep, 0)["gain"]) == ("2025-03-07", D(-100))
