"""Bar aggregation: trades, quotes or smaller bars → 1 s / 1 min / 5 min / 1 h OHLCV bars.

Buckets are anchored on 09:30 New York (the regular open) so hourly bars run 09:30–10:30,
10:30–11:30… as traders read them; for intervals that divide 30 minutes this is the same as
wall-clock alignment (a 5-minute bar starts at :00, :05…). A bar is ``[start, start + interval)``.

Two tools:

* :class:`BarAggregator`, streaming: feed it events in time order, it hands back each bar when the
  bucket closes (the first event of a later bucket closes it; :meth:`BarAggregator.flush` closes
  the rest). Trades make OHLC and volume; quotes make OHLC of the mid with no volume, and only
  for symbols that have not traded in that bucket (an option can go minutes without a print).
* :func:`resample_frame`, vectorized: minute-bar frame → coarser frame, per trading day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.marketdata import Bar, MarketEvent, Quote, Trade

#: Intervals the product aggregates to, by name, in seconds.
INTERVALS: dict[str, int] = {"1s": 1, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600}
_ANCHOR = timedelta(hours=9, minutes=30)


def interval_seconds(interval: str | int) -> int:
    """``"5m"``/``"5min"``/``300`` → 300; :class:`InvalidInput` for anything else."""
    if isinstance(interval, int) and not isinstance(interval, bool):
        if interval in INTERVALS.values():
            return interval
        raise InvalidInput(f"interval {interval} s is not one of {sorted(INTERVALS.values())}", field="interval")
    key = str(interval).strip().lower().replace("min", "m").replace("sec", "s").replace("hour", "h")
    key = {"60s": "1m", "60m": "1h", "1": "1m"}.get(key, key)
    if key not in INTERVALS:
        raise InvalidInput(f"interval {interval!r} must be one of {', '.join(INTERVALS)}", field="interval")
    return INTERVALS[key]


def bucket_start(ts: datetime, interval_s: int) -> datetime:
    """Start (aware, New York) of the ``interval_s`` bucket that holds ``ts``."""
    local = ts.astimezone(NY)
    anchor = local.replace(hour=0, minute=0, second=0, microsecond=0) + _ANCHOR
    offset = (local - anchor).total_seconds()
    return anchor + timedelta(seconds=(offset // interval_s) * interval_s)


@dataclass(slots=True)
class _Building:
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
    notional: float
    from_trades: bool


class BarAggregator:
    """Streaming OHLCV per symbol for one interval.

    ``add(event)`` accepts a :class:`Quote`, :class:`Trade` or a finer :class:`Bar` and returns the
    list of bars that this event closed (usually empty). Events older than the open bucket of
    their symbol are ignored (a late print cannot reopen a published bar) and counted in
    :attr:`late`.
    """

    def __init__(self, interval: str | int = "1m") -> None:
        self.interval_s = interval_seconds(interval)
        self._open: dict[str, _Building] = {}
        self.late = 0

    def add(self, event: MarketEvent) -> list[Bar]:
        if isinstance(event, Trade):
            return self._merge(event.symbol, event.ts, event.price, event.price, event.price, event.price,
                               int(event.size), event.price * event.size, trade=True)
        if isinstance(event, Quote):
            if event.bid <= 0 or event.ask <= 0:
                return []
            m = (event.bid + event.ask) / 2.0
            return self._merge(event.symbol, event.ts, m, m, m, m, 0, 0.0, trade=False)
        if isinstance(event, Bar):
            if event.interval_s > self.interval_s:
                raise InvalidInput(f"cannot build {self.interval_s} s bars from {event.interval_s} s bars")
            vw = event.vwap if event.vwap is not None else event.close
            return self._merge(event.symbol, event.start, event.open, event.high, event.low, event.close,
                               int(event.volume), vw * event.volume, trade=True)
        raise TypeError(f"cannot aggregate {type(event).__name__}")

    def add_many(self, events: Iterable[MarketEvent]) -> list[Bar]:
        out: list[Bar] = []
        for ev in events:
            out.extend(self.add(ev))
        return out

    def _merge(self, sym: str, ts: datetime, o: float, h: float, lo: float, c: float, vol: int,
               notional: float, *, trade: bool) -> list[Bar]:
        start = bucket_start(ts, self.interval_s)
        cur = self._open.get(sym)
        if cur is not None and start < cur.start:
            self.late += 1
            return []
        if cur is None or start > cur.start:
            done = [] if cur is None else [self._bar(sym, cur)]
            self._open[sym] = _Building(start, o, h, lo, c, vol, notional, trade)
            return done
        if trade and not cur.from_trades:  # first print replaces the quote-mid placeholder
            self._open[sym] = _Building(start, o, h, lo, c, vol, notional, True)
        elif trade or not cur.from_trades:
            cur.high, cur.low, cur.close = max(cur.high, h), min(cur.low, lo), c
            cur.volume += vol
            cur.notional += notional
        return []

    def _bar(self, sym: str, b: _Building) -> Bar:
        vwap = b.notional / b.volume if b.volume > 0 else None
        return Bar(sym, b.start, b.open, b.high, b.low, b.close, b.volume, self.interval_s, vwap)

    def flush(self, before: datetime | None = None) -> list[Bar]:
        """Close and return open bars (all, or those whose bucket ended by ``before``)."""
        out = []
        for sym, b in list(self._open.items()):
            if before is None or b.start + timedelta(seconds=self.interval_s) <= before:
                out.append(self._bar(sym, b))
                del self._open[sym]
        return out


def resample_frame(frame: pd.DataFrame, interval: str | int) -> pd.DataFrame:
    """Aggregate a frame of 1-minute bars (index: aware bar starts) to a coarser interval.

    Buckets never span two trading days and are anchored on 09:30 New York. Empty buckets are
    dropped (no invented bars). ``interval`` must be a whole number of minutes.
    """
    secs = interval_seconds(interval)
    if secs % 60:
        raise InvalidInput(f"cannot build {secs} s bars from 1-minute bars", field="interval")
    if frame.empty or secs == 60:
        return frame.copy()
    local = frame.index.tz_convert(NY)
    midnight = local.normalize()
    offset = (local - midnight - pd.Timedelta(_ANCHOR)).total_seconds().to_numpy()
    start = midnight + pd.to_timedelta(_ANCHOR) + pd.to_timedelta(np.floor(offset / secs) * secs, unit="s")
    grouped = frame.groupby(start, sort=True)
    out = pd.DataFrame({"open": grouped["open"].first(), "high": grouped["high"].max(),
                        "low": grouped["low"].min(), "close": grouped["close"].last(),
                        "volume": grouped["volume"].sum().astype(np.int64)})
    out.index = pd.DatetimeIndex(out.index).tz_convert(NY)
    out.index.name = "start"
    return out


def frame_to_bars(symbol: str, frame: pd.DataFrame, interval_s: int = 60) -> list[Bar]:
    """Rows of a bar frame as :class:`Bar` records (aware NY starts)."""
    idx = frame.index.tz_convert(NY)
    cols = [frame[c].to_numpy() for c in ("open", "high", "low", "close", "volume")]
    return [Bar(symbol, ts.to_pydatetime(), float(o), float(h), float(lo), float(c), int(v), interval_s)
            for ts, o, h, lo, c, v in zip(idx, *cols, strict=True)]


def bars_to_frame(bars: Iterable[Bar]) -> pd.DataFrame:
    """:class:`Bar` records → frame indexed by aware NY start (the BarStore's shape)."""
    items = list(bars)
    idx = pd.DatetimeIndex([b.start for b in items]).tz_convert(NY) if items else \
        pd.DatetimeIndex([], tz=NY)
    frame = pd.DataFrame({"open": [b.open for b in items], "high": [b.high for b in items],
                          "low": [b.low for b in items], "close": [b.close for b in items],
                          "volume": np.array([b.volume for b in items], dtype=np.int64)}, index=idx)
    frame.index.name = "start"
    return frame
