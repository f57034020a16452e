from datetime import date, datetime, timedelta

import pytest

from engine.core.clock import NY, SimClock
from engine.core.errors import NoData, StaleData
from engine.core.marketdata import Quote
from engine.market.cache import MemoryQuoteCache, pack, unpack

T0 = datetime(2026, 11, 20, 10, 30, 0, 123456, tzinfo=NY)


def q(sym="SPY", ts=T0, bid=646.79, last=646.8):
    return Quote(sym, bid, bid + 0.01, ts, 700, 600, last, "sim", date(2026, 11, 20))


def test_pack_roundtrip_keeps_every_field():
    for quote in (q(), q("SPY261120C00640000", last=None), Quote("VIX", 15.79, 15.79, T0)):
        back = unpack(pack(quote))
        assert back == quote
        assert back.ts.utcoffset() == timedelta(hours=-5)


def test_memory_cache_latest_wins_and_staleness():
    clock = SimClock(T0)
    c = MemoryQuoteCache(stale_after=10, clock=clock)
    assert c.get("SPY") is None and c.is_stale("SPY")
    with pytest.raises(NoData):
        c.fresh("SPY")
    c.put(q())
    c.put(q(ts=T0 - timedelta(seconds=5), bid=600.0))  # an older quote never overwrites
    assert c.get("SPY").bid == 646.79
    assert c.put_many([q("QQQ"), q("IWM")]) == 2
    assert c.symbols() == ["IWM", "QQQ", "SPY"]
    assert set(c.get_many(["SPY", "QQQ", "XYZ"])) == {"SPY", "QQQ"}
    clock.set(T0 + timedelta(seconds=9))
    assert not c.is_stale("SPY") and c.age("SPY") == pytest.approx(9.0)
    clock.set(T0 + timedelta(seconds=11))
    assert c.is_stale("SPY")
    with pytest.raises(StaleData, match="SPY quote is 11.0 s old"):
        c.fresh("SPY")
    c.clear()
    assert c.symbols() == []
