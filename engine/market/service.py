"""``MarketService``: the market part's one facade (quotes, chains, expiries, summaries, bars).

Built from settings by :class:`engine.runtime.Engine`. It owns the feed (simulated by default;
replay or Polygon/Massive by ``SMART0DTE_FEED``), the feed's clock, the trading hours table and
the latest-quote cache, which every quote handed out is written to.

Expiry rules: ``"0dte"`` means the expiry listed for the current session — read from the
feed's listed expirations, never from weekday rules. VIX has no same-day expiry (its options are
AM-settled on Wednesdays and stop trading the day before), so asking for a VIX 0DTE chain is an
:class:`~engine.core.errors.InvalidInput` that says so and names the next expiry.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np

from engine.core.clock import NY, Clock
from engine.core.errors import InvalidInput, NoData, UnknownSymbol
from engine.core.instruments import OptionContract, parse_symbol
from engine.core.marketdata import Bar, Quote
from engine.market import calendar
from engine.market.clock_factory import build_clock
from engine.market.hours import TradingHours
from engine.market.summary import MarketSummary, from_bars, realized_vol

log = logging.getLogger(__name__)

#: Continuous dividend yields used to value chains of feeds that do not send a carry.
DIVIDEND_YIELDS = {"SPY": 0.012, "QQQ": 0.006, "IWM": 0.011}
SUMMARY_IV_DAYS = 30


class MarketService:
    """Market data for the rest of the engine. ``MarketService(settings)``; tests may inject
    ``feed``, ``clock`` or ``cache``."""

    def __init__(self, settings=None, *, feed=None, clock: Clock | None = None, cache=None) -> None:
        if settings is None:
            from engine.settings import get_settings

            settings = get_settings()
        self.settings = settings
        self.hours = TradingHours(settings.product_hours)
        self.feed = feed if feed is not None else self._build_feed(clock)
        self.clock: Clock = clock or getattr(self.feed, "clock", None) or build_clock(settings)
        if cache is not None:
            self.__dict__["cache"] = cache

    # --- construction ------------------------------------------------------------------------
    def _build_feed(self, clock: Clock | None):
        """The feed named by ``SMART0DTE_FEED``; the simulator runs on :func:`build_clock`, the
        replay feed on its own simulated clock, Polygon on wall time (unless a clock is given)."""
        s = self.settings
        if s.feed == "sim":
            from engine.market.sim import SimFeed, SimMarket
            from engine.market.sim.params import params_for

            market = SimMarket(s.sim_seed, params_for(s.sim_correlation), self.hours)
            return SimFeed(market, clock or build_clock(s))
        if s.feed == "replay":
            from engine.market.replay import ReplayFeed

            return ReplayFeed(s, clock=clock) if clock is not None else ReplayFeed(s)
        from engine.market.polygon import PolygonFeed

        return PolygonFeed(s, clock=clock)

    @cached_property
    def cache(self):
        """The latest-quote cache (Redis when ``SMART0DTE_REDIS_URL`` is set)."""
        from engine.market.cache import build_cache

        return build_cache(self.settings, self.clock)

    @property
    def sim(self):
        """The :class:`~engine.market.sim.SimMarket` behind a simulated feed, else None."""
        return getattr(self.feed, "market", None) if getattr(self.feed, "name", "") == "sim" else None

    def now(self) -> datetime:
        return self.clock.now().astimezone(NY)

    def session(self) -> date:
        """The session the feed's current instant shows."""
        return calendar.session_of(self.now())

    # --- quotes ------------------------------------------------------------------------------
    async def quote(self, symbol: str) -> Quote:
        """Latest quote of an underlying or OCC option symbol (also written to the cache)."""
        q = await self.feed.quote(_normalize_symbol(symbol))
        self._remember([q])
        return q

    async def quotes(self, symbols: list[str]) -> list[Quote]:
        out = [await self.feed.quote(_normalize_symbol(s)) for s in symbols]
        self._remember(out)
        return out

    def _remember(self, quotes: list[Quote]) -> None:
        try:
            self.cache.put_many(quotes)
        except Exception as err:  # a cache outage must not hide the quote itself
            log.warning("quote cache write failed: %s", err)

    async def previous_close(self, symbol: str, session: date | None = None) -> float | None:
        """Close of ``symbol`` on the session before ``session`` (default: the current one)."""
        sym = _underlying(symbol)
        prev = calendar.previous_session(session or self.session())
        sim = self.sim
        if sim is not None:
            return sim.close(sym, prev)
        bars = await self.bars(sym, calendar.session_open(prev), calendar.session_close(prev))
        return bars[-1].close if bars else None

    # --- options -----------------------------------------------------------------------------
    async def expirations(self, underlying: str) -> list[date]:
        return await self.feed.expirations(_underlying(underlying))

    async def resolve_expiry(self, underlying: str, expiry: str | date) -> date:
        """``"0dte"`` → the expiry listed for today's session; a date or ``YYYY-MM-DD`` → itself."""
        u = _underlying(underlying)
        if isinstance(expiry, str) and expiry.strip().lower() in ("0dte", "today"):
            listed = await self.feed.expirations(u)
            today = self.session()
            if today in listed:
                return today
            raise InvalidInput(self._no_same_day(u, today, listed), field="expiry")
        return calendar.parse_day(expiry, field="expiry")

    def _no_same_day(self, u: str, today: date, listed: list[date]) -> str:
        nxt = f"next {u} expiry: {listed[0].isoformat()}" if listed else f"no {u} expiry is listed"
        sim = self.sim
        if u == "VIX":
            if sim is not None and sim.was_listed(u, today, today):
                return (f"VIX has no 0DTE contract: the VIX options expiring {today.isoformat()} are "
                        f"AM-settled — they stopped trading yesterday and settled at today's open; {nxt}")
            if listed and listed[0] == calendar.next_session(today):
                return (f"VIX has no 0DTE contract: the VIX options expiring {listed[0].isoformat()} trade for "
                        f"the last time today and settle at tomorrow's open (AM-settled); ask for that date")
            return (f"VIX has no expiry on {today.isoformat()}: VIX options are AM-settled and expire on "
                    f"Wednesdays, so there is no same-day VIX contract; {nxt}")
        return f"{u} has no expiry listed for {today.isoformat()}; {nxt}"

    async def chain(self, underlying: str, expiry: str | date = "0dte"):
        """An :class:`engine.options.chain.Chain` (IV and Greeks computed locally) at the feed's now."""
        from engine.options.chain import Chain

        u = _underlying(underlying)
        e = await self.resolve_expiry(u, expiry)
        rate = self.settings.risk_free_rate
        sim = self.sim
        if sim is not None:
            sc = sim.chain(u, e, self.now())
            return Chain.from_snapshot(sc.snapshot, sc.snapshot.ts, rate, sc.div_yield)
        snap = await self.feed.chain(u, e)
        return Chain.from_snapshot(snap, snap.ts, rate, _carry(snap, rate))

    # --- history and summaries ---------------------------------------------------------------
    async def bars(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """Bars of ``symbol`` starting in ``[start, end)`` (aware datetimes)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("bars: start and end must be timezone-aware", field="start")
        return await self.feed.history(_underlying(symbol), start, end, interval_s)

    async def summary(self, symbol: str, day: date | str | None = None) -> MarketSummary:
        """Range, realized vol, ATM IV change and VIX of ``symbol`` in session ``day`` (default: the
        current one, up to now)."""
        sym = _underlying(symbol)
        now = self.now()
        current = calendar.session_of(now)
        d = current if day is None else calendar.parse_day(day, field="date")
        if d > current:
            raise InvalidInput(f"{d.isoformat()} is after the current session {current.isoformat()}", field="date")
        if not calendar.is_session(d):
            raise InvalidInput(f"{d.isoformat()} is not a trading session (weekend or holiday); the session "
                               f"before it was {calendar.previous_session(d).isoformat()}", field="date")
        end = min(now, calendar.session_close(d)) if d == current else calendar.session_close(d)
        day_bars = [b for b in await self.bars(sym, calendar.session_open(d), end)
                    if b.start + timedelta(seconds=b.interval_s) <= end]
        if not day_bars:
            raise NoData(f"no {sym} bars yet for {d.isoformat()} (as of {end.isoformat()})")
        prev = calendar.previous_session(d)
        prev_bars = await self.bars(sym, calendar.session_open(prev), calendar.session_close(prev))
        vix_now = await self.bars("VIX", calendar.session_open(d), end) if sym != "VIX" else day_bars
        vix_prev = await self.bars("VIX", calendar.session_open(prev), calendar.session_close(prev)) \
            if sym != "VIX" else prev_bars
        iv, iv_prev = self._atm_iv(sym, end), self._atm_iv(sym, calendar.session_close(prev))
        return from_bars(
            sym, d, day_bars, prev_bars[-1].close if prev_bars else None,
            vix=vix_now[-1].close if vix_now else None, vix_prev=vix_prev[-1].close if vix_prev else None,
            atm_iv=iv, atm_iv_prev=iv_prev, partial=end < calendar.session_close(d), as_of=end.isoformat(),
            realized_vol_prev=realized_vol(np.array([b.close for b in prev_bars])) if prev_bars else None,
            source=getattr(self.feed, "name", "sim"))

    def _atm_iv(self, underlying: str, ts: datetime) -> float | None:
        """ATM implied vol of the expiry nearest 30 days out at ``ts`` (simulator only)."""
        sim = self.sim
        if sim is None:
            return None
        from engine.options.chain import Chain

        exps = sim.expirations(underlying, ts)
        if not exps:
            return None
        target = calendar.session_of(ts) + timedelta(days=SUMMARY_IV_DAYS)
        e = min(exps, key=lambda x: abs((x - target).days))
        sc = sim.chain(underlying, e, ts)
        ch = Chain.from_snapshot(sc.snapshot, sc.snapshot.ts, self.settings.risk_free_rate, sc.div_yield)
        k = ch.atm_strike()
        ivs = [ch.calls.iv[ch.by_strike("call", k)], ch.puts.iv[ch.by_strike("put", k)]]
        ivs = [float(v) for v in ivs if np.isfinite(v)]
        return float(np.mean(ivs)) if ivs else None

    async def pump_quotes(self, symbols: list[str], *, batch: int = 256, flush_s: float = 0.05) -> None:
        """Start the feed and copy every streamed quote into the cache until cancelled.

        This is what makes the Redis cache useful across processes: one process runs the feed,
        every other one reads the latest quotes (and their staleness) from Redis.
        """
        await self.feed.subscribe([_normalize_symbol(s) for s in symbols])
        await self.feed.start()
        pending: list[Quote] = []
        last_flush = time.monotonic()
        try:
            async for ev in self.feed.events():
                if not isinstance(ev, Quote):
                    continue
                pending.append(ev)
                if len(pending) >= batch or time.monotonic() - last_flush >= flush_s:
                    self._remember(pending)
                    pending, last_flush = [], time.monotonic()
        finally:
            if pending:
                self._remember(pending)

    async def close(self) -> None:
        stop = getattr(self.feed, "stop", None)
        if stop is not None:
            await stop()
        cache = self.__dict__.get("cache")
        if cache is not None:
            cache.close()


def _normalize_symbol(symbol: str) -> str:
    return str(parse_symbol(symbol))


def _underlying(symbol: str) -> str:
    inst = parse_symbol(symbol)
    if isinstance(inst, OptionContract):
        raise InvalidInput(f"{symbol} is an option; give its underlying (SPY, QQQ, IWM or VIX)", field="underlying")
    if inst.symbol not in ("SPY", "QQQ", "IWM", "VIX"):
        raise UnknownSymbol(f"no market data for {symbol!r}: the product covers SPY, QQQ, IWM and VIX")
    return inst.symbol


def _carry(snapshot, rate: float) -> float:
    """Dividend yield for a vendor chain: a table for ETFs; for VIX the carry implied by put–call
    parity at the strike nearest the money (its options price off the VIX future, not spot)."""
    if snapshot.underlying != "VIX":
        return DIVIDEND_YIELDS.get(snapshot.underlying, 0.0)
    from engine.options.expiry import time_to_expiry

    T = time_to_expiry(snapshot.ts, snapshot.expiry, "am")
    mid = (np.asarray(snapshot.bid) + np.asarray(snapshot.ask)) / 2.0
    calls = {float(k): m for k, m, c in zip(snapshot.strikes, mid, snapshot.is_call, strict=True) if c}
    puts = {float(k): m for k, m, c in zip(snapshot.strikes, mid, snapshot.is_call, strict=True) if not c}
    common = sorted(set(calls) & set(puts), key=lambda k: abs(calls[k] - puts[k]))
    if T <= 0 or not common or snapshot.spot <= 0:
        return rate
    k = common[0]
    fwd = k + np.exp(rate * T) * (calls[k] - puts[k])
    return float(rate - np.log(max(fwd, 1e-6) / snapshot.spot) / T)
