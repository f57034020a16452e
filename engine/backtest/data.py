"""Minute history for the backtester: sessions of numpy arrays, from the bar store or synthetic.

A :class:`History` is a list of :class:`SessionBars` (one per trading session, regular hours
only, bars ordered by START time) plus, when available, the VIX closes aligned to the same
minutes. Sources:

- :func:`load_store` — the Parquet bar store (CSV imports such as the 2019 SPY/VIX 1-minute
  files, Polygon history): ``BarStore(settings).minute_bars(symbol, start, end)``.
- :func:`load_synthetic` — the simulated market's generator
  ``engine.market.sim.synthetic_minute_bars(symbol, start_day, n_sessions, seed)``; VIX from the
  same generator so the IV model sees a consistent volatility regime.

``minutes_to_close`` is measured from each bar's END (the instant its close is known, when the
backtester decides) to the session's expiry moment (16:00 ET, or the early close).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from engine.core.clock import NY
from engine.core.errors import NoData

_NS_PER_MIN = 60_000_000_000


@dataclass(frozen=True)
class SessionBars:
    """One regular session of one symbol; arrays share one length (minutes)."""

    day: date
    start_ns: np.ndarray  # int64 epoch nanoseconds of bar starts
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    minutes_to_close: np.ndarray  # from bar end to the expiry moment
    vix: np.ndarray | None = None  # VIX close at the same minutes (NaN where missing)

    def __len__(self) -> int:
        return len(self.close)

    def index_at(self, hhmm: tuple[int, int]) -> int | None:
        """Index of the first bar whose END is at or after ``hhmm`` ET (the decision bar)."""
        h, m = hhmm
        day0 = pd.Timestamp(self.day, tz=NY).value
        target = day0 + (h * 60 + m) * _NS_PER_MIN - _NS_PER_MIN  # bar start of that end
        i = int(np.searchsorted(self.start_ns, target))
        return i if i < len(self) else None

    def ts(self, i: int) -> pd.Timestamp:
        """Bar END time of bar ``i`` (aware, NY)."""
        return pd.Timestamp(int(self.start_ns[i]) + _NS_PER_MIN, tz="UTC").tz_convert(NY)


@dataclass(frozen=True)
class RecordedChain:
    """Recorded option prices of one 0DTE expiry, aligned to its session's minutes.

    ``call``/``put`` are (minutes × strikes): the last recorded price at or before each minute
    (forward-filled, never back-filled), NaN before a contract's first print.
    """

    strikes: np.ndarray
    call: np.ndarray
    put: np.ndarray


@dataclass
class History:
    symbol: str
    sessions: list[SessionBars]
    source: str  # "store" | "synthetic"
    has_vix: bool = False
    notes: list[str] = field(default_factory=list)
    recorded: dict[date, RecordedChain] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [s.day for s in self.sessions]


def _close_moment_ns(day: date) -> int:
    from engine.options.expiry import expiry_moment

    return pd.Timestamp(expiry_moment(day)).value


def _session_bounds(day: date):
    from engine.options.expiry import session_bounds

    return session_bounds(day)


def split_sessions(frame: pd.DataFrame, vix: pd.DataFrame | None = None) -> list[SessionBars]:
    """Cut a minute frame (index = aware bar starts) into regular sessions of numpy arrays."""
    if frame.empty:
        return []
    idx = pd.DatetimeIndex(frame.index)
    if idx.tz is None:
        raise ValueError("minute bars need a timezone-aware index")
    frame = frame[~idx.duplicated()].sort_index()
    idx = pd.DatetimeIndex(frame.index).tz_convert(NY)
    ns = idx.as_unit("ns").asi8
    vix_close = None
    if vix is not None and not vix.empty:
        v = vix[~pd.DatetimeIndex(vix.index).duplicated()].sort_index()["close"]
        vix_close = v.reindex(pd.DatetimeIndex(frame.index)).to_numpy(dtype=float)
    days = idx.normalize()
    cols = {c: frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")}
    out: list[SessionBars] = []
    bounds = np.flatnonzero(np.r_[True, days[1:] != days[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        day = days[a].date()
        sb = _session_bounds(day)
        if sb is None:
            continue
        lo, hi = pd.Timestamp(sb[0]).value, pd.Timestamp(sb[1]).value
        sel = slice(a, b)
        keep = (ns[sel] >= lo) & (ns[sel] < hi)
        if not keep.any():
            continue
        start = ns[sel][keep]
        mtc = (_close_moment_ns(day) - (start + _NS_PER_MIN)) / _NS_PER_MIN
        out.append(SessionBars(day, start, *(cols[c][sel][keep] for c in ("open", "high", "low", "close", "volume")),
                               minutes_to_close=mtc.astype(float),
                               vix=None if vix_close is None else vix_close[sel][keep]))
    return out


def sessions_in(start: date, end: date) -> list[date]:
    """Exchange sessions in ``[start, end]`` (the market calendar)."""
    from engine.market.calendar import sessions_between

    return list(sessions_between(start, end)) if start <= end else []


def _no_data(symbol: str, start: date, end: date, where: str) -> NoData:
    return NoData(f"no {symbol} minute bars between {start} and {end} in {where}")


def load_store(settings, symbol: str, start: date, end: date) -> History:
    """Minute bars of ``symbol`` (and VIX when imported) from the bar store; NoData when empty."""
    from engine.market.bars import BarStore

    store = BarStore(settings)
    frame = store.minute_bars(symbol, start, end)
    if frame is None or frame.empty:
        raise _no_data(symbol, start, end, "the bar store (import with: smart0dte data import FILE --symbol "
                       f"{symbol})")
    vix = None
    if symbol.upper() != "VIX":
        try:
            vix = store.minute_bars("VIX", start - timedelta(days=7), end)
        except NoData:
            vix = None
    sessions = split_sessions(frame, vix if vix is not None and not vix.empty else None)
    if not sessions:
        raise _no_data(symbol, start, end, "regular sessions of the bar store")
    return History(symbol.upper(), sessions, "store", has_vix=vix is not None and not vix.empty,
                   recorded=load_recorded_options(store, symbol, sessions))


def _forward_filled(values: np.ndarray, stamps: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Last value at or before each of ``minutes`` (sorted int64 ns); NaN before the first."""
    pos = np.searchsorted(stamps, minutes, side="right") - 1
    return np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)


def load_recorded_options(store, underlying: str, sessions: list[SessionBars]) -> dict[date, RecordedChain]:
    """Same-day-expiry option minute bars in the store (OCC symbols, e.g. Polygon aggregates)."""
    from engine.core.errors import MalformedSymbol
    from engine.core.instruments import parse_occ

    by_day: dict[date, list[tuple[str, bool, float]]] = {}
    days = {s.day for s in sessions}
    for sym in store.symbols():
        try:
            c = parse_occ(sym)
        except MalformedSymbol:
            continue
        if c.root == underlying.upper() and c.expiry in days:
            by_day.setdefault(c.expiry, []).append((sym, c.right == "call", float(c.strike)))
    out: dict[date, RecordedChain] = {}
    for s in sessions:
        rows = by_day.get(s.day)
        if not rows:
            continue
        strikes = np.array(sorted({k for _, _, k in rows}))
        call = np.full((len(s), strikes.size), np.nan)
        put = np.full((len(s), strikes.size), np.nan)
        for sym, is_call, k in rows:
            f = store.minute_bars(sym, s.day, s.day)
            if f.empty:
                continue
            stamps = pd.DatetimeIndex(f.index).as_unit("ns").asi8
            col = _forward_filled(f["close"].to_numpy(dtype=float), stamps, s.start_ns)
            (call if is_call else put)[:, int(np.searchsorted(strikes, k))] = col
        out[s.day] = RecordedChain(strikes, call, put)
    return out


def _as_frame(obj) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    from engine.market.bars.aggregate import bars_to_frame

    return bars_to_frame(obj)


def load_synthetic(symbol: str, start: date, end: date, seed: int) -> History:
    """``n`` sessions of synthetic minute bars from the simulated market (plus its VIX)."""
    from engine.market.sim import synthetic_minute_bars

    days = sessions_in(start, end)
    if not days:
        raise NoData(f"no trading session between {start} and {end}")
    frame = _as_frame(synthetic_minute_bars(symbol.upper(), days[0], len(days), seed))
    vix = None
    if symbol.upper() != "VIX":
        vix = _as_frame(synthetic_minute_bars("VIX", days[0], len(days), seed))
    sessions = [s for s in split_sessions(frame, vix) if start <= s.day <= end]
    if not sessions:
        raise _no_data(symbol, start, end, "the synthetic generator")
    return History(symbol.upper(), sessions, "synthetic", has_vix=vix is not None)
