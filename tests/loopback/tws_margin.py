"""Margin and commissions of the loopback TWS's simulated account (IB-like, simplified).

Initial margin of an order: the maximum loss at expiry between the strikes (a defined-risk
structure needs exactly that), and for each side left net short — calls lose without bound
above, puts down to zero — the naked rule, 20 % of the short strikes' notional plus the premium
received, whichever is larger. Commissions: $0.65 per option contract, $1.00 minimum per order.
"""

from __future__ import annotations

from tests.loopback.tws_wire import Listing, Margin, ServerOrder

COMMISSION_PER_CONTRACT = 0.65
MIN_COMMISSION = 1.00
NAKED_MARGIN_RATE = 0.20


def order_margin(o: ServerOrder, legs: list[tuple[Listing, int, int]], far_price: float, init_before: float,
                 equity: float) -> Margin:
    """What-if numbers of ``o``; ``legs`` are (listing, ratio, direction ±1) per leg."""
    qty = o.quantity
    price = o.lmt_price if o.lmt_price is not None else far_price
    debit = (price if o.action == "BUY" else -price) * 100  # per unit, in dollars
    strikes = sorted({li.strike for li, _, _ in legs if li.sec_type == "OPT"})

    def value(s: float) -> float:
        return sum(d * r * li.mult * (max(s - li.strike, 0) if li.right == "C" else max(li.strike - s, 0))
                   for li, r, d in legs if li.sec_type == "OPT")

    worst = -min((value(s) - debit for s in strikes), default=-debit)
    for right in ("C", "P"):
        if sum(d * r for li, r, d in legs if li.right == right) < 0:  # net short: uncovered
            worst = max(worst, sum(NAKED_MARGIN_RATE * li.strike * li.mult * r
                                   for li, r, d in legs if d < 0 and li.right == right) - min(debit, 0))
    init = max(worst, 0.0) * qty
    contracts = sum(r * qty for li, r, _ in legs if li.sec_type == "OPT")
    commission = max(MIN_COMMISSION, COMMISSION_PER_CONTRACT * contracts)
    return Margin(init_before, init_before * 0.8, equity, round(init, 2), round(init * 0.8, 2), round(commission, 2))
