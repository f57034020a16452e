"""``PolygonFeed``: the real-time market through Polygon/Massive, behind the ``Feed`` protocol.

* REST (``PolygonRest``): last quote/trade, option expirations and chain snapshots with the
  vendor's IV and delta, minute aggregates. On :meth:`start` a 30-day warm-up loads minute bars
  of the product's underlyings (and any other subscribed stock or index) into the bar store,
  fetching only the days it lacks, so indicators and signals have history at once; then the
  bar retention is applied.
* WebSocket (``StreamConnection``, one per market, opened on first need): stock quotes, trades
  and minute aggregates (``Q``, ``T``, ``AM``), option quotes and minute aggregates of
  subscribed contracts (``Q``, ``AM``),
  index values (``V``, e.g. ``I:VIX``). Reconnects with backoff and jitter, resubscribes,
  detects stale streams, counts and skips malformed messages (see ``stream.py``).
* Recording: streamed minute aggregates go to the bar store's 1-minute partitions, and trades are
  aggregated into 1-second bars (``BarAggregator``) for the 1-second partitions, both written in
  small batches by a background thread (the event loop never waits on Parquet I/O). ``history`` answers from the store for complete past sessions it holds (the
  warm-up makes that the common case) and asks REST otherwise.
* Every streamed quote also goes to the latest-quote cache when one is given (``cache=``, the
  market service's in-process or Redis cache), in one ``put_many`` per frame.

Settings: ``SMART0DTE_POLYGON_API_KEY`` (required; never logged), ``SMART0DTE_POLYGON_BASE_URL``
(REST), ``SMART0DTE_POLYGON_WS_URL`` (WebSocket base; unset = the vendor's real-time host).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from engine.core.clock import NY, Clock, LiveClock
from engine.core.errors import AuthError, FeedError
from engine.core.instruments import PRODUCT_UNDERLYINGS, looks_like_option
from engine.core.marketdata import Bar, ChainSnapshot, MarketEvent, Quote
from engine.market.bars import BarAggregator
from engine.market.polygon.messages import Frame, vendor_topic
from engine.market.polygon.recording import SUFFIX, StreamRecorder
from engine.market.polygon.rest import PolygonRest
from engine.market.polygon.stream import Backoff, StreamConnection

log = logging.getLogger("smart0dte.polygon")

WARMUP_DAYS = 30
# option minute aggregates are streamed too: recorded in the bar store, they let the backtester
# replay real 0DTE option prices (engine.backtest reads OCC symbols' minute bars)
_TOPICS = {"stocks": ("Q", "T", "AM"), "options": ("Q", "AM"), "indices": ("V",)}
_QUIET_FACTOR = {"options": 4}
MAX_OPTION_CONTRACTS = 1000
EXPIRIES_TTL_S = 300.0


class PolygonFeed:
    """Polygon/Massive feed. ``PolygonFeed(settings)``; see the module docstring.

    Optional collaborators (tests and the service pass them): ``rest`` (a :class:`PolygonRest`),
    ``bar_store`` (a ``BarStore``; default: the one under ``SMART0DTE_HOME``; ``False`` = none),
    ``clock``, ``cache`` (a latest-quote cache with ``put_many``); ``stale_after`` (seconds of
    silence that make a stream stale while the market is open; the options stream gets four
    times as long, a thin contract can be quiet), ``backoff`` and ``expect_data`` tune the streams;
    ``warmup_symbols`` are warmed up on start (default: the product's underlyings plus the
    stock/index symbols subscribed by then). ``queue_size`` bounds the event queue: when a
    consumer falls that far behind, the oldest events are dropped and counted in
    ``stats()["dropped"]``. ``record_to`` (or ``SMART0DTE_POLYGON_RECORD=true``: a file under
    ``HOME/recordings``) records every raw frame for the replay feed (``recording.py``).
    """

    name = "polygon"

    def __init__(self, settings, *, rest: PolygonRest | None = None, bar_store=None, clock: Clock | None = None,
                 cache=None, stale_after: float = 15.0, backoff: Backoff | None = None, expect_data=None,
                 warmup_days: int = WARMUP_DAYS, warmup_symbols: Iterable[str] | None = None,
                 queue_size: int = 100_000, record_to: str | Path | None = None) -> None:
        if settings.polygon_api_key is None:
            raise AuthError("the Polygon feed needs SMART0DTE_POLYGON_API_KEY")
        self._key = settings.polygon_api_key.get_secret_value()
        self.rest = rest or PolygonRest(self._key, settings.polygon_base_url)
        self.ws_url = settings.polygon_ws_url
        if bar_store is None:
            from engine.market.bars import BarStore

            bar_store = BarStore(settings)
        self.bar_store = bar_store or None
        self.clock = clock or LiveClock()
        self.cache = cache
        self._seconds = BarAggregator("1s")
        self.stale_after = stale_after
        self._backoff = backoff
        self._expect_data = expect_data
        self.warmup_days = warmup_days
        self.warmup_symbols = list(warmup_symbols) if warmup_symbols is not None else None
        self.symbols: set[str] = set()
        self.latest: dict[str, Quote] = {}
        self._streams: dict[str, StreamConnection] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._queue: asyncio.Queue[MarketEvent] = asyncio.Queue(maxsize=queue_size)
        self._pending_bars: list[Bar] = []
        self._pending_seconds: list[Bar] = []
        self._writes: set[asyncio.Task] = set()
        self._write_lock = asyncio.Lock()
        self._expiries: dict[tuple[str, date], tuple[float, tuple[date, ...]]] = {}
        self.dropped = 0
        self.warmed: dict[str, int] = {}
        self.started = False
        if record_to is None and getattr(settings, "polygon_record", False):
            record_to = Path(settings.home) / "recordings" / f"polygon-{datetime.now(UTC):%Y%m%dT%H%M%S}{SUFFIX}"
        self.recorder = StreamRecorder(record_to) if record_to is not None else None

    # --- Feed protocol ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    async def start(self) -> None:
        """Warm up minute bars (REST), apply the bar retention, then open the subscribed streams.

        Raises :class:`AuthError` at once when the key is refused.
        """
        if self.started:
            return
        await self._warm_up()
        if self.bar_store is not None:  # keep recorded history within SMART0DTE_BAR_RETENTION_DAYS
            today = self.now().astimezone(NY).date()
            pruned = await asyncio.to_thread(self.bar_store.prune, today)
            if pruned:
                log.info("pruned %d day partition(s) past the bar retention", pruned)
        self.started = True
        await self.subscribe(sorted(self.symbols))  # opens the streams (again, after a stop)

    async def stop(self) -> None:
        self.started = False
        for conn in self._streams.values():
            await conn.stop()
        for task in self._tasks.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._streams.clear()
        self._tasks.clear()
        self._flush_bars(final=True)
        if self._writes:  # everything recorded is on disk when stop() returns
            await asyncio.gather(*self._writes, return_exceptions=True)
        if self.recorder is not None:
            self.recorder.close()

    async def subscribe(self, symbols: Iterable[str]) -> None:
        """Stream ``symbols`` (tickers, ``VIX``/``I:VIX``, OCC options). Polygon serves at most
        1,000 option contracts per connection: more raises :class:`FeedError`, nothing changed."""
        by_market: dict[str, list[str]] = {}
        wanted = [vendor_topic(s) for s in symbols]
        options = {_ours(t) for m, t in wanted if m == "options"} | {s for s in self.symbols if looks_like_option(s)}
        if len(options) > MAX_OPTION_CONTRACTS:
            raise FeedError(f"Polygon streams at most {MAX_OPTION_CONTRACTS} option contracts per connection; "
                            f"this would make {len(options)}")
        for market, ticker in wanted:
            self.symbols.add(_ours(ticker))
            by_market.setdefault(market, []).extend(f"{ev}.{ticker}" for ev in _TOPICS[market])
        for market, topics in by_market.items():
            conn = self._ensure_stream(market) if self.started else self._streams.get(market)
            if conn is None:
                conn = self._new_stream(market)
            conn.subscribe(topics)

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        for s in symbols:
            market, ticker = vendor_topic(s)
            self.symbols.discard(_ours(ticker))
            conn = self._streams.get(market)
            if conn is not None:
                conn.unsubscribe(f"{ev}.{ticker}" for ev in _TOPICS[market])

    async def events(self) -> AsyncIterator[MarketEvent]:  # type: ignore[override]
        """Subscribed quotes, trades and minute bars as they arrive.

        Raises :class:`AuthError` if a stream's key is refused, :class:`FeedError` if a stream
        task died otherwise.
        """
        while True:
            self._raise_stream_failure()
            try:
                ev = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            yield ev

    async def quote(self, symbol: str) -> Quote:
        """Latest quote: the streamed one while its stream is live, else the REST snapshot.

        Polygon sends a quote only when it changes, so an old streamed quote of a subscribed
        symbol on a healthy (connected, not stale) stream is still the current one; without
        a live stream only a quote younger than ``stale_after`` is trusted.
        """
        market, ticker = vendor_topic(symbol)
        q = self.latest.get(_ours(ticker))
        if q is not None:
            conn = self._streams.get(market)
            live = conn is not None and conn.connected and not conn.stale and _ours(ticker) in self.symbols
            if live or not self.is_stale(q):
                return q
        return await self.rest.quote(symbol)

    async def expirations(self, underlying: str) -> list[date]:
        """Listed expiries from today on; cached for ``EXPIRIES_TTL_S`` (listing SPY pages
        through thousands of contract records, and listings change once a day)."""
        today = self.now().astimezone(NY).date()
        key = (vendor_topic(underlying)[1], today)
        hit = self._expiries.get(key)
        if hit is not None and time.monotonic() - hit[0] < EXPIRIES_TTL_S:
            return list(hit[1])
        days = await self.rest.expirations(underlying, today)
        self._expiries[key] = (time.monotonic(), tuple(days))
        return days

    async def chain(self, underlying: str, expiry: date) -> ChainSnapshot:
        return await self.rest.chain(underlying, expiry)

    async def history(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """Bars in ``[start, end)``: from the bar store when it holds every session of the range
        and the range ended before today, else from REST. Sub-minute bars exist only as recorded
        from the stream (the store's 1-second partitions, aggregated)."""
        if interval_s < 60:
            if self.bar_store is None:
                raise FeedError("sub-minute bars come from the recorded stream, and no bar store is set")
            return await asyncio.to_thread(self.bar_store.bars, symbol, start, end, interval_s)
        if self.bar_store is not None and interval_s % 60 == 0 and self._store_covers(symbol, start, end):
            return await asyncio.to_thread(self.bar_store.bars, symbol, start, end, interval_s)
        return await self.rest.bars(symbol, start, end, interval_s)

    def _store_covers(self, symbol: str, start: datetime, end: datetime) -> bool:
        from engine.market.calendar import sessions_between

        today = self.now().astimezone(NY).date()
        last_day = (end - timedelta(microseconds=1)).astimezone(NY).date()
        if last_day >= today:
            return False
        need = sessions_between(start.astimezone(NY).date(), last_day)
        have = set(self.bar_store.days(symbol))
        return bool(need) and all(d in have for d in need)

    # --- health -----------------------------------------------------------------------------------
    def is_stale(self, q: Quote, max_age: float | None = None) -> bool:
        age = (self.now() - q.ts).total_seconds()
        return age > (max_age if max_age is not None else self.stale_after)

    def stats(self) -> dict:
        """Counters per stream (connects, disconnects, stale, malformed…) and queue drops."""
        out: dict = {"dropped": self.dropped, "warmed": dict(self.warmed), "streams": {}}
        for market, c in self._streams.items():
            p = c.parser.stats
            out["streams"][market] = {
                "connected": c.connected, "connects": c.connects, "disconnects": c.disconnects,
                "stale": c.stale, "stale_events": c.stale_events, "topics": sorted(c.topics),
                "frames": p.frames, "quotes": p.quotes, "trades": p.trades, "bars": p.bars,
                "values": p.values, "malformed": p.malformed, "handler_errors": c.handler_errors,
                "error": c.error.message if c.error else None}
        return out

    # --- internals --------------------------------------------------------------------------------
    def _new_stream(self, market: str) -> StreamConnection:
        conn = StreamConnection(market, self._key, self._on_frame, ws_url=self.ws_url,
                                stale_after=self.stale_after * _QUIET_FACTOR.get(market, 1),
                                backoff=Backoff() if self._backoff is None else  # one state per stream
                                Backoff(self._backoff.base, self._backoff.max_delay, rng=self._backoff.rng),
                                expect_data=self._expect_data,
                                on_raw=self.recorder.write if self.recorder is not None else None)
        self._streams[market] = conn
        return conn

    def _ensure_stream(self, market: str) -> StreamConnection:
        conn = self._streams.get(market) or self._new_stream(market)
        task = self._tasks.get(market)
        if task is None or task.done():
            self._tasks[market] = asyncio.create_task(conn.run(), name=f"polygon-{market}")
        return conn

    def _raise_stream_failure(self) -> None:
        for market, task in self._tasks.items():
            if task.done() and not task.cancelled():
                err = task.exception()
                if isinstance(err, AuthError):
                    raise err
                if err is not None:
                    raise FeedError(f"Polygon {market} stream stopped: {type(err).__name__}: {err}")

    def _on_frame(self, frame: Frame) -> None:
        if frame.quotes:
            self.latest.update(frame.quotes)
            if self.cache is not None:
                try:
                    self.cache.put_many(frame.quotes.values())
                except Exception as err:  # noqa: BLE001 - a cache outage must not stop the stream
                    log.warning("quote cache write failed: %s", err)
        events = frame.events()
        if frame.bars:
            self._pending_bars.extend(b for b in frame.bars if b.interval_s == 60)
        for t in frame.trades:
            self._pending_seconds.extend(self._seconds.add(t))
        if len(self._pending_bars) >= 50 or len(self._pending_seconds) >= 500:
            self._flush_bars()
        for ev in events:
            if self._queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                self.dropped += 1
            self._queue.put_nowait(ev)

    def _flush_bars(self, final: bool = False) -> asyncio.Task | None:
        """Hand the pending bars to a background write (Parquet I/O stays off the event loop;
        one write at a time, in order). Returns the write task, if any."""
        if final:
            self._pending_seconds.extend(self._seconds.flush())
        batch = [(60, self._pending_bars), (1, self._pending_seconds)]
        self._pending_bars, self._pending_seconds = [], []
        if self.bar_store is None or not any(bars for _, bars in batch):
            return None
        task = asyncio.get_running_loop().create_task(self._write_bars(batch))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return task

    async def _write_bars(self, batch: list[tuple[int, list[Bar]]]) -> None:
        async with self._write_lock:
            for interval_s, bars in batch:
                if not bars:
                    continue
                try:
                    await asyncio.to_thread(self.bar_store.write_bars, bars, interval_s=interval_s)
                except Exception as err:  # noqa: BLE001 - recording must never stop the stream
                    log.warning("could not store %d streamed %d s bars: %s", len(bars), interval_s, err)

    async def _warm_up(self) -> None:
        """Minute bars of the last ``warmup_days`` into the bar store, fetching only what is missing.

        Symbols: ``warmup_symbols`` if given, else the product's underlyings plus every subscribed
        stock/index. A symbol that fails (entitlement, no data) is logged and skipped; a refused
        key raises :class:`AuthError`.
        """
        if self.warmup_symbols is not None:
            symbols = list(self.warmup_symbols)
        else:
            symbols = sorted(set(PRODUCT_UNDERLYINGS) | {s for s in self.symbols if vendor_topic(s)[0] != "options"})
        if not symbols or self.warmup_days <= 0:
            return
        end = self.now().astimezone(UTC)
        results = await asyncio.gather(*(self._warm_one(s, end) for s in symbols), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _warm_one(self, sym: str, end: datetime) -> None:
        start = end - timedelta(days=self.warmup_days)
        if self.bar_store is not None:
            today = end.astimezone(NY).date()
            stored = [d for d in self.bar_store.days(sym) if d < today]
            if stored and stored[-1] >= start.astimezone(NY).date():
                # resume at the last stored day: refetched whole, as the stream may have left it partial
                last = stored[-1]
                start = datetime(last.year, last.month, last.day, tzinfo=NY).astimezone(UTC)
        try:
            bars = await self.rest.bars(sym, start, end, 60)
        except AuthError:
            raise
        except Exception as err:  # noqa: BLE001 - a missing history must not stop the live feed
            log.warning("warm-up of %s failed: %s", sym, err)
            self.warmed[sym] = 0
            return
        self.warmed[sym] = len(bars)
        if bars and self.bar_store is not None:
            await asyncio.to_thread(self.bar_store.write_bars, bars)


def _ours(ticker: str) -> str:
    return ticker[2:] if ticker[1:2] == ":" else ticker
