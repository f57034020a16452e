"""``SimFeed``: the simulated market behind the async :class:`~engine.market.feed.Feed` protocol.

Snapshot calls (``quote``, ``chain``, ``expirations``, ``history``) answer for the feed clock's
current instant and need no ``start()``. After ``start()``, ``events()`` yields a quote of every
subscribed symbol each ``tick_s`` wall seconds (when its book has moved: the market updates once
per simulated second and not at all while closed), and a one-minute ``Bar`` of each subscribed
underlying whenever simulated time crosses a minute boundary during the session, and a
``Trade`` of each subscribed ETF once per simulated second while the session is open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime, timedelta

from engine.core.clock import Clock
from engine.core.errors import UnknownSymbol
from engine.core.instruments import OptionContract, parse_symbol
from engine.core.marketdata import Bar, ChainSnapshot, MarketEvent, Quote
from engine.market import calendar
from engine.market.sim.market import COLUMN, SimMarket


class SimFeed:
    """Feed over a :class:`SimMarket` at the instants of ``clock``."""

    name = "sim"

    def __init__(self, market: SimMarket, clock: Clock, *, tick_s: float = 0.5) -> None:
        self.market = market
        self.clock = clock
        self.tick_s = tick_s
        self._subs: set[str] = set()
        self._running = False

    def now(self) -> datetime:
        return self.clock.now()

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    async def subscribe(self, symbols: Iterable[str]) -> None:
        for s in symbols:
            inst = parse_symbol(s)  # raises on unknown/malformed, naming the symbol
            if not isinstance(inst, OptionContract) and inst.symbol not in COLUMN:
                raise UnknownSymbol(f"the simulated market quotes {', '.join(COLUMN)}, not {s!r}")
            self._subs.add(str(inst))

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        for s in symbols:
            self._subs.discard(str(parse_symbol(s)))

    async def events(self) -> AsyncIterator[MarketEvent]:
        last_minute: datetime | None = None
        last_trade: dict[str, datetime] = {}
        last_quote: dict[str, datetime] = {}
        while self._running:
            now = self.now()
            for s in sorted(self._subs):
                q = self.market.quote(s, now)
                if last_quote.get(s) != q.ts:  # a quote only when the book moved on (not overnight)
                    last_quote[s] = q.ts
                    yield q
                trade = self.market.trade(s, now) if s in COLUMN else None
                if trade is not None and last_trade.get(s) != trade.ts:
                    last_trade[s] = trade.ts
                    yield trade
            minute = now.replace(second=0, microsecond=0)
            if last_minute is not None and minute > last_minute and calendar.is_open(last_minute):
                for s in sorted(x for x in self._subs if x in COLUMN):
                    bars = self.market.history(s, last_minute, last_minute + timedelta(minutes=1))
                    for b in bars:
                        yield b
            last_minute = minute
            await asyncio.sleep(self.tick_s)

    async def quote(self, symbol: str) -> Quote:
        return self.market.quote(symbol, self.now())

    async def expirations(self, underlying: str) -> list[date]:
        return self.market.expirations(underlying, self.now())

    async def chain(self, underlying: str, expiry: date) -> ChainSnapshot:
        return self.market.chain(underlying, expiry, self.now()).snapshot

    async def history(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        return self.market.history(symbol, start, end, interval_s)
