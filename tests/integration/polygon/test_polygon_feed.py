"""PolygonFeed through the real ``massive`` client against our loopback Polygon server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.core.errors import AuthError, FeedError
from engine.core.marketdata import Bar, Quote, Trade
from engine.market.bars import BarStore
from engine.market.feed import Feed
from engine.market.polygon import Backoff, PolygonFeed, PolygonRest
from engine.settings import load_settings
from tests.loopback.polygon_server import PolygonLoopback

KEY = "loopback-key-123"


@pytest.fixture
async def server(shared_data):
    async with PolygonLoopback(shared_data, api_key=KEY) as srv:
        yield srv


def _settings(srv, tmp_path, key=KEY):
    return load_settings(home=tmp_path / "home", feed="polygon", polygon_api_key=key,
                         polygon_base_url=srv.rest_url, polygon_ws_url=srv.ws_url)


def _feed(srv, tmp_path, key=KEY, **kw) -> PolygonFeed:
    kw.setdefault("backoff", Backoff(0.05, 0.2))
    kw.setdefault("expect_data", lambda: False)
    return PolygonFeed(_settings(srv, tmp_path, key), **kw)


@contextlib.asynccontextmanager
async def running(srv, tmp_path, symbols=("SPY",), **kw):
    """A started feed (no warm-up unless asked) subscribed to ``symbols``; stopped afterwards."""
    kw.setdefault("warmup_days", 0)
    feed = _feed(srv, tmp_path, **kw)
    await feed.subscribe(list(symbols))
    await feed.start()
    try:
        yield feed
    finally:
        await feed.stop()


async def _next(it, n=1, timeout=3.0):
    out = []
    for _ in range(n):
        out.append(await asyncio.wait_for(it.__anext__(), timeout))
    return out


def _now_ms() -> int:
    return int(time.time() * 1000)


async def test_normal_flow_rest_and_stream(server, tmp_path):
    from engine.market.cache import MemoryQuoteCache

    cache = MemoryQuoteCache(stale_after=5.0)
    feed = _feed(server, tmp_path, cache=cache, warmup_days=10)
    await feed.subscribe(["SPY", "VIX"])
    assert isinstance(feed, Feed)
    await feed.start()
    try:
        # warm-up (30 days by default; 10 here) of the product's underlyings landed in the bar store
        assert feed.warmup_days == 10 and PolygonFeed(_settings(server, tmp_path)).warmup_days == 30
        assert set(feed.warmed) == {"SPY", "QQQ", "IWM", "VIX"}
        assert feed.warmed["SPY"] > 390 * 6
        days = feed.bar_store.days("SPY")
        assert len(days) >= 7 and all(d.weekday() < 5 for d in days)
        frame = feed.bar_store.minute_bars("SPY", days[-1], days[-1])
        assert frame.index[0].strftime("%H:%M") == "09:30" and len(frame) <= 390
        # history of complete past sessions comes from the store, not another REST call
        n_before = len(server.requests)
        day = days[-2]
        t0 = datetime(day.year, day.month, day.day, 9, 30, tzinfo=frame.index.tz)
        hist = await feed.history("SPY", t0, t0 + timedelta(hours=1), 300)
        assert len(hist) == 12 and hist[0].start == t0 and len(server.requests) == n_before

        q = await feed.quote("SPY")
        assert q.source == "polygon" and q.bid < q.ask and q.bid_size > 0 and q.last == pytest.approx(600.0)
        vix = await feed.quote("VIX")
        assert vix.symbol == "VIX" and vix.last == pytest.approx(17.25)

        expiries = await feed.expirations("SPY")
        assert len(expiries) == 5 and expiries == sorted(expiries)
        n_before = len(server.requests)
        assert await feed.expirations("SPY") == expiries and len(server.requests) == n_before  # cached
        n_before = len(server.requests)
        chain = await feed.chain("SPY", expiries[0])
        pages = [r for r in server.requests[n_before:] if r[0] == "/v3/snapshot/options/SPY"]
        assert len(pages) == 3  # 602 contracts, 250 a page: pagination through next_url
        assert len(chain) == 602 and chain.spot == pytest.approx(600.0)
        assert chain.symbols[0].startswith("SPY") and not chain.symbols[0].startswith("O:")
        assert np.all(np.diff(chain.strikes) >= 0)
        assert np.isfinite(chain.vendor_iv).all() and np.isfinite(chain.vendor_delta).all()
        atm = int(np.flatnonzero((chain.strikes == 600.0) & chain.is_call)[0])
        assert 0.4 < chain.vendor_delta[atm] < 0.6

        # stream: stock quotes, trades, minute aggregates, index value
        await server.wait_subscribed("stocks", {"Q.SPY", "T.SPY", "AM.SPY"})
        await server.wait_subscribed("indices", {"V.I:VIX"})
        now = _now_ms()
        start = datetime.fromtimestamp(now // 60_000 * 60, UTC) - timedelta(minutes=1)
        await server.push("stocks", [server.stock_quote("SPY", 600.10, 600.12, now),
                                     server.stock_quote("SPY", 600.11, 600.13, now + 1),
                                     server.trade("SPY", 600.12, 300, now + 1),
                                     server.minute_agg("SPY", start, 600.0, 600.2, 599.9, 600.1, 12345)])
        await server.push("indices", [server.index_value("I:VIX", 17.5, now)])
        got = await _next(feed.events(), 4)
        kinds = {type(e).__name__ for e in got}
        assert kinds == {"Quote", "Trade", "Bar"}
        quotes = [e for e in got if isinstance(e, Quote)]
        spy = next(e for e in quotes if e.symbol == "SPY")
        assert spy.bid == 600.11  # conflated: the frame's last SPY quote
        assert next(e for e in quotes if e.symbol == "VIX").last == 17.5
        assert next(e for e in got if isinstance(e, Trade)).size == 300
        bar = next(e for e in got if isinstance(e, Bar))
        assert bar.start == start and bar.volume == 12345
        assert (await feed.quote("SPY")).bid == 600.11  # fresh stream quote, no REST call
        assert cache.get("SPY").bid == 600.11 and cache.get("VIX").last == 17.5
    finally:
        await feed.stop()
    # the streamed minute aggregate and the 1-second bar of the trade were recorded
    store = BarStore(_settings(server, tmp_path))
    stored = store.bars("SPY", start, start + timedelta(minutes=1))
    assert stored and stored[0].volume == 12345
    sec = datetime.fromtimestamp((now + 1) // 1000, UTC)
    (one,) = store.bars("SPY", sec, sec + timedelta(seconds=1), interval_s=1)
    assert (one.close, one.volume, one.interval_s) == (600.12, 300, 1)


async def test_warm_up_fetches_only_missing_days(server, tmp_path):
    feed = _feed(server, tmp_path, warmup_symbols=["SPY"])
    old = datetime.now(UTC) - timedelta(days=500)  # a recorded day past the 400-day retention
    feed.bar_store.write_bars([Bar("QQQ", old, 1.0, 1.0, 1.0, 1.0, 1)])
    assert feed.bar_store.days("QQQ")
    await feed.start()
    assert feed.bar_store.days("QQQ") == []  # pruned on start
    await feed.stop()
    first = feed.warmed["SPY"]
    again = _feed(server, tmp_path, warmup_symbols=["SPY"])
    n_before = len(server.requests)
    await again.start()
    await again.stop()
    (path, _), = server.requests[n_before:]
    assert path.startswith("/v2/aggs/ticker/SPY/range/1/minute/")
    # the last stored day (it may be partial) and today only; older stored days were not refetched
    assert again.warmed["SPY"] <= 2 * 390 < first


async def test_option_quotes_of_subscribed_contracts(server, tmp_path):
    from datetime import date

    async with running(server, tmp_path, symbols=()) as feed:
        await feed.subscribe(["SPY261120C00600000"])
        await server.wait_subscribed("options", {"Q.O:SPY261120C00600000", "AM.O:SPY261120C00600000"})
        await server.push("options", [server.option_quote("O:SPY261120C00600000", 1.20, 1.25, _now_ms())])
        (q,) = await _next(feed.events())
        assert q.symbol == "SPY261120C00600000" and (q.bid, q.ask, q.bid_size) == (1.20, 1.25, 17)
        start = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        await server.push("options", [server.minute_agg("O:SPY261120C00600000", start, 1.2, 1.3, 1.1, 1.25, 40)])
        (bar,) = await _next(feed.events())
        assert isinstance(bar, Bar) and bar.symbol == "SPY261120C00600000" and bar.volume == 40
        rest_q = await feed.rest.quote("SPY261120P00590000")
        assert rest_q.symbol == "SPY261120P00590000" and rest_q.ask > rest_q.bid >= 0
        too_many = [f"SPY261120P{k * 1000:08d}" for k in range(1, 1001)]  # 1,000 puts + the call held
        with pytest.raises(FeedError, match="at most 1000 option contracts"):
            await feed.subscribe(too_many)
        assert feed.symbols == {"SPY261120C00600000"}  # nothing changed
    # the option's minute bar was recorded under its OCC symbol (the backtester reads those)
    assert BarStore(_settings(server, tmp_path)).days("SPY261120C00600000") == [date(2026, 11, 20)]


async def test_disconnect_midstream_reconnects_and_resubscribes(server, tmp_path):
    async with running(server, tmp_path) as feed:
        first = await server.wait_subscribed("stocks", {"Q.SPY"})
        await feed.subscribe(["QQQ"])  # added while connected
        await server.wait_subscribed("stocks", {"Q.SPY", "Q.QQQ"})
        events = feed.events()
        await server.push("stocks", [server.stock_quote("SPY", 600.0, 600.02, _now_ms())])
        await _next(events)
        assert server.drop("stocks") == 1  # TCP abort, no close frame
        second = await server.wait_subscribed("stocks", {"Q.SPY", "T.SPY", "AM.SPY", "Q.QQQ"},
                                              after=server.conns.index(first) + 1)
        assert second is not first and second.authed
        await server.push("stocks", [server.stock_quote("QQQ", 500.0, 500.02, _now_ms())])
        (q,) = await _next(events)
        assert q.symbol == "QQQ"
        s = feed.stats()["streams"]["stocks"]
        assert s["connects"] == 2 and s["disconnects"] == 1 and s["connected"]
        # a stopped feed started again reopens its streams with every subscription
        await feed.stop()
        n = len(server.conns)
        await feed.start()
        await server.wait_subscribed("stocks", {"Q.SPY", "Q.QQQ"}, after=n)


async def test_refused_handshakes_are_retried_with_backoff(server, tmp_path):
    server.reject_handshakes = 3
    t0 = time.monotonic()
    async with running(server, tmp_path) as feed:
        await server.wait_subscribed("stocks", {"Q.SPY"}, timeout=10)
        assert server.rejected == 3
        # three waits drawn from U[d/2, d] with d = 0.05, 0.1, 0.2 (capped at 0.2): at least 0.125 s
        assert time.monotonic() - t0 >= 0.12
        assert feed.stats()["streams"]["stocks"]["connects"] == 1  # one supervised attempt, retried inside


async def test_server_side_clean_close_is_logged_and_reconnected(server, tmp_path, caplog):
    async with running(server, tmp_path) as feed:
        first = await server.wait_subscribed("stocks", {"Q.SPY"})
        assert await server.kick("stocks", "max_connections", "Maximum number of connections exceeded.") == 1
        await server.wait_subscribed("stocks", {"Q.SPY"}, after=server.conns.index(first) + 1)
        assert "max_connections" in caplog.text
        assert feed.stats()["streams"]["stocks"]["disconnects"] == 1
        conn = feed._streams["stocks"]
        assert conn.backoff.attempt == 1  # status messages alone never reset the backoff
        await server.push("stocks", [server.stock_quote("SPY", 600.0, 600.02, _now_ms())])
        await _next(feed.events())
        assert conn.backoff.attempt == 0  # market data did


async def test_stale_stream_is_detected_and_reconnected(server, tmp_path):
    async with running(server, tmp_path, stale_after=0.3, expect_data=lambda: True) as feed:
        first = await server.wait_subscribed("stocks", {"Q.SPY"})
        # the server stays silent: after 0.3 s the feed must give up on this connection
        await server.wait_subscribed("stocks", {"Q.SPY"}, after=server.conns.index(first) + 1, timeout=5)
        s = feed.stats()["streams"]["stocks"]
        assert s["stale_events"] >= 1


async def test_malformed_messages_are_counted_and_skipped(server, tmp_path):
    async with running(server, tmp_path) as feed:
        await server.wait_subscribed("stocks", {"Q.SPY"})
        now = _now_ms()
        await server.push("stocks", "this is not json")
        await server.push("stocks", '{"ev": "Q", "sym": ')  # truncated frame
        await server.push("stocks", [{"ev": "Q", "sym": "SPY"},  # missing prices
                                     {"ev": "Q", "sym": "SPY", "bp": "abc", "ap": 1.0, "t": now},
                                     {"ev": "T", "sym": "SPY", "p": -1, "s": 1, "t": now},
                                     {"ev": "ZZ", "sym": "SPY"},
                                     "not an object",
                                     server.stock_quote("SPY", 600.5, 600.52, now)])
        (q,) = await _next(feed.events())
        assert q.bid == 600.5
        s = feed.stats()["streams"]["stocks"]
        assert s["malformed"] == 7 and s["connects"] == 1 and s["connected"]


async def test_rest_429_is_retried_after_retry_after(server):
    rest = PolygonRest(KEY, server.rest_url, retries=3)
    server.throttle(1, retry_after=1)
    t0 = time.monotonic()
    q = await rest.quote("SPY")
    assert q.bid > 0 and server.throttled == 1
    assert time.monotonic() - t0 >= 0.9  # honoured Retry-After: 1
    server.throttle(2, retry_after=0)
    assert len(await rest.bars("SPY", datetime.now(UTC) - timedelta(days=3), datetime.now(UTC))) > 0
    assert server.throttled == 3


async def test_rest_429_that_never_ends_is_one_clear_error(server):
    rest = PolygonRest(KEY, server.rest_url, retries=2)
    server.throttle(100, retry_after=0)
    with pytest.raises(FeedError, match="rate limit"):
        await rest.expirations("SPY", datetime.now(UTC).date())


async def test_bad_key_rest_is_one_auth_error(server, tmp_path):
    feed = _feed(server, tmp_path, key="wrong-key")
    await feed.subscribe(["SPY"])
    with pytest.raises(AuthError, match="SMART0DTE_POLYGON_API_KEY") as info:
        await feed.start()
    assert "wrong-key" not in str(info.value)
    assert not server.conns  # no stream opened with a refused key
    await feed.stop()


async def test_bad_key_websocket_is_one_auth_error_without_retry_storm(server, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    async with running(server, tmp_path, key="wrong-key") as feed:
        with pytest.raises(AuthError, match="SMART0DTE_POLYGON_API_KEY"):
            await _next(feed.events(), timeout=5)
        await asyncio.sleep(0.3)
        assert len(server.conns) == 1  # gave up: no reconnect loop against a refused key
        assert feed.stats()["streams"]["stocks"]["error"]
    assert "refused the API key" in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server"))
    # the client's frame dump (logged at DEBUG unless an earlier test raised the vendor logger's level)
    # never carries the key
    assert "wrong-key" not in ours and "wrong-key" not in repr(feed.stats())  # ... with the key masked
    assert capsys.readouterr().out == ""  # the vendor client prints nothing to stdout


async def test_recorded_aapl_payloads_through_the_client(server):
    """The recorded vendor bodies themselves (not our synthetic ones) decode through our layer."""
    from datetime import date

    from engine.market.polygon.rest import chain_from_snapshots

    rest = PolygonRest(KEY, server.rest_url)
    snaps = await asyncio.to_thread(lambda: list(rest.client.list_snapshot_options_chain("AAPL")))
    chain = chain_from_snapshots("AAPL", date(2023, 6, 16), snaps)
    assert chain.symbols == ("AAPL230616C00150000",)
    assert chain.vendor_iv[0] == pytest.approx(0.3570277203465058)
    assert chain.vendor_delta[0] == pytest.approx(0.6436614934293701)
    assert (chain.bid[0], chain.ask[0], chain.open_interest[0]) == (28.9, 29.25, 8133)
    assert chain.spot == pytest.approx(159.9606)


async def test_unsubscribe_and_slow_consumer_drops_oldest(server, tmp_path):
    async with running(server, tmp_path, symbols=("SPY", "QQQ"), queue_size=3) as feed:
        conn = await server.wait_subscribed("stocks", {"Q.SPY", "Q.QQQ"})
        await feed.unsubscribe(["QQQ"])
        loop = asyncio.get_running_loop()
        end = loop.time() + 3
        while "Q.QQQ" in conn.topics and loop.time() < end:
            await asyncio.sleep(0.02)
        assert "Q.QQQ" not in conn.topics and "Q.SPY" in conn.topics
        now = _now_ms()
        for i in range(5):  # nobody reads: the queue keeps the newest 3
            await server.push("stocks", [server.stock_quote("SPY", 600.0 + i, 600.02 + i, now + i)])
        while feed.stats()["streams"]["stocks"]["quotes"] < 5 and loop.time() < end:
            await asyncio.sleep(0.02)
        got = await _next(feed.events(), 3)
        assert [q.bid for q in got] == [602.0, 603.0, 604.0] and feed.stats()["dropped"] == 2


async def test_recorded_stream_replays_through_the_replay_feed(server, tmp_path):
    from engine.market.replay import ReplayFeed

    rec = tmp_path / "rec" / "session.polygon.tsv"
    async with running(server, tmp_path, symbols=("SPY", "VIX"), record_to=rec) as feed:
        await server.wait_subscribed("stocks", {"Q.SPY"})
        await server.wait_subscribed("indices", {"V.I:VIX"})
        now = _now_ms()
        await server.push("stocks", [server.stock_quote("SPY", 600.10, 600.12, now),
                                     server.trade("SPY", 600.11, 7, now + 1)])
        await server.push("indices", [server.index_value("I:VIX", 18.0, now + 2)])
        await server.push("stocks", [server.stock_quote("SPY", 600.20, 600.22, now + 1500)])
        live = await _next(feed.events(), 4)
    lines = rec.read_text().splitlines()
    assert sum("\tstocks\t" in ln for ln in lines) >= 2 and any("\tindices\t" in ln for ln in lines)
    replay = ReplayFeed(paths=[rec], speed=0)
    assert replay.symbols() == ["SPY", "VIX"]
    played = [ev async for ev in replay.events()]
    assert [(type(e).__name__, e.symbol) for e in played] == [(type(e).__name__, e.symbol) for e in
                                                               sorted(live, key=lambda e: e.ts)]
    assert (await replay.quote("SPY")).bid == 600.20 and (await replay.quote("VIX")).last == 18.0
