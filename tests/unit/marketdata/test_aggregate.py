"""Streaming bar aggregation from trades, quotes and finer bars."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.marketdata import Bar, Quote, Trade
from engine.market.bars import BarAggregator, bucket_start, interval_seconds

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=NY)


def test_interval_names():
    assert [interval_seconds(x) for x in ("1s", "1m", "1min", "5m", "5min", "1h", 300, 3600)] == \
        [1, 60, 60, 300, 300, 3600, 300, 3600]
    with pytest.raises(InvalidInput):
        interval_seconds("2m")
    with pytest.raises(InvalidInput):
        interval_seconds(7)


def test_bucket_start_anchors_hours_on_0930():
    assert bucket_start(datetime(2026, 11, 20, 10, 29, 59, tzinfo=NY), 3600).strftime("%H:%M") == "09:30"
    assert bucket_start(datetime(2026, 11, 20, 10, 30, tzinfo=NY), 3600).strftime("%H:%M") == "10:30"
    assert bucket_start(datetime(2026, 11, 20, 15, 3, 7, 500, tzinfo=NY), 300) == \
        datetime(2026, 11, 20, 15, 0, tzinfo=NY)
    assert bucket_start(datetime(2026, 11, 20, 15, 3, 7, 500, tzinfo=NY), 1) == \
        datetime(2026, 11, 20, 15, 3, 7, tzinfo=NY)


def test_trades_make_ohlcv_and_vwap_and_close_on_next_bucket():
    agg = BarAggregator("1m")
    assert agg.add(Trade("SPY", 600.0, 100, T0 + timedelta(seconds=1))) == []
    agg.add(Trade("SPY", 601.0, 100, T0 + timedelta(seconds=20)))
    agg.add(Trade("SPY", 599.5, 200, T0 + timedelta(seconds=40)))
    agg.add(Trade("QQQ", 500.0, 10, T0 + timedelta(seconds=41)))
    (bar,) = agg.add(Trade("SPY", 600.5, 1, T0 + timedelta(minutes=1, seconds=2)))
    assert (bar.symbol, bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume) == \
        ("SPY", T0, 600.0, 601.0, 599.5, 599.5, 400)
    assert bar.vwap == pytest.approx((600 * 100 + 601 * 100 + 599.5 * 200) / 400)
    rest = agg.flush()
    assert sorted(b.symbol for b in rest) == ["QQQ", "SPY"]


def test_quotes_make_mid_bars_until_a_trade_arrives():
    agg = BarAggregator(1)
    agg.add(Quote("SPY", 600.00, 600.02, T0))
    agg.add(Quote("SPY", 600.10, 600.12, T0 + timedelta(milliseconds=300)))
    agg.add(Quote("SPY", 0.0, 600.12, T0 + timedelta(milliseconds=400)))  # one-sided: ignored
    (bar,) = agg.flush()
    assert (bar.open, bar.high, bar.close, bar.volume, bar.vwap) == (600.01, 600.11, 600.11, 0, None)
    agg.add(Quote("SPY", 600.00, 600.02, T0 + timedelta(seconds=1)))
    agg.add(Trade("SPY", 600.05, 3, T0 + timedelta(seconds=1, milliseconds=5)))
    agg.add(Quote("SPY", 700.00, 700.02, T0 + timedelta(seconds=1, milliseconds=9)))  # traded: quotes ignored
    (bar,) = agg.flush()
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (600.05, 600.05, 600.05, 600.05, 3)


def test_finer_bars_roll_up_and_late_events_are_counted():
    agg = BarAggregator("5m")
    minutes = [Bar("SPY", T0 + timedelta(minutes=i), 100 + i, 101 + i, 99 + i, 100.5 + i, 10, 60) for i in range(6)]
    out = agg.add_many(minutes)
    assert len(out) == 1
    b = out[0]
    assert (b.start, b.open, b.high, b.low, b.close, b.volume, b.interval_s) == (T0, 100, 105, 99, 104.5, 50, 300)
    assert agg.add(Trade("SPY", 1.0, 1, T0)) == [] and agg.late == 1
    with pytest.raises(InvalidInput):
        BarAggregator("1m").add(Bar("SPY", T0, 1, 1, 1, 1, 1, 300))
    assert agg.flush(before=T0 + timedelta(minutes=9)) == []
    assert len(agg.flush(before=T0 + timedelta(minutes=10))) == 1
