"""The latest-quote cache against the real Redis at 127.0.0.1:6379 (db 15, unique prefixes)."""

import uuid
from datetime import date, datetime, timedelta

import pytest
import redis

from engine.core.clock import NY, SimClock
from engine.core.errors import StaleData
from engine.core.marketdata import Quote
from engine.market.cache import RedisQuoteCache, build_cache

pytestmark = pytest.mark.redis
T0 = datetime(2026, 11, 20, 10, 30, tzinfo=NY)


@pytest.fixture
def prefix(redis_url):
    p = f"test:{uuid.uuid4().hex[:10]}:"
    yield p
    r = redis.Redis.from_url(redis_url)
    for k in r.scan_iter(f"{p}*"):
        r.delete(k)
    r.close()


def test_two_processes_worth_of_caches_share_quotes(redis_url, prefix):
    clock = SimClock(T0)
    writer = RedisQuoteCache(redis_url, prefix=prefix, stale_after=10, clock=clock)
    reader = RedisQuoteCache(redis_url, prefix=prefix, stale_after=10, clock=clock)
    quotes = [Quote(s, 100.0 + i, 100.01 + i, T0, 100, 200, 100.0 + i, "sim", date(2026, 11, 20))
              for i, s in enumerate(("SPY", "QQQ", "IWM", "SPY261120C00640000"))]
    assert writer.put_many(quotes) == 4
    assert reader.get("QQQ") == quotes[1]
    assert reader.get_many(["SPY", "IWM", "NOPE"]) == {"SPY": quotes[0], "IWM": quotes[2]}
    assert reader.symbols() == sorted(q.symbol for q in quotes)
    clock.set(T0 + timedelta(seconds=30))
    assert reader.is_stale("SPY")
    with pytest.raises(StaleData):
        reader.fresh("SPY")
    writer.put(Quote("SPY", 101.0, 101.01, T0 + timedelta(seconds=29)))
    assert reader.fresh("SPY").bid == 101.0
    writer.clear()
    assert reader.get("SPY") is None
    writer.close()
    reader.close()


def test_settings_select_redis_and_the_service_writes_there(redis_url, monkeypatch):
    import asyncio

    from engine.market import MarketService
    from engine.settings import load_settings

    monkeypatch.setenv("SMART0DTE_REDIS_URL", redis_url)
    settings = load_settings()
    svc = MarketService(settings, clock=SimClock(T0))
    assert isinstance(svc.cache, RedisQuoteCache)
    svc.cache.clear()
    q = asyncio.run(svc.quote("IWM"))
    other = build_cache(settings, SimClock(T0 + timedelta(seconds=1)))
    assert other.get("IWM") == q and not other.is_stale("IWM")
    other.clear()
    other.close()
    asyncio.run(svc.close())
