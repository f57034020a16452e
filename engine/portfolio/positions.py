"""Position arithmetic: average cost, realized P&L, marks. Pure functions on Decimals.

A position is ``(quantity, avg_price)`` with ``quantity`` signed (short < 0) and ``avg_price``
per share. Trading against it closes first (realizing ``(price - avg) x closed x multiplier``
for a long, the opposite for a short) and opens the rest at the trade price. This is the
trader's running average cost; tax lots (FIFO, wash sales) are the tax part's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.core.money import ZERO

_Q = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class PositionChange:
    quantity: int
    avg_price: Decimal
    realized: Decimal   # dollars realized by this trade (before fees)
    closed: int         # units closed


def apply_trade(quantity: int, avg_price: Decimal, side: int, units: int, price: Decimal,
                multiplier: int) -> PositionChange:
    """The position after trading ``units`` at ``price`` (``side`` +1 buy, -1 sell)."""
    if units <= 0:
        raise ValueError(f"trade units must be positive, not {units}")
    if quantity == 0 or (quantity > 0) == (side > 0):
        total = abs(quantity) + units
        avg = ((abs(quantity) * avg_price + units * price) / total).quantize(_Q)
        return PositionChange(quantity + side * units, avg, ZERO, 0)
    closed = min(units, abs(quantity))
    direction = 1 if quantity > 0 else -1
    realized = (price - avg_price) * closed * multiplier * direction
    rest = units - closed
    new_qty = quantity + side * units
    if new_qty == 0:
        return PositionChange(0, ZERO, realized, closed)
    if rest == 0:
        return PositionChange(new_qty, avg_price, realized, closed)
    return PositionChange(new_qty, price, realized, closed)  # flipped: the rest opens at price


def unrealized(quantity: int, avg_price: Decimal, mark: Decimal, multiplier: int) -> Decimal:
    return (mark - avg_price) * quantity * multiplier


def market_value(quantity: int, mark: Decimal, multiplier: int) -> Decimal:
    return mark * quantity * multiplier
