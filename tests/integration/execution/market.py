"""A scripted market for execution tests: Black-Scholes quotes on a frozen, steerable clock.

Tests move the underlying (``set_spot``), the clock (``clock.advance``), override one contract's
book (``set_book``) or age quotes (``stale``) and watch the engine react. It has the surface the
execution part uses from ``MarketService``: ``clock``, ``hours``, ``quote``, ``chain``, ``bars``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from engine.core.clock import NY, SimClock
from engine.core.instruments import OptionContract, looks_like_option, parse_occ
from engine.core.marketdata import Bar, ChainSnapshot, Quote
from engine.market.hours import TradingHours
from engine.options.bsm import bsm_price
from engine.options.chain import Chain
from engine.options.expiry import time_to_expiry

START = datetime(2026, 11, 20, 10, 30, tzinfo=NY)  # a Friday: SPY lists a same-day expiry
TODAY = START.date()
RATE = 0.043


class ScriptedMarket:
    def __init__(self, start: datetime = START, spot: float = 644.0, vol: float = 0.35) -> None:
        self.clock = SimClock(start)
        self.hours = TradingHours()
        self.spots = {"SPY": spot, "QQQ": 560.0, "IWM": 230.0}
        self.vol = vol
        self.books: dict[str, tuple[float, float, int, int]] = {}
        self.age: dict[str, float] = {}
        self.size = 50
        self.quote_calls = 0

    # --- steering ------------------------------------------------------------------------------
    def set_spot(self, underlying: str, spot: float) -> None:
        self.spots[underlying] = spot

    def set_book(self, symbol: str, bid: float, ask: float, bid_size: int = 50, ask_size: int = 50) -> None:
        self.books[symbol] = (bid, ask, bid_size, ask_size)

    def clear_books(self) -> None:
        self.books.clear()

    def stale(self, symbol: str, seconds: float) -> None:
        self.age[symbol] = seconds

    # --- pricing -------------------------------------------------------------------------------
    def theo(self, c: OptionContract) -> float:
        now = self.clock.now()
        T = time_to_expiry(now, c.expiry, c.spec.settle_time)
        S = self.spots[c.underlying]
        return float(bsm_price(c.is_call, S, float(c.strike), max(T, 0.0), RATE, 0.0, self.vol))

    def book(self, symbol: str) -> tuple[float, float, int, int]:
        if symbol in self.books:
            return self.books[symbol]
        if not looks_like_option(symbol):
            s = self.spots[symbol]
            return round(s - 0.01, 2), round(s + 0.01, 2), 500, 500
        mid = self.theo(parse_occ(symbol))
        half = max(0.005, round(mid * 0.01, 2) / 2)
        bid = max(0.0, round(mid - half, 2))
        return bid, round(max(bid + 0.01, mid + half), 2), self.size, self.size

    async def quote(self, symbol: str) -> Quote:
        self.quote_calls += 1
        bid, ask, bs, az = self.book(symbol)
        ts = self.clock.now() - timedelta(seconds=self.age.get(symbol, 0.0))
        return Quote(symbol, bid, ask, ts, bs, az, source="scripted", session=TODAY)

    def expiry_of(self, expiry: str | date) -> date:
        if isinstance(expiry, date):
            return expiry
        return self.clock.now().astimezone(NY).date() if expiry == "0dte" else date.fromisoformat(expiry)

    async def chain(self, underlying: str, expiry: str | date = "0dte") -> Chain:
        exp = self.expiry_of(expiry)
        spot = self.spots[underlying]
        strikes = np.arange(round(spot) - 25, round(spot) + 26, 1.0)
        symbols, is_call, rows = [], [], []
        for k in strikes:
            for right in ("call", "put"):
                c = OptionContract.of(underlying, exp, right, int(k))
                symbols.append(c.occ)
                is_call.append(right == "call")
                rows.append(self.book(c.occ))
        arr = np.array(rows, dtype=float)
        n = len(symbols)
        snap = ChainSnapshot(underlying, exp, self.clock.now(), spot, tuple(symbols), np.repeat(strikes, 2),
                             np.array(is_call), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], np.full(n, np.nan),
                             np.zeros(n), np.zeros(n), source="scripted", session=TODAY)
        return Chain.from_snapshot(snap, self.clock.now(), RATE)

    async def bars(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        s = self.spots[symbol]
        return [Bar(symbol, end - timedelta(seconds=60), s, s, s, s, 1000)]

    async def close(self) -> None:
        return None
