"""SignalService on the simulated market (pinned clock): typed signals, bars cut at now."""

from __future__ import annotations

import asyncio

import pytest

from engine.market.service import MarketService
from engine.settings import get_settings
from engine.signals import Signal, SignalService


@pytest.fixture
def svc():
    s = get_settings()
    m = MarketService(s)
    yield SignalService(s, market=m, iv_rank_sessions=30), m
    asyncio.run(m.close())


def test_current_signals_for_one_underlying(svc):
    service, market = svc
    sigs = asyncio.run(service.current("SPY"))
    names = {s.name for s in sigs}
    assert {"opening_range_breakout", "vwap_deviation", "momentum", "vix_regime", "correlation"} <= names
    now = market.clock.now()
    for s in sigs:
        assert isinstance(s, Signal) and 0 <= s.strength <= 1 and 0 <= s.confidence <= 1 and s.reasons
        assert s.ts <= now and s.direction in ("long", "short", "neutral")
    assert {s.underlying for s in sigs} <= {"SPY", "VIX", "SPY/QQQ/IWM"}


def test_all_underlyings_and_correlation_matrix(svc):
    service, _ = svc
    sigs = asyncio.run(service.current(None))
    assert {s.underlying for s in sigs if s.name == "momentum"} == {"SPY", "QQQ", "IWM"}
    m = asyncio.run(service.correlation_matrix(30))
    assert m["tickers"] == ["SPY", "QQQ", "IWM", "VIX"] and len(m["matrix"]) == 4
    assert m["matrix"][0][0] == pytest.approx(1.0)
    assert m["matrix"][0][3] < 0  # the simulated VIX moves against SPY


def test_watch_yields_only_changes(svc):
    service, _ = svc

    async def collect():
        return [batch async for batch in service.watch("SPY", every_s=0, rounds=2)]
    batches = asyncio.run(collect())
    # the pinned clock does not move: the first look reports everything, the second nothing new
    assert len(batches) == 1 and {s.name for s in batches[0]} >= {"momentum", "vix_regime"}


def test_unknown_underlying_is_refused_before_reading_data(svc):
    from engine.core.errors import UnknownSymbol

    service, market = svc
    with pytest.raises(UnknownSymbol, match="FOO"):
        asyncio.run(service.current("FOO"))
