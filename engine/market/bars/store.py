"""The bar store: OHLCV bars as Parquet files partitioned by symbol and day, read with DuckDB.

Layout under ``SMART0DTE_HOME``::

    bars/<interval>/symbol=SPY/day=2019-02-11/bars.parquet

``<interval>`` is ``1m`` for minute bars (imports, the Polygon warm-up, the live recorder) and
``1s`` for second bars recorded from the stream. One file per symbol-day keeps a day's rewrite
cheap (a live day is re-flushed as it grows) and lets retention drop whole days by deleting a
folder. Columns: ``ts`` (bar start, UTC timestamp), ``open, high, low, close`` (double),
``volume`` (int64), ``vwap`` (double, null when unknown). The ``day`` partition is the New York
trading day of the bar start.

Retention (``bar_retention_days``) prunes days older than that many days before today. History
imported on purpose (``smart0dte data import``, e.g. 2019 SPY bars for a backtest) is marked
with an ``IMPORTED`` file in its partition and kept: it is old by design, not stale.

Writes are atomic per partition (temporary file + rename), so a reader never sees half a day.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from engine.core.clock import NY
from engine.core.errors import InvalidInput, NoData
from engine.core.instruments import parse_symbol
from engine.core.marketdata import Bar
from engine.market.bars.aggregate import (
    BarAggregator,
    bars_to_frame,
    frame_to_bars,
    interval_seconds,
    resample_frame,
)
from engine.market.bars.csv_import import Label, read_minute_csv

_DIRS = {1: "1s", 60: "1m"}
_IMPORTED = "IMPORTED"
_FILE = "bars.parquet"
COLUMNS = ("open", "high", "low", "close", "volume")


def _symbol_key(symbol: str) -> str:
    """Canonical, path-safe symbol (``I:VIX``/``^VIX`` → ``VIX``; OCC options compact)."""
    text = str(symbol).strip().upper()
    if not text:
        raise InvalidInput("empty symbol", field="symbol")
    inst = parse_symbol(text, known_only=False)
    key = getattr(inst, "occ", None) or inst.symbol  # type: ignore[union-attr]
    return key


def _as_day(value: date | datetime | str, field: str) -> date:
    from engine.market.calendar import parse_day

    return parse_day(value, field=field)  # type: ignore[arg-type]


class BarStore:
    """Parquet + DuckDB store of OHLCV bars; see the module docstring for the layout.

    ``BarStore(settings)`` roots the store at ``settings.home / "bars"``; ``root=`` overrides it
    (tests, tools). Thread-safe for readers; one writer per symbol-day at a time.
    """

    def __init__(self, settings=None, *, root: str | Path | None = None) -> None:
        if root is None:
            if settings is None:
                from engine.settings import get_settings

                settings = get_settings()
            root = Path(settings.home) / "bars"
        self.root = Path(root)
        self.retention_days = int(getattr(settings, "bar_retention_days", 400)) if settings else 400

    # --- paths ------------------------------------------------------------------------------------
    def _interval_dir(self, interval_s: int) -> Path:
        name = _DIRS.get(interval_s)
        if name is None:
            raise InvalidInput(f"the store keeps 1 s and 1 min bars, not {interval_s} s", field="interval")
        return self.root / name

    def _partition(self, symbol: str, day: date, interval_s: int = 60) -> Path:
        return self._interval_dir(interval_s) / f"symbol={symbol}" / f"day={day.isoformat()}"

    # --- writing ----------------------------------------------------------------------------------
    def import_csv(self, path: str | Path, symbol: str, *, label: Label = "auto", tz: str = "America/New_York") -> int:
        """Validate a 1-minute bar CSV and store it; returns the number of bars imported.

        All or nothing: a bad row raises :class:`InvalidInput` (row number and reason) and the
        store is unchanged. Days already in the store are merged (the file's bars win). ``tz`` is
        the zone of naive timestamps (timestamps with an offset or epoch numbers ignore it).
        """
        key = _symbol_key(symbol)
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown time zone {tz!r} (e.g. America/New_York)", field="tz") from None
        frame = read_minute_csv(path, key, label=label, tz=zone)
        self.write_frame(key, frame, imported=True)
        return len(frame)

    def write_bars(self, bars: Iterable[Bar] | pd.DataFrame, symbol: str | None = None, *,
                   interval_s: int = 60, imported: bool = False) -> int:
        """Store bars (``Bar`` records of one or more symbols, or a frame of one ``symbol``).

        Returns the number of bars written. Existing bars with the same start are replaced.
        """
        if isinstance(bars, pd.DataFrame):
            if symbol is None:
                raise InvalidInput("write_bars(frame) needs the symbol", field="symbol")
            return self.write_frame(_symbol_key(symbol), bars, interval_s=interval_s, imported=imported)
        by_symbol: dict[str, list[Bar]] = {}
        for b in bars:
            if b.interval_s != interval_s:
                raise InvalidInput(f"bar of {b.symbol} is {b.interval_s} s, store call is for {interval_s} s")
            by_symbol.setdefault(_symbol_key(b.symbol), []).append(b)
        n = 0
        for sym, items in by_symbol.items():
            frame = bars_to_frame(items)
            frame["vwap"] = [b.vwap if b.vwap is not None else np.nan for b in items]
            n += self.write_frame(sym, frame, interval_s=interval_s, imported=imported)
        return n

    def write_frame(self, symbol: str, frame: pd.DataFrame, *, interval_s: int = 60,
                    imported: bool = False) -> int:
        """Store a frame indexed by aware bar start with OHLCV (and optional ``vwap``) columns."""
        if frame.empty:
            return 0
        if frame.index.tz is None:
            raise InvalidInput("bar frame index must be timezone-aware")
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise InvalidInput(f"bar frame lacks columns {missing}")
        data = pd.DataFrame({
            "ts": frame.index.tz_convert("UTC"),
            **{c: frame[c].to_numpy(dtype=np.float64) for c in COLUMNS[:4]},
            "volume": frame["volume"].to_numpy(dtype=np.int64),
            "vwap": frame["vwap"].to_numpy(dtype=np.float64) if "vwap" in frame else np.nan,
        })
        local = frame.index.tz_convert(NY)
        codes = np.asarray(local.year * 10000 + local.month * 100 + local.day)  # NY day as an int
        order = np.argsort(codes, kind="stable")
        days, firsts = np.unique(codes[order], return_index=True)
        for code, a, b in zip(days, firsts, [*firsts[1:], len(order)], strict=True):
            day = date(int(code) // 10000, int(code) // 100 % 100, int(code) % 100)
            self._write_day(symbol, day, data.iloc[order[a:b]], interval_s, imported)
        return len(data)

    def _write_day(self, symbol: str, day: date, part: pd.DataFrame, interval_s: int, imported: bool) -> None:
        folder = self._partition(symbol, day, interval_s)
        target = folder / _FILE
        if target.exists():
            old = pd.read_parquet(target)
            part = pd.concat([old[~old["ts"].isin(part["ts"])], part], ignore_index=True)
        part = part.drop_duplicates("ts", keep="last").sort_values("ts").reset_index(drop=True)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(fd)
        try:
            part.to_parquet(tmp, index=False)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if imported:
            (folder / _IMPORTED).touch()

    # --- reading ----------------------------------------------------------------------------------
    def symbols(self, interval_s: int = 60) -> list[str]:
        base = self._interval_dir(interval_s)
        if not base.is_dir():
            return []
        return sorted(p.name.split("=", 1)[1] for p in base.iterdir() if p.name.startswith("symbol="))

    def days(self, symbol: str, interval_s: int = 60) -> list[date]:
        """Trading days stored for ``symbol`` (ascending)."""
        base = self._interval_dir(interval_s) / f"symbol={_symbol_key(symbol)}"
        if not base.is_dir():
            return []
        return sorted(date.fromisoformat(p.name[4:]) for p in base.iterdir()
                      if p.name.startswith("day=") and (p / _FILE).exists())

    def _files(self, symbol: str, start_day: date, end_day: date, interval_s: int) -> list[str]:
        key = _symbol_key(symbol)
        return [str(self._partition(key, d, interval_s) / _FILE) for d in self.days(key, interval_s)
                if start_day <= d <= end_day]

    def minute_bars(self, symbol: str, start_day: date | str | None = None, end_day: date | str | None = None,
                    *, interval_s: int = 60) -> pd.DataFrame:
        """Bars of ``symbol`` from ``start_day`` to ``end_day`` inclusive (NY trading days).

        Returns a frame indexed by aware America/New_York bar START with float ``open, high,
        low, close`` and int64 ``volume``, ascending. Omitted bounds mean the first/last stored
        day. An empty result is an empty frame of that shape (ask :meth:`days` what exists).
        """
        first = _as_day(start_day, "start_day") if start_day is not None else date.min
        last = _as_day(end_day, "end_day") if end_day is not None else date.max
        if last < first:
            raise InvalidInput(f"end_day {last} is before start_day {first}", field="end_day")
        files = self._files(symbol, first, last, interval_s)
        if not files:
            return _empty()
        cur = _duckdb().cursor()  # a cursor per call: cheap, and safe across threads
        try:
            cols = cur.execute(
                "SELECT epoch_ms(ts) AS ms, open, high, low, close, volume "
                "FROM read_parquet(?) ORDER BY ts", [files]).fetchnumpy()
        finally:
            cur.close()
        idx = pd.DatetimeIndex(pd.to_datetime(np.asarray(cols["ms"], dtype=np.int64), unit="ms", utc=True))
        out = pd.DataFrame({c: np.asarray(cols[c], dtype=np.float64) for c in COLUMNS[:4]}, index=idx.tz_convert(NY))
        out["volume"] = np.asarray(cols["volume"], dtype=np.int64)
        out.index.name = "start"
        return out

    def bars(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """``Bar`` records with ``start <= bar.start < end`` at ``interval_s`` (from the 1-minute
        partitions, or the 1-second ones below a minute)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("start and end must be timezone-aware")
        base = 1 if interval_s < 60 else 60
        frame = self.minute_bars(symbol, start, end, interval_s=base)
        frame = frame[(frame.index >= start) & (frame.index < end)]
        if interval_s != base:
            if base == 60:
                frame = resample_frame(frame, interval_s)
            else:
                agg = BarAggregator(interval_s)
                bars = agg.add_many(frame_to_bars(_symbol_key(symbol), frame, 1))
                return bars + agg.flush()
        return frame_to_bars(_symbol_key(symbol), frame, interval_s)

    def resample(self, symbol: str, interval: str | int, start_day: date | str | None = None,
                 end_day: date | str | None = None) -> pd.DataFrame:
        """Stored minute bars aggregated to ``interval`` (``"5m"``, ``"1h"``…), same frame shape."""
        secs = interval_seconds(interval)
        if secs < 60:
            return self.minute_bars(symbol, start_day, end_day, interval_s=1) if secs == 1 else _empty()
        return resample_frame(self.minute_bars(symbol, start_day, end_day), secs)

    def require(self, symbol: str, start_day: date, end_day: date) -> pd.DataFrame:
        """Like :meth:`minute_bars` but :class:`NoData` when nothing is stored in the range."""
        frame = self.minute_bars(symbol, start_day, end_day)
        if frame.empty:
            have = self.days(symbol)
            span = f"{have[0]} to {have[-1]}" if have else "no days"
            raise NoData(f"no {_symbol_key(symbol)} minute bars from {start_day} to {end_day} (stored: {span})")
        return frame

    # --- retention --------------------------------------------------------------------------------
    def prune(self, today: date | None = None, *, include_imported: bool = False) -> int:
        """Delete day partitions older than ``bar_retention_days`` before ``today``; returns count.

        Imported history is kept unless ``include_imported``.
        """
        today = today or datetime.now(NY).date()
        cutoff = today - timedelta(days=self.retention_days)
        removed = 0
        for interval_s in _DIRS:
            for sym in self.symbols(interval_s):
                for day in self.days(sym, interval_s):
                    folder = self._partition(sym, day, interval_s)
                    if day < cutoff and (include_imported or not (folder / _IMPORTED).exists()):
                        shutil.rmtree(folder, ignore_errors=True)
                        removed += 1
        return removed


_DUCK = None
_DUCK_LOCK = threading.Lock()


def _duckdb():
    """One in-memory DuckDB per process (opening one costs tens of ms; a cursor costs µs)."""
    global _DUCK
    with _DUCK_LOCK:
        if _DUCK is None:
            import duckdb

            _DUCK = duckdb.connect(":memory:")
        return _DUCK


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: np.array([], dtype=np.float64) for c in COLUMNS[:4]},
                       index=pd.DatetimeIndex([], tz=NY, name="start"))
    out["volume"] = np.array([], dtype=np.int64)
    return out
