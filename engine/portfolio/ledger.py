"""Booking into a ledger (paper or live): fills and expiry events become trades, positions and
cash, all inside the caller's ledger transaction so a crash leaves either all of it or none.

* :func:`book_fill` is idempotent on the broker's ``exec_id`` (a replayed fill changes nothing);
* :func:`book_event` books one expiry/assignment/exercise line;
* :func:`cash_balance`, :func:`open_positions`, :func:`realized_since` read the ledger.

Fees (commission + regulatory) are allocated to the legs of an execution in proportion to their
contracts and kept on each trade row; cash moves by the premium and, separately, by the fees.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from engine.core.instruments import looks_like_option, parse_occ
from engine.core.money import ZERO, D, cents
from engine.execution.broker import Fill
from engine.execution.models import CashRow, FillRow, PositionRow, TradeRow, utcnow
from engine.portfolio.positions import apply_trade


def multiplier_of(symbol: str) -> int:
    return parse_occ(symbol).multiplier if looks_like_option(symbol) else 1


def underlying_of(symbol: str) -> str:
    return parse_occ(symbol).underlying if looks_like_option(symbol) else symbol


def expiry_of(symbol: str) -> date | None:
    return parse_occ(symbol).expiry if looks_like_option(symbol) else None


def ensure_deposit(s: Any, amount: Decimal) -> None:
    """The opening deposit of a ledger, written once (paper: the configured starting cash)."""
    if s.execute(select(CashRow.id).where(CashRow.kind == "deposit").limit(1)).first() is None and amount:
        s.add(CashRow(ts=utcnow(), amount=D(amount), kind="deposit", ref="opening balance"))


def _trade(s: Any, *, exec_id: str, order_id: str | None, ts: datetime, symbol: str, action: str,
           side: int, units: int, price: Decimal, fees: Decimal) -> TradeRow:
    """Apply one leg to its position and write the trade row (no cash)."""
    mult = multiplier_of(symbol)
    pos = s.get(PositionRow, symbol)
    if pos is None:
        pos = PositionRow(symbol=symbol, underlying=underlying_of(symbol), quantity=0, avg_price=ZERO,
                          multiplier=mult, realized_pnl=ZERO, expiry=expiry_of(symbol))
        s.add(pos)
    change = apply_trade(pos.quantity, D(pos.avg_price), side, units, D(price), mult)
    if pos.quantity == 0 and change.quantity != 0:
        pos.opened_at = ts
    pos.quantity, pos.avg_price = change.quantity, change.avg_price
    pos.realized_pnl = D(pos.realized_pnl) + change.realized
    pos.updated_at = ts
    row = TradeRow(exec_id=exec_id, order_id=order_id, ts=ts, symbol=symbol, underlying=underlying_of(symbol),
                   action=action, quantity=units, price=D(price), multiplier=mult, fees=fees,
                   realized_pnl=change.realized)
    s.add(row)
    return row


def book_fill(s: Any, fill: Fill, order_id: str) -> bool:
    """Book one execution; ``False`` when this ``exec_id`` is already in the ledger."""
    if s.get(FillRow, fill.exec_id) is not None:
        return False
    total_fees = D(fill.commission) + D(fill.fees)
    contracts = sum(leg.quantity for leg in fill.legs) or 1
    s.add(FillRow(exec_id=fill.exec_id, order_id=order_id, ts=fill.ts, quantity=fill.quantity,
                  net_price=fill.net_price, commission=fill.commission, fees=fill.fees,
                  liquidity=fill.liquidity,
                  legs=[{"symbol": x.symbol, "side": x.side.value, "quantity": x.quantity,
                         "price": str(x.price)} for x in fill.legs]))
    allocated = ZERO
    premium = ZERO
    for i, leg in enumerate(fill.legs):
        share = total_fees - allocated if i == len(fill.legs) - 1 else cents(total_fees * leg.quantity / contracts)
        allocated += share
        _trade(s, exec_id=fill.exec_id, order_id=order_id, ts=fill.ts, symbol=leg.symbol,
               action=leg.side.value.upper(), side=leg.side.sign, units=leg.quantity, price=leg.price,
               fees=share)
        premium += leg.side.sign * leg.quantity * leg.price * multiplier_of(leg.symbol)
    s.add(CashRow(ts=fill.ts, amount=cents(-premium), kind="trade", ref=fill.exec_id))
    if total_fees:
        s.add(CashRow(ts=fill.ts, amount=-total_fees, kind="fee", ref=fill.exec_id))
    return True


def book_event(s: Any, *, event_id: str, ts: datetime, symbol: str, action: str, side: int, units: int,
               price: Decimal, cash: Decimal, fees: Decimal = ZERO) -> TradeRow | None:
    """Book an expiry/assignment/exercise/settlement line; idempotent on ``(event_id, symbol)``."""
    seen = s.execute(select(TradeRow.id).where(TradeRow.exec_id == event_id, TradeRow.symbol == symbol)).first()
    if seen is not None:
        return None
    row = _trade(s, exec_id=event_id, order_id=None, ts=ts, symbol=symbol, action=action, side=side,
                 units=units, price=price, fees=fees)
    if cash:
        s.add(CashRow(ts=ts, amount=cents(cash), kind="settlement", ref=event_id))
    if fees:
        s.add(CashRow(ts=ts, amount=-fees, kind="fee", ref=event_id))
    return row


def cash_balance(s: Any) -> Decimal:
    return D(s.execute(select(func.coalesce(func.sum(CashRow.amount), 0))).scalar_one())


def open_positions(s: Any) -> list[PositionRow]:
    return list(s.execute(select(PositionRow).where(PositionRow.quantity != 0)
                          .order_by(PositionRow.underlying, PositionRow.symbol)).scalars())


def realized_since(s: Any, since: datetime) -> tuple[Decimal, Decimal]:
    """(realized P&L before fees, fees) of trades at or after ``since``."""
    r, f = s.execute(select(func.coalesce(func.sum(TradeRow.realized_pnl), 0),
                            func.coalesce(func.sum(TradeRow.fees), 0)).where(TradeRow.ts >= since)).one()
    return D(r), D(f)
