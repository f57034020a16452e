"""What-if wash-sale warnings for a proposed trade (IRC §1091; Rev. Rul. 2008-5 for the IRA case)."""

from __future__ import annotations

from datetime import date, datetime

from engine.core.clock import NY
from engine.tax.config import TaxConfig
from engine.tax.whatif import check_trade
from tests.unit.tax.helpers import D, trades

BOOK = trades("""
    2025-03-01T10:00:00,live,XYZ,BUY,10,10.00,0
    2025-03-05T10:00:00,live,XYZ,BUY,10,9.00,0""")
LOSS_TAKEN = trades("""
    2025-03-01T10:00:00,live,SPY250321C00500000,BUY,2,3.00,0
    2025-03-05T10:00:00,live,SPY250321C00500000,SELL,2,2.00,0""")
NOW = datetime(2025, 3, 10, 11, 0, tzinfo=NY)


def _check(book, symbol, qty, price, side, account="live", matching=None):
    return check_trade(book, TaxConfig(), symbol=symbol, quantity=qty, price=price, account=account, side=side,
                       when=NOW, matching=matching)


def test_selling_at_a_loss_with_a_recent_purchase_held():
    """FIFO sells the $10 lot at $8: loss $20; the $9 lot bought 03-05 is still held -> wash."""
    w = _check(BOOK, "XYZ", 10, "8.00", "SELL")
    assert w is not None and (w.loss, w.disallowed, w.permanent) == (D(20), D(20), False)
    assert w.message.startswith("selling this now at a loss would be a wash sale because XYZ was bought "
                                "2025-03-05 (within 30 days): $20.00 of the $20.00 loss would be disallowed")


def test_selling_at_a_gain_or_without_replacement_is_fine():
    assert _check(BOOK, "XYZ", 10, "12.00", "SELL") is None
    one_lot = BOOK[:1]
    assert _check(one_lot, "XYZ", 10, "8.00", "SELL") is None


def test_buying_back_after_a_loss_would_wash_it():
    """The $200 loss of 03-05: buying 1 contract back on 03-10 disallows half of it ($100)."""
    w = _check(LOSS_TAKEN, "SPY250321C00500000", 1, "1.50", "BUY")
    assert w is not None and w.disallowed == D(100) and w.loss == 0
    assert "buying this now would be a wash-sale replacement: it would disallow $100.00 of the loss on " \
           "SPY250321C00500000 closed 2025-03-05" in w.message


def test_buying_a_different_strike_depends_on_the_preset():
    assert _check(LOSS_TAKEN, "SPY250321C00505000", 2, "1.00", "BUY", matching="identical") is None
    w = _check(LOSS_TAKEN, "SPY250321C00505000", 2, "1.00", "BUY", matching="underlying")
    assert w is not None and w.disallowed == D(200) and w.wash_sale_matching == "underlying"


def test_buying_in_the_ira_disallows_for_good():
    w = _check(LOSS_TAKEN, "SPY250321C00500000", 2, "1.50", "BUY", account="ira")
    assert w is not None and w.permanent and "permanently (IRA purchase" in w.message


def test_paper_trades_never_warn():
    assert _check(LOSS_TAKEN, "SPY250321C00500000", 2, "1.50", "BUY", account="paper") is None


def test_lot_choice_for_planning():
    """Treas. Reg. §1.1012-1(c): selling 10 @9.50 — FIFO closes the $10 lot (loss $5, washed by
    the $9 lot still held); LIFO or naming the 03-05 lot closes the $9 lot: a gain, no warning."""
    base = dict(symbol="XYZ", quantity=10, price="9.50", account="live", side="SELL", when=NOW)
    assert check_trade(BOOK, TaxConfig(), **base).disallowed == D(5)
    assert check_trade(BOOK, TaxConfig(), **base, lot_method="lifo") is None
    assert check_trade(BOOK, TaxConfig(), **base, lots=[date(2025, 3, 5)]) is None
