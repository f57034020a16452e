"""Market data: feeds behind one protocol, trading calendar and hours, latest-quote cache.

Public surface (loaded lazily, so ``import engine.market.calendar`` stays cheap)::

    from engine.market import MarketService, MarketSummary, Feed
    from engine.market import calendar, TradingHours, build_clock, SessionMirrorClock
    from engine.market import MemoryQuoteCache, RedisQuoteCache, build_cache
    from engine.market import SimMarket, SimFeed, synthetic_minute_bars
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Feed": "engine.market.feed",
    "MarketService": "engine.market.service",
    "MarketSummary": "engine.market.summary",
    "TradingHours": "engine.market.hours",
    "ProductHours": "engine.market.hours",
    "build_clock": "engine.market.clock_factory",
    "SessionMirrorClock": "engine.market.clock_factory",
    "MemoryQuoteCache": "engine.market.cache",
    "RedisQuoteCache": "engine.market.cache",
    "build_cache": "engine.market.cache",
    "SimMarket": "engine.market.sim",
    "SimFeed": "engine.market.sim",
    "synthetic_minute_bars": "engine.market.sim",
}

__all__ = sorted([*_EXPORTS, "calendar"])


def __getattr__(name: str):
    if name == "calendar":
        return importlib.import_module("engine.market.calendar")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.market' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
