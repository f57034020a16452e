"""BarStore: Parquet partitions per symbol/day, DuckDB reads, merge, resample, retention."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput, NoData
from engine.core.marketdata import Bar
from engine.market.bars import BarStore
from engine.settings import load_settings


@pytest.fixture
def store(tmp_path):
    return BarStore(load_settings(home=tmp_path / "home", bar_retention_days=30))


def _bars(sym: str, day: date, n: int, start_px: float = 100.0, minute0: int = 0) -> list[Bar]:
    t0 = datetime(day.year, day.month, day.day, 9, 30, tzinfo=NY)
    out, px = [], start_px
    for i in range(minute0, minute0 + n):
        out.append(Bar(sym, t0 + timedelta(minutes=i), px, px + 0.2, px - 0.1, px + 0.1, 100 + i, 60, px + 0.05))
        px += 0.1
    return out


def test_import_eqker_and_query(store, shared_data):
    n = store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    assert n == 1950
    assert store.days("SPY") == [date(2019, 2, d) for d in (11, 12, 13, 14, 15)]
    # one Parquet file per symbol-day, hive-style folders
    files = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*.parquet"))
    assert files[0] == "1m/symbol=SPY/day=2019-02-11/bars.parquet" and len(files) == 5
    frame = store.minute_bars("SPY", date(2019, 2, 12), "2019-02-13")
    assert len(frame) == 780 and frame.index[0] == datetime(2019, 2, 12, 9, 30, tzinfo=NY)
    assert str(frame.index.tz) == "America/New_York" and frame.index.name == "start"
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame["volume"].dtype == "int64"
    assert len(store.minute_bars("SPY")) == 1950  # open bounds = everything
    assert store.minute_bars("SPY", "2020-01-01", "2020-01-31").empty
    assert store.minute_bars("QQQ", "2019-02-11", "2019-02-15").empty


def test_index_aliases_share_one_symbol(store, shared_data):
    store.import_csv(os.path.join(shared_data, "eqker", "VIX_1min.csv"), "^VIX")
    assert store.days("I:VIX") == store.days("VIX") and len(store.days("VIX")) == 5
    assert store.symbols() == ["VIX"]


def test_import_of_a_bad_file_changes_nothing(store, tmp_path, shared_data):
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    before = store.minute_bars("SPY")
    bad = tmp_path / "bad.csv"
    bad.write_text("datetime,open,high,low,close,volume\n2019-02-11 09:31:00,1,2,0.5,1.5,10\n"
                   "2019-02-11 09:32:00,1,0.9,0.5,1.5,10\n")
    with pytest.raises(InvalidInput, match="row 2"):
        store.import_csv(bad, "SPY")
    pd.testing.assert_frame_equal(store.minute_bars("SPY"), before)


def test_write_bars_merges_and_replaces_same_minutes(store):
    day = date(2026, 11, 20)
    assert store.write_bars(_bars("SPY", day, 10)) == 10
    newer = _bars("SPY", day, 5, start_px=200.0, minute0=8)  # overlaps minutes 8, 9
    store.write_bars(newer)
    frame = store.minute_bars("SPY", day, day)
    assert len(frame) == 13
    assert frame.loc[datetime(2026, 11, 20, 9, 38, tzinfo=NY), "open"] == 200.0
    assert frame.loc[datetime(2026, 11, 20, 9, 37, tzinfo=NY), "open"] == pytest.approx(100.7)
    store.write_bars(_bars("SPY", day, 2, start_px=300.0) * 2)  # the same minutes twice in one call
    assert len(store.minute_bars("SPY", day, day)) == 13
    bars = store.bars("SPY", datetime(2026, 11, 20, 9, 30, tzinfo=NY), datetime(2026, 11, 20, 9, 35, tzinfo=NY))
    assert [b.start.minute for b in bars] == [30, 31, 32, 33, 34] and bars[0].symbol == "SPY"
    assert bars[0].open == 300.0


def test_write_frame_needs_aware_index_and_columns(store):
    naive = pd.DataFrame({"open": [1.0], "high": [1.0], "low": [1.0], "close": [1.0], "volume": [1]},
                         index=pd.DatetimeIndex([datetime(2026, 1, 2, 9, 30)]))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        store.write_frame("SPY", naive)
    with pytest.raises(InvalidInput, match="lacks columns"):
        store.write_frame("SPY", naive.tz_localize(NY).drop(columns=["volume"]))
    with pytest.raises(InvalidInput, match="end_day"):
        store.minute_bars("SPY", "2026-01-05", "2026-01-02")
    with pytest.raises(InvalidInput, match="is not a date"):
        store.minute_bars("SPY", "tomorrow")


def test_resample_anchors_on_the_open(store, shared_data):
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    minute = store.minute_bars("SPY", "2019-02-11", "2019-02-11")
    five = store.resample("SPY", "5m", "2019-02-11", "2019-02-11")
    assert len(five) == 78 and five.index[0] == datetime(2019, 2, 11, 9, 30, tzinfo=NY)
    first = minute.iloc[:5]
    assert five.iloc[0].open == first.iloc[0].open and five.iloc[0].close == first.iloc[-1].close
    assert five.iloc[0].high == first.high.max() and five.iloc[0].low == first.low.min()
    assert five.iloc[0].volume == first.volume.sum()
    hourly = store.resample("SPY", "1h", "2019-02-11", "2019-02-11")
    assert [t.strftime("%H:%M") for t in hourly.index] == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30",
                                                            "15:30"]
    assert hourly.volume.sum() == minute.volume.sum()
    assert len(store.resample("SPY", "1h")) == 35  # 7 a day, never spanning two days
    with pytest.raises(InvalidInput, match="interval"):
        store.resample("SPY", "7m")


def test_require_names_what_is_stored(store, shared_data):
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    with pytest.raises(NoData, match="stored: 2019-02-11 to 2019-02-15"):
        store.require("SPY", date(2020, 1, 1), date(2020, 1, 3))


def test_retention_prunes_old_recorded_days_but_keeps_imports(store, shared_data):
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    today = date(2026, 11, 20)
    old, recent = today - timedelta(days=45), today - timedelta(days=3)
    store.write_bars(_bars("QQQ", old, 3) + _bars("QQQ", recent, 3))
    store.write_bars([Bar("QQQ", datetime(old.year, old.month, old.day, 10, tzinfo=NY), 1, 1, 1, 1, 1, 1)],
                     interval_s=1)
    assert store.prune(today) == 2  # the old 1 m and 1 s QQQ days
    assert store.days("QQQ") == [recent] and store.days("QQQ", interval_s=1) == []
    assert len(store.days("SPY")) == 5  # imported 2019 history is kept
    assert store.prune(today, include_imported=True) == 5
    assert store.days("SPY") == []
