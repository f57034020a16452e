"""Pricing an order for its preview and for the risk guard.

The net price shown and checked is the order's limit when it has one, else what the shared fill
model says a market order would pay now (far sides plus impact). Net prices are signed per share
(debit > 0, credit < 0). A positive ``limit_price`` on a structure whose mid is a credit means
"receive at least this": the sign follows the structure, as a trader says "sell the condor for
1.20".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from engine.core.marketdata import Quote
from engine.core.money import D, cents
from engine.execution.analysis import Profile, profile
from engine.execution.broker import OrderType
from engine.execution.fees import FeeBreakdown, FeeLine, FeeSchedule
from engine.execution.fill_model import FillModel, LegBook, allocate, mid_price, natural_price
from engine.execution.risk import RiskLeg, RiskOrder
from engine.execution.structures import ResolvedLeg, expiry_of

_Q2 = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Priced:
    legs: tuple[ResolvedLeg, ...]
    quotes: tuple[Quote, ...]
    books: tuple[LegBook, ...]
    quantity: int
    order_type: OrderType
    limit_price: Decimal | None   # signed
    natural: Decimal
    mid: Decimal
    price: Decimal                # the price previewed: limit, or the modelled market fill
    leg_prices: tuple[Decimal, ...]
    profile: Profile
    fees: FeeBreakdown
    spot: float
    expiry: date | None


def signed_limit(limit: Decimal | None, mid: Decimal) -> Decimal | None:
    """A positive limit on a credit structure is the credit wanted (see module docstring)."""
    if limit is None:
        return None
    limit = D(limit)
    return -limit if mid < 0 < limit else limit


def price_order(legs: Sequence[ResolvedLeg], quotes: Sequence[Quote], quantity: int, order_type: OrderType,
                limit_price: Decimal | None, *, model: FillModel, fees: FeeSchedule, spot: float,
                naked_pct: float = 0.20) -> Priced:
    books = tuple(LegBook.from_quote(leg.side, leg.ratio, q, leg.contract.multiplier if leg.contract else 1)
                  for leg, q in zip(legs, quotes, strict=True))
    natural, mid = natural_price(books), mid_price(books)
    limit = signed_limit(limit_price, mid)
    if limit is not None:
        price, leg_prices = limit, allocate(books, limit)
    else:
        res = model.evaluate(books, quantity=quantity, order_type=OrderType.MARKET)
        price, leg_prices = (res.net_price, res.leg_prices) if res else (natural, tuple(b.far for b in books))
    lines = [FeeLine(leg.side, leg.ratio * quantity, p, leg.contract is not None,
                     leg.contract.multiplier if leg.contract else 1)
             for leg, p in zip(legs, leg_prices, strict=True)]
    return Priced(tuple(legs), tuple(quotes), books, quantity, order_type, limit, natural, mid, price,
                  leg_prices, profile(legs, price, quantity, spot, naked_pct=naked_pct),
                  fees.order_fees(lines), spot, expiry_of(list(legs)))


def preview_dict(p: Priced) -> dict:
    legs = []
    for leg, q, lp in zip(p.legs, p.quotes, p.leg_prices, strict=True):
        c = leg.contract
        legs.append({"symbol": leg.symbol, "right": c.right.value if c else None,
                     "strike": c.strike if c else None, "expiry": c.expiry if c else None,
                     "side": leg.side.value, "ratio": leg.ratio, "quantity": leg.ratio * p.quantity,
                     "bid": q.bid, "ask": q.ask, "mid": round(q.mid, 4), "price": lp})
    pr = p.profile
    return {"legs": legs, "net_price": p.price.quantize(_Q2) if p.limit_price is not None else p.price,
            "price_effect": "credit" if p.price < 0 else "debit",
            "natural_price": p.natural, "mid_price": p.mid.quantize(Decimal("0.0001")),
            "quantity": p.quantity, "order_type": p.order_type.value,
            "premium": cents(abs(p.price) * 100 * p.quantity),
            "max_profit": pr.max_profit, "max_loss": pr.max_loss,
            "breakevens": list(pr.breakevens), "margin": pr.margin, "defined_risk": pr.defined_risk,
            "fees": p.fees.to_dict(), "spot": p.spot}


def risk_order(p: Priced, client_order_id: str, underlying: str) -> RiskOrder:
    legs = []
    notional = 0.0
    for leg, q in zip(p.legs, p.quotes, strict=True):
        c = leg.contract
        n = leg.ratio * p.quantity
        legs.append(RiskLeg(leg.symbol, leg.side.sign, n, c is not None, c.right.value if c else None,
                            float(c.strike) if c else 0.0, c.expiry if c else None, q.ts, q.bid, q.ask))
        # underlying exposure: the largest leg's contracts (a spread's legs hedge each other)
        notional = max(notional, p.spot * (c.multiplier if c else 1) * n)
    max_loss = p.profile.max_loss
    # option premium only: a stock leg's cost is exposure (notional, buying power), not premium
    option_net = sum((leg.side.sign * leg.ratio * price for leg, price in zip(p.legs, p.leg_prices, strict=True)
                      if leg.contract is not None), Decimal(0))
    return RiskOrder(client_order_id=client_order_id, underlying=underlying, legs=tuple(legs),
                     quantity=p.quantity, order_type=p.order_type.value,
                     limit_price=float(p.limit_price) if p.limit_price is not None else None,
                     mid_price=float(p.mid), premium=float(abs(option_net) * 100 * p.quantity), notional=notional,
                     max_loss=None if max_loss is None else float(max_loss),
                     margin=float(p.profile.margin + p.fees.total if p.profile.margin else p.fees.total),
                     naked=bool(p.profile.naked_shorts), spot=p.spot)

