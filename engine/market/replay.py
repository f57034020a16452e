"""``ReplayFeed``: recorded market data played back on a simulated clock, behind the ``Feed`` protocol.

Sources (``SMART0DTE_REPLAY_PATH``: one file or a folder, searched recursively):

* **minute bars**, CSV (any layout :func:`read_minute_csv` accepts, e.g. ``eqker/SPY_1min.csv``;
  the symbol is the file name's first ``_`` part or its symbol column) or Parquet (our bar
  store's partitions, or any frame with a timestamp column and OHLCV). Files of other bar sizes
  (15-minute, daily) in a folder are skipped with a warning;
* **top-of-book recordings** (``pecuniary/dom_data_SPY_*.csv``): bid/ask/sizes/last trade, time
  zone found from the data (see ``recorded.top_of_book``);
* **chain downloads** (Cboe quote data, ``cboe-spy-chain/``): one snapshot per expiry, spot from
  put–call parity, never the page's stale header;
* **Polygon stream recordings** (``*.polygon.tsv``, written by ``PolygonFeed`` with
  ``SMART0DTE_POLYGON_RECORD=true``): the raw frames decoded again by the live parser;
* **Polygon option chain snapshots** (saved ``/v3/snapshot/options/{underlying}`` JSON bodies):
  decoded with the vendor client's own model, one snapshot per expiry, vendor IV and delta kept.

Playback: :meth:`events` merges every source into one time-ordered stream (a bar is emitted when
it closes, at ``start + 1 min``; a top-of-book row becomes a :class:`Quote`, and a :class:`Trade`
when the shown last trade changes) and moves the feed's :class:`SimClock` to each event's time.
``speed`` is simulated seconds per wall second (``SMART0DTE_REPLAY_SPEED``); ``0`` or ``inf``
plays as fast as the consumer reads. A quiet stretch longer than ``max_gap_s`` (a night, a
weekend, the jump between two files' dates) plays as if it were ``max_gap_s`` long. Snapshot calls (``quote``, ``chain``, ``history``) answer
as of the clock: no peeking at data recorded later. With no subscription, ``events`` yields
every symbol.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core.clock import NY, SimClock
from engine.core.errors import InvalidInput, NoData, UnknownSymbol
from engine.core.instruments import AssetKind, parse_symbol
from engine.core.marketdata import Bar, ChainSnapshot, MarketEvent, Quote, Trade
from engine.market.bars import BarAggregator, frame_to_bars, read_minute_csv, resample_frame
from engine.market.polygon.messages import FrameParser
from engine.market.polygon.recording import is_recording, read_recording
from engine.market.recorded import symbol_from_filename
from engine.market.recorded.cboe_chain import RecordedChains, looks_like_cboe_chain, read_cboe_chain
from engine.market.recorded.top_of_book import QuoteTape, looks_like_top_of_book, read_top_of_book

log = logging.getLogger("smart0dte.replay")
SOURCE = "replay"
_MINUTE = timedelta(minutes=1)


def _key(symbol: str) -> str:
    inst = parse_symbol(symbol, known_only=False)
    return inst.occ if inst.kind is AssetKind.OPTION else inst.symbol  # type: ignore[union-attr]


class ReplayFeed:
    """Replay of recorded files; ``ReplayFeed(settings)`` or ``ReplayFeed(paths=[...], speed=0)``.

    ``clock`` (a :class:`SimClock`) is created at the first recorded instant unless given;
    ``rate`` (parity spot of chain files) defaults to ``SMART0DTE_RISK_FREE_RATE``.
    """

    name = "replay"

    def __init__(self, settings=None, *, paths: Iterable[str | Path] | None = None, speed: float | None = None,
                 clock: SimClock | None = None, rate: float | None = None, tz: str = "auto",
                 max_gap_s: float = 60.0) -> None:
        if paths is None:
            if settings is None or settings.replay_path is None:
                raise InvalidInput("the replay feed needs SMART0DTE_REPLAY_PATH (a file or folder)",
                                   field="replay_path")
            paths = [settings.replay_path]
        self.speed = float(speed if speed is not None else (settings.replay_speed if settings else 0.0))
        self.max_gap_s = max_gap_s
        self.rate = rate if rate is not None else (settings.risk_free_rate if settings else 0.043)
        self.bars: dict[str, pd.DataFrame] = {}
        self.tapes: dict[str, QuoteTape] = {}
        self.chains: dict[str, RecordedChains] = {}
        self.stream: list[tuple[datetime, MarketEvent]] = []  # from Polygon recordings, time-ordered
        self._stream_quotes: dict[str, tuple[np.ndarray, list[Quote]]] = {}
        self.skipped: list[str] = []
        for p in paths:
            self._load_path(Path(p), tz)
        self._index_stream()
        if not (self.bars or self.tapes or self.chains or self.stream):
            raise NoData(f"no replayable files in {', '.join(str(p) for p in paths)}")
        self.clock = clock or SimClock(self.first_available())
        self.subscribed: set[str] = set()
        self.played = 0
        self._cursor: datetime | None = None  # instant of the last event played

    # --- loading ----------------------------------------------------------------------------------
    def _load_path(self, path: Path, tz: str) -> None:
        if not path.exists():
            raise InvalidInput(f"replay path {path} does not exist", field="replay_path")
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                if (f.suffix.lower() in (".csv", ".parquet", ".json") or is_recording(f)) and f.is_file():
                    try:
                        self._load_file(f, tz)
                    except (InvalidInput, ValueError, OSError) as err:
                        self.skipped.append(str(err) if f.name in str(err) else f"{f.name}: {err}")
                        log.info("replay: skipped %s: %s", f.name, err)
            return
        self._load_file(path, tz)

    def _load_file(self, f: Path, tz: str) -> None:
        if is_recording(f):
            parsers: dict[str, FrameParser] = {}
            for _, market, raw in read_recording(f):
                frame = parsers.setdefault(market, FrameParser(market)).parse(raw)
                self.stream.extend((_event_time(ev), ev) for ev in frame.events())
            return
        if f.suffix.lower() == ".json":
            rec = _polygon_chain_json(f)
            old = self.chains.get(rec.underlying)
            if old is not None:
                rec = RecordedChains(rec.underlying, max(rec.ts, old.ts), rec.spot, None, {**old.chains, **rec.chains})
            self.chains[rec.underlying] = rec
            return
        if f.suffix.lower() == ".parquet":
            sym, frame = _parquet_bars(f)
            self._add_bars(sym, frame)
            return
        with f.open(encoding="utf-8-sig", errors="replace") as fh:
            head = [fh.readline() for _ in range(6)]
        if any(looks_like_cboe_chain(h) for h in head):
            rec = read_cboe_chain(f, rate=self.rate)
            self.chains[rec.underlying] = rec
            return
        header = next((h for h in head if h.strip()), "")
        if looks_like_top_of_book(header):
            tape = read_top_of_book(f, tz=tz)
            self.tapes[tape.symbol] = tape
            return
        sym = symbol_from_filename(f)
        self._add_bars(_key(sym), read_minute_csv(f, sym))

    def _add_bars(self, sym: str, frame: pd.DataFrame) -> None:
        old = self.bars.get(sym)
        if old is not None:
            frame = pd.concat([old[~old.index.isin(frame.index)], frame]).sort_index()
        self.bars[sym] = frame

    def _index_stream(self) -> None:
        self.stream.sort(key=lambda pair: pair[0])
        by_sym: dict[str, list[Quote]] = {}
        for _, ev in self.stream:
            if isinstance(ev, Quote):
                by_sym.setdefault(ev.symbol, []).append(ev)
        self._stream_quotes = {s: (np.array([int(q.ts.timestamp() * 1e9) for q in qs], dtype=np.int64), qs)
                               for s, qs in by_sym.items()}

    def first_instant(self) -> datetime:
        starts = [f.index[0].to_pydatetime() for f in self.bars.values()]
        starts += [datetime.fromtimestamp(t.ts_ns[0] / 1e9, UTC) for t in self.tapes.values()]
        starts += [c.ts for c in self.chains.values()]
        starts += [self.stream[0][0]] if self.stream else []
        return min(starts).astimezone(NY)

    def first_available(self) -> datetime:
        """The first instant at which a quote exists: the first bar's close, tape row or chain stamp."""
        firsts = [f.index[0].to_pydatetime() + _MINUTE for f in self.bars.values()]
        firsts += [datetime.fromtimestamp(t.ts_ns[0] / 1e9, UTC) for t in self.tapes.values()]
        firsts += [c.ts for c in self.chains.values()]
        firsts += [self.stream[0][0]] if self.stream else []
        return min(firsts).astimezone(NY)

    def last_instant(self) -> datetime:
        ends = [f.index[-1].to_pydatetime() + _MINUTE for f in self.bars.values()]
        ends += [datetime.fromtimestamp(t.ts_ns[-1] / 1e9, UTC) for t in self.tapes.values()]
        ends += [c.ts for c in self.chains.values()]
        ends += [self.stream[-1][0]] if self.stream else []
        return max(ends).astimezone(NY)

    # --- Feed protocol ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def subscribe(self, symbols: Iterable[str]) -> None:
        self.subscribed |= {_key(s) for s in symbols}

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        self.subscribed -= {_key(s) for s in symbols}

    def timeline(self, after: datetime | None = None) -> Iterator[tuple[datetime, MarketEvent]]:
        """Every recorded event with its instant, time-ordered, strictly after ``after``."""
        lo = after or datetime.min.replace(tzinfo=UTC)
        streams = [self._bar_events(s, f, lo) for s, f in self.bars.items()]
        streams += [self._tape_events(t, lo) for t in self.tapes.values()]
        if self.stream:
            first = bisect.bisect_right([at for at, _ in self.stream], lo)
            streams.append(iter(self.stream[first:]))
        return heapq.merge(*streams, key=lambda pair: pair[0])

    async def events(self) -> AsyncIterator[MarketEvent]:  # type: ignore[override]
        """Play from where the last playback stopped (the beginning at first), or from the clock
        when someone moved it later than that."""
        wall0, sim0 = time.monotonic(), self.clock.now()
        fast = self.speed <= 0 or math.isinf(self.speed)
        after = self._cursor
        if after is None:
            after = None if sim0 <= self.first_available() else sim0
        elif sim0 > after:
            after = sim0
        prev = sim0
        for at, ev in self.timeline(after=after):
            if not fast:
                gap = (at - prev).total_seconds()
                if gap > self.max_gap_s:  # nights, weekends, jumps between files: not waited out
                    sim0 += timedelta(seconds=gap - self.max_gap_s)
                prev = at
                delay = wall0 + (at - sim0).total_seconds() / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
            self.clock.set(at)
            self._cursor = at
            self.played += 1
            if not self.subscribed or ev.symbol in self.subscribed:
                yield ev

    async def quote(self, symbol: str) -> Quote:
        key = _key(symbol)
        now = self.clock.now()
        found: list[Quote] = []
        problem: NoData | None = None
        for source, make in ((self.tapes, self._tape_quote), (self.bars, self._bar_quote),
                             (self._stream_quotes, self._stream_quote)):
            if key in source:
                try:
                    found.append(make(key, now))
                except NoData as err:
                    problem = problem or err
        if found:  # both a quote tape and bars: the more recent one as of the clock
            return max(found, key=lambda q: q.ts)
        if problem is not None:
            raise problem
        for rec in self.chains.values():
            if key == rec.underlying:
                return Quote(key, rec.spot, rec.spot, rec.ts, 0, 0, rec.spot, SOURCE, rec.ts.date())
            for snap in rec.chains.values():
                if key in snap.symbols:
                    i = snap.symbols.index(key)
                    last = None if math.isnan(snap.last[i]) else float(snap.last[i])
                    return Quote(key, float(snap.bid[i]), float(snap.ask[i]), snap.ts, int(snap.bid_size[i]),
                                 int(snap.ask_size[i]), last, SOURCE, snap.session)
        raise UnknownSymbol(f"{key} is not in the replayed files ({', '.join(self.symbols())})")

    async def expirations(self, underlying: str) -> list[date]:
        rec = self.chains.get(_key(underlying))
        return rec.expirations() if rec else []

    async def chain(self, underlying: str, expiry: date) -> ChainSnapshot:
        rec = self.chains.get(_key(underlying))
        if rec is None:
            raise NoData(f"no recorded {_key(underlying)} chain in the replay files")
        snap = rec.chains.get(expiry)
        if snap is None:
            listed = ", ".join(d.isoformat() for d in rec.expirations())
            raise NoData(f"no recorded {rec.underlying} chain for {expiry}; recorded expiries: {listed}")
        return snap

    async def history(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """Bars with ``start <= bar start < end`` that have closed by the replay clock."""
        key = _key(symbol)
        end = min(end, self.clock.now())
        in_stream = key in self._stream_quotes or any(ev.symbol == key for _, ev in self.stream)
        if key not in self.bars and key not in self.tapes and not in_stream:
            raise UnknownSymbol(f"{key} has no recorded bars or quotes")
        if key in self.bars:
            frame = self.bars[key]
            frame = frame[(frame.index >= start) & (frame.index + _MINUTE <= end)]
            if interval_s != 60:
                frame = resample_frame(frame, interval_s)
            if not frame.empty or (key not in self.tapes and not in_stream):
                return frame_to_bars(key, frame, interval_s)
        # bars built from recorded minute aggregates when there are any (their volume is complete),
        # else from the recorded quotes (mid) and trades
        if key in self.tapes:
            events = [ev for at, ev in self._tape_events(self.tapes[key], start) if at < end]
        else:
            events = [ev for at, ev in self.stream if ev.symbol == key and start < at < end]
        use_bars = interval_s >= 60 and any(isinstance(ev, Bar) and ev.interval_s <= interval_s for ev in events)
        agg = BarAggregator(interval_s)
        bars = agg.add_many(ev for ev in events if isinstance(ev, Bar) == use_bars
                            and (not use_bars or ev.interval_s <= interval_s))
        bars += agg.flush(before=end)
        return [b for b in bars if start <= b.start < end]

    # --- helpers ----------------------------------------------------------------------------------
    def symbols(self) -> list[str]:
        return sorted({*self.bars, *self.tapes, *self.chains, *self._stream_quotes})

    def _bar_events(self, sym: str, frame: pd.DataFrame, after: datetime) -> Iterator[tuple[datetime, Bar]]:
        ends = frame.index + _MINUTE
        first = int(np.searchsorted(ends, pd.Timestamp(after), side="right"))
        for bar, end in zip(frame_to_bars(sym, frame.iloc[first:]), ends[first:], strict=True):
            yield end.to_pydatetime(), bar

    def _tape_events(self, t: QuoteTape, after: datetime) -> Iterator[tuple[datetime, MarketEvent]]:
        first = int(np.searchsorted(t.ts_ns, int(after.timestamp() * 1e9), side="right"))
        prev_last = (t.last[first - 1], t.last_size[first - 1]) if first > 0 else (math.nan, 0)
        for i in range(first, len(t)):
            ts = datetime.fromtimestamp(t.ts_ns[i] / 1e9, UTC).astimezone(NY)
            lp, ls = t.last[i], t.last_size[i]
            if math.isfinite(lp) and (lp, ls) != prev_last:
                yield ts, Trade(t.symbol, float(lp), int(ls), ts, SOURCE)
            prev_last = (lp, ls)
            yield ts, self._row_quote(t, i, ts)

    @staticmethod
    def _row_quote(t: QuoteTape, i: int, ts: datetime) -> Quote:
        last = None if math.isnan(t.last[i]) else float(t.last[i])
        return Quote(t.symbol, float(t.bid[i]), float(t.ask[i]), ts, int(t.bid_size[i]), int(t.ask_size[i]),
                     last, SOURCE, ts.date())

    def _tape_quote(self, sym: str, now: datetime) -> Quote:
        t = self.tapes[sym]
        i = int(np.searchsorted(t.ts_ns, int(now.timestamp() * 1e9), side="right")) - 1
        if i < 0:
            first = datetime.fromtimestamp(t.ts_ns[0] / 1e9, NY)
            raise NoData(f"replay clock {now.astimezone(NY):%Y-%m-%d %H:%M:%S} ET is before the first "
                         f"{t.symbol} quote ({first:%Y-%m-%d %H:%M:%S} ET)")
        return self._row_quote(t, i, datetime.fromtimestamp(t.ts_ns[i] / 1e9, UTC).astimezone(NY))

    def _stream_quote(self, sym: str, now: datetime) -> Quote:
        stamps, quotes = self._stream_quotes[sym]
        i = int(np.searchsorted(stamps, int(now.timestamp() * 1e9), side="right")) - 1
        if i < 0:
            raise NoData(f"replay clock {now.astimezone(NY):%Y-%m-%d %H:%M:%S} ET is before the first recorded "
                         f"{sym} quote ({quotes[0].ts.astimezone(NY):%Y-%m-%d %H:%M:%S} ET)")
        return quotes[i]

    def _bar_quote(self, sym: str, now: datetime) -> Quote:
        frame = self.bars[sym]
        closed = int(np.searchsorted(frame.index + _MINUTE, pd.Timestamp(now), side="right")) - 1
        if closed < 0:
            first = (frame.index[0] + _MINUTE).to_pydatetime()
            raise NoData(f"replay clock {now.astimezone(NY):%Y-%m-%d %H:%M} ET is before the first {sym} bar "
                         f"(it closes {first:%Y-%m-%d %H:%M} ET)")
        row = frame.iloc[closed]
        ts = (frame.index[closed] + _MINUTE).to_pydatetime()
        c = float(row["close"])
        return Quote(sym, c, c, ts, 0, 0, c, SOURCE, ts.date())


def _event_time(ev: MarketEvent) -> datetime:
    """When an event becomes known: a quote or trade at its stamp, a bar when it closes."""
    if isinstance(ev, Bar):
        return ev.start + timedelta(seconds=ev.interval_s)
    return ev.ts


def _polygon_chain_json(f: Path) -> RecordedChains:
    """A saved Polygon options chain snapshot body → :class:`RecordedChains` (one per expiry)."""
    import json

    from massive.rest.models import OptionContractSnapshot

    from engine.core.instruments import parse_occ
    from engine.market.polygon.rest import chain_from_snapshots

    try:
        body = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InvalidInput(f"{f.name}: not JSON ({err})") from None
    results = body.get("results") if isinstance(body, dict) else None
    if isinstance(results, dict):
        results = [results]
    if not results or not all(isinstance(r, dict) and "details" in r for r in results):
        raise InvalidInput(f"{f.name}: not a Polygon option chain snapshot")
    snaps = [OptionContractSnapshot.from_dict(r) for r in results]
    by_expiry: dict[date, list] = {}
    underlying = ""
    for snap in snaps:
        c = parse_occ(snap.details.ticker)
        underlying = underlying or c.underlying
        by_expiry.setdefault(c.expiry, []).append(snap)
    # labelled "replay": these quotes come from a file, not from the live vendor
    chains = {e: replace(chain_from_snapshots(underlying, e, group), source=SOURCE) for e, group in by_expiry.items()}
    first = chains[min(chains)]
    return RecordedChains(underlying, max(c.ts for c in chains.values()), first.spot, None, chains)


def _parquet_bars(f: Path) -> tuple[str, pd.DataFrame]:
    """A Parquet file of minute bars → (symbol, frame indexed by aware NY start)."""
    df = pd.read_parquet(f)
    sym = next((part.split("=", 1)[1] for part in f.parts if part.startswith("symbol=")), None)
    if sym is None and "symbol" in df.columns:
        sym = str(df["symbol"].iloc[0])
    sym = _key(sym or symbol_from_filename(f))
    tcol = next((c for c in ("ts", "start", "datetime", "timestamp", "time") if c in df.columns), None)
    if tcol is None:
        raise InvalidInput(f"{f.name}: no timestamp column")
    idx = pd.DatetimeIndex(pd.to_datetime(df[tcol]))
    idx = idx.tz_localize(NY) if idx.tz is None else idx.tz_convert(NY)
    frame = pd.DataFrame({c: df[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close")}, index=idx)
    frame["volume"] = df["volume"].to_numpy(dtype=np.int64) if "volume" in df else 0
    return sym, frame.sort_index()
