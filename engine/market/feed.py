"""The one interface every market data source implements (simulated, replay, Polygon/Massive)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from engine.core.marketdata import Bar, ChainSnapshot, MarketEvent, Quote


@runtime_checkable
class Feed(Protocol):
    """Async market data source.

    ``now()`` is the feed's own clock (simulated time for the simulator and replay). Snapshot
    calls (``quote``, ``chain``, ``expirations``, ``history``) work without ``start()``;
    ``events()`` yields subscribed quotes/trades/bars after ``start()``.
    """

    name: str

    def now(self) -> datetime: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def subscribe(self, symbols: Iterable[str]) -> None: ...

    async def unsubscribe(self, symbols: Iterable[str]) -> None: ...

    def events(self) -> AsyncIterator[MarketEvent]: ...

    async def quote(self, symbol: str) -> Quote: ...

    async def expirations(self, underlying: str) -> list[date]: ...

    async def chain(self, underlying: str, expiry: date) -> ChainSnapshot: ...

    async def history(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]: ...
