"""MarketService on the simulated feed: expiry resolution, chains, summaries, bars."""

from datetime import date, datetime, timedelta

import pytest

from engine.core.clock import NY, SimClock
from engine.core.errors import InvalidInput, MalformedSymbol, NoData, UnknownSymbol
from engine.market import MarketService
from engine.settings import load_settings


def ny(*a):
    return datetime(*a, tzinfo=NY)


def service(at: datetime) -> MarketService:
    return MarketService(load_settings(), clock=SimClock(at))


async def test_quote_goes_through_the_cache():
    svc = service(ny(2026, 11, 20, 10, 30))
    q = await svc.quote("spy")
    assert q.symbol == "SPY" and q.session == date(2026, 11, 20)
    assert svc.cache.get("SPY") == q and not svc.cache.is_stale("SPY")
    opt = await svc.quote("SPY261120C00640000")
    assert svc.cache.get(opt.symbol).ask == opt.ask
    await svc.close()


async def test_bad_symbols_raise_typed_errors():
    svc = service(ny(2026, 11, 20, 10, 30))
    with pytest.raises(UnknownSymbol, match="FOO"):
        await svc.quote("FOO")
    with pytest.raises(MalformedSymbol):
        await svc.quote("SPY261320C00600000")
    with pytest.raises(UnknownSymbol):
        await svc.chain("SPX")
    with pytest.raises(InvalidInput, match="is an option"):
        await svc.chain("SPY261120C00640000")
    with pytest.raises(InvalidInput, match="not a date"):
        await svc.chain("SPY", "2026-02-30")


async def test_0dte_comes_from_the_listing():
    svc = service(ny(2026, 11, 20, 10, 30))
    assert await svc.resolve_expiry("SPY", "0dte") == date(2026, 11, 20)
    ch = await svc.chain("QQQ", "0dte")
    assert ch.expiry == date(2026, 11, 20) and ch.underlying == "QQQ"
    rows = ch.rows(5)
    assert len(rows) == 22 and {r["right"] for r in rows} == {"call", "put"}
    assert all(r["iv"] is None or 0.05 < r["iv"] < 1.5 for r in rows)
    # Saturday: the mirror of Friday's session; early close on Black Friday still has a 0DTE
    bf = service(ny(2026, 11, 27, 12, 0))
    assert await bf.resolve_expiry("IWM", "0dte") == date(2026, 11, 27)


async def test_vix_has_no_same_day_expiry():
    fri = service(ny(2026, 11, 20, 10, 30))
    with pytest.raises(InvalidInput, match="no expiry on 2026-11-20.*next VIX expiry: 2026-11-25"):
        await fri.chain("VIX", "0dte")
    wed = service(ny(2026, 11, 25, 11, 0))
    with pytest.raises(InvalidInput, match="AM-settled.*settled at today's open"):
        await wed.chain("VIX", "0dte")
    with pytest.raises(InvalidInput, match="AM-settled"):
        await wed.chain("VIX", "2026-11-25")
    tue = service(ny(2026, 11, 24, 15, 0))
    with pytest.raises(InvalidInput, match="2026-11-25 trade for the last time today"):
        await tue.chain("VIX", "0dte")
    ch = await fri.chain("VIX", "2026-11-25")
    assert ch.expiry == date(2026, 11, 25) and ch.spot > 0
    # VIX options price off the forward, which the chain's carry reproduces
    assert abs(ch.forward - ch.spot) > 0.01


async def test_summary_answers_what_happened_to_volatility():
    svc = service(ny(2026, 11, 20, 10, 30))
    s = await svc.summary("SPY", "2026-11-19")
    assert s.date == date(2026, 11, 19) and not s.partial
    assert s.high >= max(s.open, s.close) and s.low <= min(s.open, s.close)
    assert s.range == pytest.approx(s.high - s.low, abs=1e-6)
    assert 0.02 < s.realized_vol < 0.6 and 0.02 < s.realized_vol_prev < 0.6
    assert s.realized_vol != s.realized_vol_prev
    assert s.vix is not None and s.vix_change == pytest.approx(s.vix - s.vix_prev, abs=1e-6)
    assert s.atm_iv is not None and s.iv_change == pytest.approx(s.atm_iv - s.atm_iv_prev, abs=1e-6)
    bars = await svc.bars("SPY", ny(2026, 11, 19, 9, 30), ny(2026, 11, 19, 16, 0))
    assert s.close == bars[-1].close and s.volume == sum(b.volume for b in bars)
    today = await svc.summary("VIX")
    assert today.partial and today.date == date(2026, 11, 20)
    assert today.as_of.startswith("2026-11-20T10:30")
    with pytest.raises(InvalidInput, match="not a trading session"):
        await svc.summary("SPY", "2026-09-07")  # Labor Day
    with pytest.raises(InvalidInput, match="after the current session"):
        await svc.summary("SPY", "2026-11-23")
    early = service(ny(2026, 11, 20, 9, 30, 20))
    with pytest.raises(NoData):
        await early.summary("SPY")


async def test_bars_need_aware_times_and_aggregate():
    svc = service(ny(2026, 11, 20, 10, 30))
    with pytest.raises(InvalidInput):
        await svc.bars("SPY", datetime(2026, 11, 19, 10), ny(2026, 11, 19, 11))
    hourly = await svc.bars("IWM", ny(2026, 11, 19, 9, 30), ny(2026, 11, 19, 16), 3600)
    assert [b.start.hour for b in hourly] == [9, 10, 11, 12, 13, 14, 15]
    assert hourly[0].start == ny(2026, 11, 19, 9, 30)


async def test_feed_events_stream_quotes_and_bars():
    from engine.market.sim import SimFeed, SimMarket

    clock = SimClock(ny(2026, 11, 20, 10, 30, 59), speed=240.0, running=True)
    feed = SimFeed(SimMarket(7), clock, tick_s=0.05)
    await feed.subscribe(["SPY", "VIX"])
    with pytest.raises(UnknownSymbol):
        await feed.subscribe(["SPX"])
    await feed.start()
    seen = []
    async for ev in feed.events():
        seen.append(ev)
        if any(type(e).__name__ == "Bar" for e in seen) or len(seen) > 200:
            await feed.stop()
    kinds = {type(e).__name__ for e in seen}
    assert kinds == {"Quote", "Bar", "Trade"}
    trades = [e for e in seen if type(e).__name__ == "Trade"]
    assert {t.symbol for t in trades} == {"SPY"} and all(t.size >= 100 and t.size % 100 == 0 for t in trades)
    bar = next(e for e in seen if type(e).__name__ == "Bar")
    # the first bar is the first minute that closed after the start (which one depends on load)
    assert bar.interval_s == 60 and bar.start.second == 0 and bar.start.microsecond == 0
    assert ny(2026, 11, 20, 10, 30) <= bar.start and bar.start + timedelta(seconds=60) <= feed.now()
    assert (feed.now() - ny(2026, 11, 20, 10, 30, 59)) > timedelta(seconds=1)


def test_feed_selection_and_protocol(monkeypatch, shared_data):
    from engine.market.feed import Feed
    from engine.market.sim import SimFeed

    sim = MarketService(load_settings())
    assert isinstance(sim.feed, SimFeed) and isinstance(sim.feed, Feed)
    assert sim.clock is sim.feed.clock and sim.sim is sim.feed.market
    assert sim.sim.params.correlation == 0.87
    monkeypatch.setenv("SMART0DTE_SIM_CORRELATION", "0.5")
    monkeypatch.setenv("SMART0DTE_SIM_SEED", "42")
    tuned = MarketService(load_settings())
    assert tuned.sim.params.correlation == 0.5 and tuned.sim.seed == 42
    monkeypatch.setenv("SMART0DTE_FEED", "replay")
    monkeypatch.setenv("SMART0DTE_REPLAY_PATH", f"{shared_data}/eqker/SPY_1min.csv")
    replay = MarketService(load_settings())
    assert replay.feed.name == "replay" and replay.sim is None
    assert replay.clock is replay.feed.clock  # the replay drives its own clock
    assert replay.now().date() == date(2019, 2, 11)


async def test_closed_market_mirrors_the_last_session_and_the_feed_goes_quiet():
    from engine.market.clock_factory import SessionMirrorClock
    from engine.market.sim import SimFeed, SimMarket

    class Fixed:
        def now(self):
            return ny(2026, 11, 21, 11, 0, 5)  # a Saturday morning

    svc = MarketService(load_settings(), clock=SessionMirrorClock(Fixed()))
    q = await svc.quote("SPY")
    assert q.session == date(2026, 11, 20) and q.ts == ny(2026, 11, 20, 11, 0, 5)
    night = SimFeed(SimMarket(7), SimClock(ny(2026, 11, 20, 20, 0), speed=600, running=True), tick_s=0.01)
    await night.subscribe(["SPY"])
    await night.start()
    seen = []
    async for ev in night.events():
        seen.append(ev)
        if len(seen) == 1:
            import asyncio

            asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(night.stop()))
    assert len(seen) == 1 and seen[0].ts == ny(2026, 11, 20, 16, 0)  # one closing quote, then silence
