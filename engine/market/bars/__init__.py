"""Bars: the Parquet/DuckDB bar store, streaming and vectorized aggregation, and CSV import.

Public surface::

    BarStore(settings).import_csv(path, symbol) -> int
    BarStore(settings).minute_bars(symbol, start_day, end_day) -> DataFrame (NY bar starts; OHLCV)
    BarStore(settings).days(symbol) -> list[date]
    BarStore(settings).resample(symbol, "5m") ; .write_bars(bars) ; .bars(symbol, start, end, s)
    BarAggregator("1m").add(quote | trade | bar) -> closed bars
    read_minute_csv(path, symbol) -> DataFrame ; resample_frame(frame, "1h")
"""

from engine.market.bars.aggregate import (
    INTERVALS,
    BarAggregator,
    bars_to_frame,
    bucket_start,
    frame_to_bars,
    interval_seconds,
    resample_frame,
)
from engine.market.bars.csv_import import parse_timestamp, read_minute_csv
from engine.market.bars.store import BarStore

__all__ = [
    "INTERVALS", "BarAggregator", "BarStore", "bars_to_frame", "bucket_start", "frame_to_bars",
    "interval_seconds", "parse_timestamp", "read_minute_csv", "resample_frame",
]
