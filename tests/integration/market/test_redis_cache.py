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
    # an older quote (a slower process) never replaces a newer one, alone or in a batch
    reader.put(Quote("SPY", 99.0, 99.01, T0 + timedelta(seconds=28)))
    reader.put_many([Quote("SPY", 98.0, 98.01, T0), Quote("QQQ", 1.0, 1.01, T0 + timedelta(seconds=1))])
    assert writer.get("SPY").bid == 101.0 and writer.get("QQQ").bid == 1.0
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


async def test_pump_streams_feed_quotes_into_redis(redis_url, prefix):
    import asyncio

    from engine.market import MarketService
    from engine.market.sim import SimFeed, SimMarket
    from engine.settings import load_settings

    clock = SimClock(T0, speed=60.0, running=True)
    cache = RedisQuoteCache(redis_url, prefix=prefix, stale_after=10, clock=clock)
    svc = MarketService(load_settings(), feed=SimFeed(SimMarket(7), clock, tick_s=0.02), cache=cache)
    task = asyncio.create_task(svc.pump_quotes(["SPY", "QQQ", "VIX"], flush_s=0.01))
    reader = RedisQuoteCache(redis_url, prefix=prefix, stale_after=10, clock=clock)
    for _ in range(200):
        await asyncio.sleep(0.02)
        if len(reader.symbols()) == 3:
            break
    first = reader.get("SPY")
    await asyncio.sleep(0.2)
    await svc.feed.stop()
    await asyncio.wait_for(task, 5)
    assert reader.symbols() == ["QQQ", "SPY", "VIX"]
    assert reader.get("SPY").ts > first.ts and not reader.is_stale("SPY")
    reader.close()
    await svc.close()
