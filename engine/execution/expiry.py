"""Option expiry processing, as the OCC and the broker do it after the settlement price is known.

For every option position whose contract has settled:

* **long, in the money by at least $0.01** (OCC exercise-by-exception threshold) → EXERCISE;
* **short, in the money by at least $0.01** → ASSIGN;
* otherwise → EXPIRE worthless (price 0).

Cash-settled contracts (SPX/SPXW, VIX, NDX, RUT) close at their intrinsic value in cash: the
trade row has action EXERCISE/ASSIGN and ``price = intrinsic``. Physically settled ones
(SPY/QQQ/IWM) close the option at price 0 and book the stock at the strike (long call exercised
or short put assigned → buy 100 shares per contract; long put exercised or short call
assigned → sell 100 shares). The premium is then in the option's realized P&L; the tax part adjusts
stock basis for premium from the EXERCISE/ASSIGN rows (see ``ledger_export``).

Settlement: PM-settled roots at the close of the expiry session, AM-settled roots (SPX third
Friday, VIX) at the opening of the expiry day. Event ids are ``EXP:<symbol>`` so processing twice
books nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.core.instruments import OptionContract, Right, Settlement, SettleTime, parse_occ
from engine.core.money import ZERO, D
from engine.market import calendar
from engine.portfolio.ledger import book_event, open_positions

EXERCISE_THRESHOLD = Decimal("0.01")
SettlePrice = Callable[[str, date, SettleTime], Awaitable[Decimal]]


def settle_instant(c: OptionContract) -> datetime:
    """When the settlement price of ``c`` is known."""
    if c.spec.settle_time is SettleTime.AM:
        return calendar.session_open(c.expiry) + timedelta(minutes=1)
    return calendar.session_close(c.expiry)


def intrinsic(c: OptionContract, spot: Decimal) -> Decimal:
    return max(ZERO, spot - c.strike) if c.right is Right.CALL else max(ZERO, c.strike - spot)


def market_settlement(market: Any) -> SettlePrice:
    """Settlement prices from the market's minute bars (open of the first bar / close of the last)."""

    async def settle(underlying: str, expiry: date, when: SettleTime) -> Decimal:
        start, end = calendar.session_open(expiry), calendar.session_close(expiry)
        if when is SettleTime.AM:
            bars = await market.bars(underlying, start, start + timedelta(minutes=5))
            return D(round(bars[0].open, 4))
        bars = await market.bars(underlying, end - timedelta(minutes=5), end)
        return D(round(bars[-1].close, 4))

    return settle


async def process_expirations(db: Any, audit: Any, ledger: str, now: datetime, settle: SettlePrice) -> list[dict]:
    """Book every settled option position of ``ledger``; returns the events booked."""
    with db.session(ledger) as s:
        due = [(p.symbol, p.quantity) for p in open_positions(s)
               if p.multiplier != 1 and p.expiry is not None and now >= settle_instant(parse_occ(p.symbol))]
    prices: dict[tuple[str, date], Decimal] = {}
    events = []
    for symbol, qty in due:
        c = parse_occ(symbol)
        key = (c.underlying, c.expiry)
        if key not in prices:
            prices[key] = await settle(c.underlying, c.expiry, c.spec.settle_time)
        events += _settle_one(db, ledger, c, qty, prices[key], settle_instant(c))
    for ev in events:
        audit.append("expiry", actor="expiry-processor", ledger=ledger, data=ev)
    return events


def _settle_one(db: Any, ledger: str, c: OptionContract, qty: int, spot: Decimal, ts: datetime) -> list[dict]:
    value = intrinsic(c, spot)
    long = qty > 0
    units = abs(qty)
    close_side = -1 if long else 1
    event_id = f"EXP:{c.occ}"
    out = []
    with db.session(ledger) as s:
        if value < EXERCISE_THRESHOLD:
            action, price, cash = "EXPIRE", ZERO, ZERO
        else:
            action = "EXERCISE" if long else "ASSIGN"
            cash_settled = c.spec.settlement is Settlement.CASH
            price = value if cash_settled else ZERO
            cash = (value * c.multiplier * units * (1 if long else -1)) if cash_settled else ZERO
        row = book_event(s, event_id=event_id, ts=ts, symbol=c.occ, action=action, side=close_side, units=units,
                         price=price, cash=cash)
        if row is None:
            return []
        out.append({"symbol": c.occ, "action": action, "quantity": units, "price": price, "settlement": spot,
                    "intrinsic": value, "cash": cash})
        if action != "EXPIRE" and c.spec.settlement is Settlement.PHYSICAL:
            buys = (c.right is Right.CALL) == long  # long call / short put take delivery
            shares = units * c.multiplier
            stock_cash = -c.strike * shares if buys else c.strike * shares
            book_event(s, event_id=event_id, ts=ts, symbol=c.underlying, action="BUY" if buys else "SELL",
                       side=1 if buys else -1, units=shares, price=c.strike, cash=stock_cash)
            out.append({"symbol": c.underlying, "action": "BUY" if buys else "SELL", "quantity": shares,
                        "price": c.strike, "cash": stock_cash, "from": c.occ})
    return out
