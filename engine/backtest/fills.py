"""Backtest orders through the execution part's fill model and fee table.

The paper broker and the backtester share :class:`engine.execution.fill_model.FillModel` and
:class:`engine.execution.fees.FeeSchedule`: a structure opened here is priced by the same rules
(far side, impact beyond displayed size, multi-leg net price) and charged the same IB-style
commission and regulatory fees as a paper order. Every order is a market order for the whole
structure (one combo, all legs together) at the quotes of the decision minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from engine.core.money import D
from engine.execution.broker import OrderType, Side
from engine.execution.config import FillConfig
from engine.execution.fees import FeeLine, FeeSchedule
from engine.execution.fill_model import FillModel, LegBook
from engine.strategies.legs import Structure


@dataclass(frozen=True)
class Execution:
    """A filled combo: per-share signed net (+ debit paid, − credit received) and total fees."""

    quantity: int
    net: Decimal
    leg_prices: tuple[Decimal, ...]
    fees: Decimal


class BacktestFiller:
    """Fills whole structures at modeled or recorded quotes (see module doc)."""

    def __init__(self, config: FillConfig | None = None, *, displayed_size: int = 50) -> None:
        self.config = config or FillConfig()
        self.model = FillModel(self.config, seed=0)  # latency randomness unused: market orders at the minute
        self.fees = FeeSchedule.from_config(self.config)
        self.displayed_size = displayed_size

    def _books(self, structure: Structure, bid: np.ndarray, ask: np.ndarray, closing: bool) -> list[LegBook]:
        books = []
        for leg, b, a in zip(structure.legs, bid, ask, strict=True):
            opening_side = Side.BUY if leg.qty > 0 else Side.SELL
            side = opening_side.opposite if closing else opening_side
            books.append(LegBook(side, abs(leg.qty), D(round(float(b), 2)), D(round(float(a), 2)),
                                 self.displayed_size, self.displayed_size))
        return books

    def fill(self, structure: Structure, quantity: int, bid: np.ndarray, ask: np.ndarray, *,
             closing: bool = False) -> Execution | None:
        """Market order for ``quantity`` units; ``None`` when a leg cannot trade (no bid to sell into).

        ``net`` is always in the OPENING sense of the structure: what one unit cost (+) or paid (−)
        when opening, and what closing it paid (+) or fetched (−), in the combo's own convention.
        """
        books = self._books(structure, bid, ask, closing)
        res = self.model.evaluate(books, quantity=quantity, order_type=OrderType.MARKET)
        if res is None or res.quantity < quantity:
            return None
        lines = [FeeLine(b.side, b.ratio * quantity, p) for b, p in zip(books, res.leg_prices, strict=True)]
        fees = self.fees.order_fees(lines).total
        return Execution(quantity, res.net_price, res.leg_prices, fees)

    def stock_fees(self, shares: int, price: float) -> Decimal:
        """Fees of selling/buying ``shares`` (assignment/exercise shares liquidated next session)."""
        if shares == 0:
            return Decimal(0)
        side = Side.SELL if shares > 0 else Side.BUY
        return self.fees.order_fees([FeeLine(side, abs(shares), D(round(price, 4)), is_option=False,
                                             multiplier=1)]).total
