"""Read a file of 1-minute OHLCV bars into a clean, validated frame.

Vendors write minute bars in many layouts. This reader accepts the common ones:

* one timestamp column (``datetime``, ``timestamp``, ``time``, ``date``, ``ts``, ``t``…) or a
  ``date`` + ``time`` pair (also ``<DATE>``/``<TIME>`` as ``YYYYMMDD``/``HHMMSS``);
* timestamps as ISO 8601 with or without offset (``2019-02-15 16:00:00``,
  ``2019-02-15T16:00:00-05:00``), US style ``02/15/2019 16:00`` or ``02/15/2019 4:00 PM``, or
  epoch seconds / ms / µs / ns;
* price columns ``open/high/low/close`` or ``o/h/l/c`` (any case), ``volume``/``vol``/``v``
  (optional: index files have none), extra columns (``vwap``, ``adj close``…) ignored, an
  optional ``symbol``/``ticker`` column that must match the symbol being imported;
* comma, semicolon or tab separated; CRLF or LF; a BOM; no final newline; rows in any order
  (``eqker`` files are newest first); thousands commas inside quoted numbers.

Naive timestamps are exchange local time (America/New_York unless told otherwise). Bars may be
labelled by their START (most APIs) or their END (``eqker``, many brokers' exports: first bar of
a session 09:31, last 16:00); ``label="auto"`` tells them apart from the session edges: a file
with bars stamped 16:00 and none stamped 09:30 is end-labelled. The result is always indexed by
bar START.

Validation is all or nothing: the first bad row rejects the file with its row number and the
reason (:class:`~engine.core.errors.InvalidInput`), so a half-imported day never reaches a
backtest.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from engine.core.clock import NY
from engine.core.errors import InvalidInput

Label = Literal["auto", "start", "end"]

_TIME_NAMES = ("datetime", "date_time", "timestamp", "time_stamp", "ts", "t", "bar_time", "time", "date")
_ALIASES = {
    "open": ("open", "o", "open_price", "openprice"),
    "high": ("high", "h", "high_price", "highprice"),
    "low": ("low", "l", "low_price", "lowprice"),
    "close": ("close", "c", "close_price", "closeprice", "last"),
    "volume": ("volume", "vol", "v"),
    "symbol": ("symbol", "ticker", "sym"),
}
_DATE_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
                 "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%Y%m%d %H%M%S", "%Y%m%d %H:%M:%S", "%Y%m%d %H%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each field sits in a row (column indices)."""

    ts: int
    time_col: int | None  # a separate time-of-day column (date + time layouts)
    open: int
    high: int
    low: int
    close: int
    volume: int | None
    symbol: int | None


def _norm(name: str) -> str:
    return name.strip().strip("<>\"'").strip().lower().replace(" ", "_").replace("-", "_")


def _layout(header: list[str], where: str) -> _Layout:
    names = [_norm(h) for h in header]

    def find(options: Iterable[str]) -> int | None:
        for opt in options:
            if opt in names:
                return names.index(opt)
        return None

    cols = {key: find(opts) for key, opts in _ALIASES.items()}
    missing = [k for k in ("open", "high", "low", "close") if cols[k] is None]
    if missing:
        raise InvalidInput(f"{where}: header {','.join(header)!s} has no {'/'.join(missing)} column "
                           "(expected e.g. datetime,open,high,low,close,volume)", field="file")
    d, t = find(("date", "day")), find(("time", "time_of_day"))
    if d is not None and t is not None:
        return _Layout(d, t, cols["open"], cols["high"], cols["low"], cols["close"],  # type: ignore[arg-type]
                       cols["volume"], cols["symbol"])
    ts = find(_TIME_NAMES)
    if ts is None:
        ts = 0 if 0 not in cols.values() else None
    if ts is None:
        raise InvalidInput(f"{where}: no timestamp column (datetime, timestamp, time or date + time)",
                           field="file")
    return _Layout(ts, None, cols["open"], cols["high"], cols["low"], cols["close"],  # type: ignore[arg-type]
                   cols["volume"], cols["symbol"])


def _epoch(text: str) -> datetime:
    n = int(text)
    digits = len(text.lstrip("-"))
    scale = 1 if digits <= 10 else 1_000 if digits <= 13 else 1_000_000 if digits <= 16 else 1_000_000_000
    return datetime.fromtimestamp(n / scale, UTC)


def parse_timestamp(text: str, tz: tzinfo = NY) -> datetime:
    """One timestamp from a vendor file, aware; naive ones are read in ``tz``.

    Raises ``ValueError`` naming the text when it is none of the accepted forms.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty timestamp")
    if s.isdigit() and len(s) >= 9:
        return _epoch(s)
    try:
        ts = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        ts = None
        for fmt in _DATE_FORMATS:
            try:
                ts = datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
        if ts is None:
            raise ValueError(f"timestamp {s!r} is not a date and time") from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=tz)


def _number(text: str, what: str) -> float:
    try:
        v = float(text)  # the common case; float() already ignores surrounding spaces
    except ValueError:
        s = text.strip().replace(",", "")  # "1,922": a quoted thousands separator
        if not s:
            raise ValueError(f"{what} is empty") from None
        try:
            v = float(s)
        except ValueError:
            raise ValueError(f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{what} {text.strip()!r} is not finite")
    return v


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _decide_label(starts: np.ndarray, label: Label) -> Label:
    """``auto``: end-labelled when some bar sits at 16:00 and none at 09:30 (NY), else start."""
    if label != "auto":
        return label
    minutes = pd.DatetimeIndex(starts).tz_convert(NY)
    tod = minutes.hour * 60 + minutes.minute
    has_open, has_close = bool((tod == 9 * 60 + 30).any()), bool((tod == 16 * 60).any())
    return "end" if has_close and not has_open else "start"


def read_minute_csv(path: str | Path, symbol: str | None = None, *, label: Label = "auto",
                    tz: str | tzinfo = NY) -> pd.DataFrame:
    """Parse and validate a 1-minute bar file.

    Returns a frame indexed by aware America/New_York bar START times (sorted, unique) with float
    columns ``open, high, low, close`` and int64 ``volume``. ``symbol``, when given, must match a
    ``symbol``/``ticker`` column if the file has one. Raises :class:`InvalidInput` naming the row
    (1 = first data row) and line of the first problem, or the file-level problem (not 1-minute
    bars, empty file, unknown layout).
    """
    p = Path(path)
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise InvalidInput(f"cannot read {p}: {err.strerror or err}", field="file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{p.name}: not a UTF-8 text file", field="file") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise InvalidInput(f"{p.name}: file is empty", field="file")
    reader = csv.reader(io.StringIO("\n".join(lines[first:])), _sniff_dialect(lines[first]))
    header = next(reader)
    lay = _layout(header, p.name)
    want = symbol.strip().upper() if symbol else None

    stamps: list[datetime] = []
    rows: list[tuple[float, float, float, float, float]] = []
    line_of: list[int] = []
    for n, rec in enumerate(reader, start=1):
        line = first + 1 + n
        if not rec or all(not c.strip() for c in rec):
            continue
        where = f"{p.name} row {n} (line {line})"
        try:
            if len(rec) < len(header):
                raise ValueError(f"has {len(rec)} fields, header has {len(header)}")
            ts_text = rec[lay.ts] if lay.time_col is None else f"{rec[lay.ts].strip()} {rec[lay.time_col].strip()}"
            ts = parse_timestamp(ts_text, zone)
            o, h, lo, c = (_number(rec[i], k) for i, k in ((lay.open, "open"), (lay.high, "high"),
                                                          (lay.low, "low"), (lay.close, "close")))
            v = 0.0 if lay.volume is None else _number(rec[lay.volume], "volume")
            _check_bar(ts, o, h, lo, c, v)
            if want and lay.symbol is not None and rec[lay.symbol].strip().upper() not in ("", want):
                raise ValueError(f"symbol {rec[lay.symbol].strip()!r} is not {want}")
        except ValueError as err:
            raise InvalidInput(f"{where}: {err}", field="file") from None
        stamps.append(ts)
        rows.append((o, h, lo, c, v))
        line_of.append(n)
    if not rows:
        raise InvalidInput(f"{p.name}: no data rows", field="file")
    return _frame(p.name, stamps, rows, line_of, label)


def _check_bar(ts: datetime, o: float, h: float, lo: float, c: float, v: float) -> None:
    if ts.second or ts.microsecond:
        raise ValueError(f"timestamp {ts:%H:%M:%S} is not on a whole minute")
    if min(o, h, lo, c) <= 0:
        raise ValueError("prices must be positive")
    if h < max(o, c, lo):
        raise ValueError(f"high {h:g} is below open/close/low")
    if lo > min(o, c):
        raise ValueError(f"low {lo:g} is above open/close")
    if v < 0 or v != int(v):
        raise ValueError(f"volume {v:g} must be a whole number ≥ 0")


def _frame(name: str, stamps: list[datetime], rows: list[tuple], line_of: list[int], label: Label) -> pd.DataFrame:
    utc = np.array([int(t.timestamp()) for t in stamps], dtype=np.int64)
    order = np.argsort(utc, kind="stable")
    utc_sorted = utc[order]
    dup = np.flatnonzero(np.diff(utc_sorted) == 0)
    if dup.size:
        a, b = sorted((line_of[order[dup[0]]], line_of[order[dup[0] + 1]]))
        when = datetime.fromtimestamp(int(utc_sorted[dup[0]]), NY)
        raise InvalidInput(f"{name} row {b}: duplicate bar {when:%Y-%m-%d %H:%M} (also row {a})", field="file")
    _check_spacing(name, utc_sorted)
    idx = pd.DatetimeIndex(pd.to_datetime(utc_sorted, unit="s", utc=True))
    if _decide_label(idx.to_numpy(), label) == "end":
        idx = idx - pd.Timedelta(minutes=1)
    arr = np.asarray(rows, dtype=np.float64)[order]
    frame = pd.DataFrame({"open": arr[:, 0], "high": arr[:, 1], "low": arr[:, 2], "close": arr[:, 3],
                          "volume": arr[:, 4].astype(np.int64)}, index=idx.tz_convert(NY))
    frame.index.name = "start"
    return frame


def _check_spacing(name: str, utc_sorted: np.ndarray) -> None:
    """Reject files of other bar sizes (15-minute, daily) fed to the 1-minute import."""
    if utc_sorted.size < 3:
        return
    gaps = np.diff(utc_sorted)
    gaps = gaps[gaps < 6 * 3600]  # ignore overnight and weekend gaps
    if gaps.size == 0:
        raise InvalidInput(f"{name}: rows are days apart: this looks like daily bars, not 1-minute bars",
                           field="file")
    common, _ = Counter(gaps.tolist()).most_common(1)[0]
    if common != 60:
        raise InvalidInput(f"{name}: bars are {common // 60} minutes apart: the import takes 1-minute bars",
                           field="file")

