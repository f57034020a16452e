"""Replay feed and the recorded-file readers, on the real files in ../shared/data."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.core.clock import NY, SimClock
from engine.core.errors import InvalidInput, NoData, UnknownSymbol
from engine.core.marketdata import Bar, Quote, Trade
from engine.market.feed import Feed
from engine.market.recorded.cboe_chain import parity_spot, read_cboe_chain
from engine.market.recorded.top_of_book import read_top_of_book
from engine.market.replay import ReplayFeed
from engine.settings import load_settings


@pytest.fixture
def dom(shared_data):
    return os.path.join(shared_data, "pecuniary", "dom_data_SPY_20251003_110155.csv")


@pytest.fixture
def cboe(shared_data):
    return os.path.join(shared_data, "cboe-spy-chain", "spy_quotedata_2025-05-16.csv")


def test_cboe_chain_spot_from_parity_not_header(cboe):
    rec = read_cboe_chain(cboe)
    assert rec.header_last == 589.25
    assert rec.spot == pytest.approx(594.0, abs=0.3)  # parity, per the data README
    assert rec.ts == datetime(2025, 5, 16, 19, 23, tzinfo=NY)
    assert len(rec.expirations()) == 10 and rec.expirations()[0] == date(2025, 5, 16)
    snap = rec.chains[date(2025, 5, 16)]
    assert len(snap) == 620 and snap.underlying == "SPY" and snap.spot == rec.spot
    assert snap.symbols[:2] == ("SPY250516C00285000", "SPY250516P00285000")
    assert list(snap.is_call[:2]) == [True, False] and np.all(np.diff(snap.strikes) >= 0)
    # after the close most 0DTE IVs are 0 in the file: kept as unknown (NaN), deltas kept
    assert np.isfinite(snap.vendor_iv).sum() == 74 + 122
    assert snap.vendor_delta[0] == 1.0
    later = rec.chains[date(2025, 5, 30)]
    assert np.isfinite(later.vendor_iv).mean() > 0.9


def test_parity_spot_helper():
    k = np.array([95.0, 100.0, 105.0])
    s = parity_spot(k, np.array([6.0, 2.5, 0.6]), np.array([1.0, 2.5, 5.6]), 0.0, 0.05)
    assert s == pytest.approx(100.0)
    assert np.isnan(parity_spot(k, np.full(3, np.nan), np.ones(3), 0.0, 0.0))


def test_top_of_book_quirks_and_time_zone(dom):
    tape = read_top_of_book(dom)
    assert tape.zone == "America/Los_Angeles"  # found from the close, not assumed
    first = datetime.fromtimestamp(tape.ts_ns[0] / 1e9, NY)
    assert (first.hour, first.minute) == (14, 2)
    assert tape.raw_rows == 10_000 and len(tape) < 2_000  # repeated samples dropped
    assert tape.crossed == 1  # one sampling artefact row dropped, counted
    assert (tape.ask == 0).any() and (tape.bid > 0).all()  # after-hours bid-only rows kept
    assert tape.ask_size.max() >= 1000  # "1,922"-style sizes parsed


def test_top_of_book_explicit_zone_and_bad_rows(dom, tmp_path):
    assert read_top_of_book(dom, tz="America/New_York").zone == "America/New_York"
    bad = tmp_path / "tob.csv"
    bad.write_text("timestamp,symbol,bid_price,bid_size,ask_price,ask_size\n2025-10-03 11:00:00,SPY,1,1,1.01,1\n"
                   "2025-10-03 11:00:01,SPY,,,,\n")
    with pytest.raises(InvalidInput, match="line 3: no bid and no ask"):
        read_top_of_book(bad)


async def test_replay_plays_bars_on_its_sim_clock(shared_data):
    feed = ReplayFeed(paths=[os.path.join(shared_data, "eqker")], speed=0)
    assert isinstance(feed, Feed)
    assert feed.symbols() == ["SPY", "VIX"]
    assert any("15 minutes apart" in s for s in feed.skipped) and any("daily" in s for s in feed.skipped)
    # the clock starts where the first quote exists: when the first minute bar closes
    assert feed.now() == datetime(2019, 2, 11, 9, 31, tzinfo=NY)
    assert (await feed.quote("SPY")).last == 271.34
    await feed.subscribe(["SPY"])
    events = feed.events()
    first = await anext(events)
    assert isinstance(first, Bar) and first.symbol == "SPY" and first.start.strftime("%H:%M") == "09:30"
    assert feed.now() == datetime(2019, 2, 11, 9, 31, tzinfo=NY)  # the bar is known when it closes
    q = await feed.quote("SPY")
    assert q.last == first.close and q.source == "replay" and q.ts == feed.now()
    n = 1
    async for ev in events:
        assert ev.symbol == "SPY"  # VIX played but not subscribed
        n += 1
    assert n == 1950 and feed.now() == datetime(2019, 2, 15, 16, 0, tzinfo=NY)
    hist = await feed.history("SPY", datetime(2019, 2, 15, 9, 30, tzinfo=NY), feed.now(), 300)
    assert len(hist) == 78 and hist[0].interval_s == 300


async def test_replay_history_never_peeks_ahead(shared_data):
    clock = SimClock(datetime(2019, 2, 11, 9, 0, tzinfo=NY))
    feed = ReplayFeed(paths=[os.path.join(shared_data, "eqker", "SPY_1min.csv")], speed=0, clock=clock)
    with pytest.raises(NoData, match="before the first SPY bar"):
        await feed.quote("SPY")
    clock.set(datetime(2019, 2, 12, 10, 0, tzinfo=NY))
    bars = await feed.history("SPY", datetime(2019, 2, 12, 9, 0, tzinfo=NY), datetime(2019, 2, 12, 16, tzinfo=NY))
    assert len(bars) == 30 and bars[-1].start.strftime("%H:%M") == "09:59"
    assert (await feed.quote("SPY")).last == bars[-1].close
    # playback continues from the moved clock, not from the file's start
    nxt = await anext(feed.events())
    assert nxt.start == datetime(2019, 2, 12, 10, 0, tzinfo=NY)


async def test_replay_speed_paces_the_stream(shared_data):
    feed = ReplayFeed(paths=[os.path.join(shared_data, "eqker", "SPY_1min.csv")], speed=600)  # 1 min = 0.1 s
    events = feed.events()
    t0 = time.monotonic()
    for _ in range(4):
        await anext(events)
    elapsed = time.monotonic() - t0
    assert 0.3 <= elapsed < 1.5  # bars close at 09:31..09:34: 4 minutes = 0.4 s at 600x


async def test_replay_does_not_wait_out_the_night(shared_data):
    feed = ReplayFeed(paths=[os.path.join(shared_data, "eqker", "SPY_1min.csv")], speed=600, max_gap_s=60,
                      clock=SimClock(datetime(2019, 2, 11, 15, 58, tzinfo=NY)))
    events = feed.events()
    t0 = time.monotonic()
    got = [await anext(events) for _ in range(3)]  # 15:58, 15:59, then 09:30 the next morning
    assert got[-1].start == datetime(2019, 2, 12, 9, 30, tzinfo=NY)
    assert time.monotonic() - t0 < 1.0  # 17.5 h overnight at 600x would be 105 s


async def test_replay_quotes_trades_and_chain(dom, cboe):
    feed = ReplayFeed(paths=[dom, cboe], speed=0)
    await feed.subscribe(["SPY"])
    kinds: dict[str, int] = {}
    async for ev in feed.events():
        kinds[type(ev).__name__] = kinds.get(type(ev).__name__, 0) + 1
        if isinstance(ev, Trade):
            assert ev.price > 600
    assert kinds["Quote"] == 1485 and kinds["Trade"] > 100
    q = await feed.quote("SPY")
    assert isinstance(q, Quote) and q.ts.strftime("%H:%M") == "17:10" and q.ask - q.bid > 1  # after hours
    assert await feed.expirations("SPY") == sorted(await feed.expirations("SPY"))
    chain = await feed.chain("SPY", date(2025, 5, 16))
    assert chain.spot == pytest.approx(594.0, abs=0.3)
    opt = await feed.quote("SPY250516C00590000")
    assert (opt.bid, opt.ask, opt.last) == (3.92, 4.16, 4.03)
    with pytest.raises(NoData, match="recorded expiries: 2025-05-16"):
        await feed.chain("SPY", date(2025, 6, 20))
    with pytest.raises(NoData):
        await feed.chain("QQQ", date(2025, 5, 16))
    with pytest.raises(UnknownSymbol):
        await feed.quote("IWM")
    bars = await feed.history("SPY", datetime(2025, 10, 3, 15, 0, tzinfo=NY), datetime(2025, 10, 3, 16, 0, tzinfo=NY))
    assert len(bars) == 60 and bars[0].volume > 0  # built from the recorded quotes and trades


async def test_replay_from_settings_and_parquet(tmp_path, shared_data):
    from engine.market.bars import BarStore

    with pytest.raises(InvalidInput, match="SMART0DTE_REPLAY_PATH"):
        ReplayFeed(load_settings(home=tmp_path))
    store = BarStore(load_settings(home=tmp_path / "h"))
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    feed = ReplayFeed(load_settings(home=tmp_path, feed="replay", replay_path=store.root, replay_speed=1e9))
    assert feed.symbols() == ["SPY"] and feed.speed == 1e9
    assert len(feed.bars["SPY"]) == 1950
    frame = feed.bars["SPY"]
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index[0] == datetime(2019, 2, 11, 9, 30, tzinfo=NY)
    ev = await asyncio.wait_for(anext(feed.events()), 2)
    assert ev.start == frame.index[0]
    with pytest.raises(InvalidInput, match="does not exist"):
        ReplayFeed(paths=[tmp_path / "nope"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoData):
        ReplayFeed(paths=[empty])
    assert feed.last_instant() - feed.first_instant() > timedelta(days=4)


def test_zone_detection_keeps_new_york_and_finds_chicago():
    from engine.market.recorded.top_of_book import detect_zone

    def tape(offset_h: int):
        stamps, bid, ask = [], [], []
        t = datetime(2025, 10, 3, 15, 0)  # New York wall time, 15:00 to 17:00
        for i in range(7200):
            ts = t + timedelta(seconds=i)
            wide = ts.hour >= 16
            stamps.append(ts - timedelta(hours=offset_h))
            bid.append(600.0)
            ask.append(603.0 if wide and i % 3 else 600.05)
        return stamps, np.array(bid), np.array(ask)

    assert detect_zone(*tape(0)) == "America/New_York"
    assert detect_zone(*tape(1)) == "America/Chicago"
    assert detect_zone(*tape(3)) == "America/Los_Angeles"
    flat = tape(0)
    assert detect_zone(flat[0], flat[1], np.full(7200, 600.05)) == "America/New_York"  # no evidence


def test_cboe_bad_row_names_its_line(cboe, tmp_path):
    lines = Path(cboe).read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].replace("SPY250516C00295000", "SPY250516X00295000")
    bad = tmp_path / "chain.csv"
    bad.write_text("\n".join(lines))
    with pytest.raises(InvalidInput, match="line 7"):
        read_cboe_chain(bad)
    with pytest.raises(InvalidInput, match="not a Cboe chain"):
        read_cboe_chain(os.path.join(os.path.dirname(cboe), "..", "eqker", "SPY_1min.csv"))


async def test_replay_generic_parquet_file(tmp_path):
    idx = pd.date_range("2024-03-01 09:30", periods=5, freq="1min", tz=NY)
    df = pd.DataFrame({"timestamp": idx.tz_localize(None), "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
                       "volume": 10})
    f = tmp_path / "QQQ_minute.parquet"
    df.to_parquet(f)
    feed = ReplayFeed(paths=[f], speed=0)
    assert feed.symbols() == ["QQQ"] and feed.bars["QQQ"].index[0] == idx[0]
    got = [ev async for ev in feed.events()]
    assert len(got) == 5 and (await feed.quote("QQQ")).last == 1.5


async def test_replay_saved_polygon_chain_snapshots(shared_data):
    feed = ReplayFeed(paths=[os.path.join(shared_data, "polygon")], speed=0)
    assert feed.symbols() == ["AAPL"]  # the one chain snapshot among the recorded bodies; the rest skipped
    assert len(feed.skipped) > 30
    chain = await feed.chain("AAPL", date(2023, 6, 16))
    assert chain.source == "replay" and chain.spot == pytest.approx(159.9606)
    assert chain.vendor_iv[0] == pytest.approx(0.3570277203465058)
    q = await feed.quote("AAPL230616C00150000")
    assert (q.bid, q.ask, q.last) == (28.9, 29.25, 29.25)


def test_symbol_from_filename():
    from engine.market.recorded import symbol_from_filename

    assert symbol_from_filename("dom_data_SPY_20251003_110155.csv") == "SPY"
    assert symbol_from_filename("/x/QQQ_1min.csv") == "QQQ"
    assert symbol_from_filename("vix-daily-1990-2023.csv") == "VIX"
    assert symbol_from_filename("AAPL.parquet") == "AAPL"
