"""Market data records. Prices here are floats (they feed numpy analytics); money that changes
hands (orders, fills, ledgers) is Decimal and converts at the order boundary.

All timestamps are timezone-aware. ``session`` on a quote names the trading day it belongs to, so
a quote shown while the exchange is closed says which session it is showing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book of one instrument."""

    symbol: str
    bid: float
    ask: float
    ts: datetime
    bid_size: int = 0
    ask_size: int = 0
    last: float | None = None
    source: str = "sim"
    session: date | None = None

    @property
    def mid(self) -> float:
        if self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2.0
        return self.last if self.last is not None else max(self.bid, self.ask)

    @property
    def spread(self) -> float:
        return self.ask - self.bid


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: float
    size: int
    ts: datetime
    source: str = "sim"


@dataclass(frozen=True, slots=True)
class Bar:
    """OHLCV over ``[start, start + interval)``; ``start`` is timezone-aware."""

    symbol: str
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
    interval_s: int = 60
    vwap: float | None = None


MarketEvent = Quote | Trade | Bar


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """Quotes of every listed contract of one underlying and expiry, column-wise.

    Arrays share one length ``n`` (one entry per contract: calls and puts interleaved or not —
    use ``is_call``). ``vendor_*`` columns hold the data source's own IV/Greeks where it sends
    them (NaN otherwise); the options part recomputes its own from the quotes.
    """

    underlying: str
    expiry: date
    ts: datetime
    spot: float
    symbols: tuple[str, ...]
    strikes: np.ndarray
    is_call: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    last: np.ndarray
    volume: np.ndarray
    open_interest: np.ndarray
    vendor_iv: np.ndarray = field(default_factory=lambda: np.empty(0))
    vendor_delta: np.ndarray = field(default_factory=lambda: np.empty(0))
    source: str = "sim"
    session: date | None = None

    def __len__(self) -> int:
        return len(self.symbols)
