"""``SignalService``: the signal generators on the live (or simulated) feed.

``SignalService(settings, market=).current(underlying | None) -> list[Signal]`` reads, through the
market service, the current session's minute bars up to now (never later: bars are cut at the
clock's now), the previous session (baselines), VIX, and the current chain, and runs the pure
generators of :mod:`engine.signals.indicators`:

- per underlying (SPY, QQQ, IWM): opening-range breakout, VWAP deviation, momentum, IV − RV
  spread (the 0DTE chain's ATM IV, converted to trading-time vol, against today's realized vol),
  market IV rank (VIX against its last ``iv_rank_sessions`` session closes);
- once: VIX regime, SPY/QQQ/IWM correlation and its breakdown.

``watch()`` polls on the feed's clock and yields the signals whose direction changed (the live
loop's entry point). ``correlation_matrix(window)`` answers the four tickers' rolling correlation of minute returns.
A generator without enough data yet (e.g. the opening range before 10:00) yields no signal.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np

from engine.core.clock import NY
from engine.core.errors import Smart0DTEError, UnknownSymbol
from engine.signals import indicators as ind
from engine.signals.types import Signal

log = logging.getLogger(__name__)

UNDERLYINGS = ("SPY", "QQQ", "IWM")
TICKERS = ("SPY", "QQQ", "IWM", "VIX")
SESSION_SECONDS = 23_400  # one bar per regular session


class SignalService:
    def __init__(self, settings, market=None, *, iv_rank_sessions: int = 120) -> None:
        self.settings = settings
        self.market = market
        self.iv_rank_sessions = iv_rank_sessions

    # --- data (all cut at now) ----------------------------------------------------------------
    def _now(self) -> datetime:
        return self.market.clock.now()

    def _session(self, now: datetime):
        from engine.market import calendar

        day = calendar.session_of(now)
        open_ = calendar.session_open(day)
        if now < open_:  # before the bell: the previous session is the latest one
            day = calendar.previous_session(day)
            open_ = calendar.session_open(day)
        return day, open_, min(now, calendar.session_close(day)).astimezone(NY)

    async def _arrays(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> dict:
        bars = [b for b in await self.market.bars(symbol, start, end, interval_s)
                if b.start + timedelta(seconds=b.interval_s) <= end]  # completed bars only
        return {"ts": [b.start for b in bars], "open": np.array([b.open for b in bars]),
                "high": np.array([b.high for b in bars]), "low": np.array([b.low for b in bars]),
                "close": np.array([b.close for b in bars]), "volume": np.array([b.volume for b in bars], float)}

    async def _atm_iv_trading(self, underlying: str) -> float:
        """ATM IV of the nearest chain, in trading-time vol (comparable with minute realized vol)."""
        from engine.backtest.pricing import CALENDAR_IV

        try:
            chain = await self.market.chain(underlying, "0dte")
            scale = CALENDAR_IV
        except Smart0DTEError:
            chain = await self.market.chain(underlying, (await self.market.expirations(underlying))[0])
            scale = 1.0
        k = chain.atm_strike()
        ivs = [chain.calls.iv[chain.by_strike("call", k)], chain.puts.iv[chain.by_strike("put", k)]]
        ivs = [float(v) for v in ivs if np.isfinite(v) and v > 0]
        return float(np.mean(ivs)) / scale if ivs else float("nan")

    # --- signals ------------------------------------------------------------------------------
    async def current(self, underlying: str | None = None) -> list[Signal]:
        """Signals now for one underlying (plus the market-wide ones) or for all."""
        if self.market is None:
            raise Smart0DTEError("signals need the market service")
        want = [underlying.strip().upper()] if underlying else list(UNDERLYINGS)
        if want[0] not in TICKERS:  # before any data is read: a typo answers at once
            raise UnknownSymbol(f"unknown symbol {underlying!r}: signals cover {', '.join(TICKERS)}",
                                field="underlying")
        now = self._now()
        day, open_, end = self._session(now)
        out: list[Signal] = []
        vix_hist = await self._vix_history(open_)
        vix_today = await self._arrays("VIX", open_, end)
        vix_now = float(vix_today["close"][-1]) if vix_today["close"].size else (
            float(vix_hist[-1]) if vix_hist.size else float("nan"))
        for u in want:
            if u == "VIX":
                continue
            out.extend(await self._underlying(u, open_, end, vix_now, vix_hist))
        reg = ind.vix_regime(end, vix_now, vix_hist)
        if reg is not None:
            out.append(reg)
        corr = await self._correlation_signal(open_, end)
        if corr is not None:
            out.append(corr)
        return out

    async def watch(self, underlying: str | None = None, *, every_s: float = 60.0, rounds: int | None = None):
        """Live use: yield the signals that changed direction since the last look, every ``every_s``
        seconds of wall time (``rounds`` = stop after that many looks; None = forever)."""
        import asyncio

        last: dict[tuple[str, str], str] = {}
        n = 0
        while rounds is None or n < rounds:
            fresh = []
            for sig in await self.current(underlying):
                key = (sig.name, sig.underlying)
                if last.get(key) != sig.direction:
                    fresh.append(sig)
                last[key] = sig.direction
            if fresh:
                yield fresh
            n += 1
            if rounds is None or n < rounds:
                await asyncio.sleep(every_s)

    async def _underlying(self, u: str, open_: datetime, end: datetime, vix_now: float, vix_hist: np.ndarray):
        a = await self._arrays(u, open_, end)
        if not a["close"].size:
            return []
        sigs = [ind.opening_range_breakout(u, end, a["high"], a["low"], a["close"]),
                ind.vwap_deviation(u, end, a["high"], a["low"], a["close"], a["volume"]),
                ind.momentum(u, end, a["close"])]
        try:
            iv = await self._atm_iv_trading(u)
        except Smart0DTEError as err:
            log.info("no chain IV for %s: %s", u, err)
            iv = float("nan")
        sigs.append(ind.iv_rv_spread(u, end, iv, a["close"]))
        rank = ind.iv_rank(u, end, vix_now / 100.0, vix_hist / 100.0)
        if rank is not None:
            rank = Signal(rank.name, u, rank.direction, rank.strength, rank.confidence,
                          [f"market IV (VIX) {r}" for r in rank.reasons], rank.ts, rank.kind, rank.values)
        sigs.append(rank)
        return [s for s in sigs if s is not None]

    async def _vix_history(self, before: datetime) -> np.ndarray:
        """VIX session closes of the last ``iv_rank_sessions`` sessions before ``before``."""
        from engine.market import calendar

        first = before - timedelta(days=int(self.iv_rank_sessions * 1.5) + 5)
        try:
            bars = await self.market.bars("VIX", calendar.session_open(calendar.next_session(first.date())),
                                          before, SESSION_SECONDS)
        except Smart0DTEError as err:
            log.info("no VIX history: %s", err)
            return np.zeros(0)
        return np.array([b.close for b in bars][-self.iv_rank_sessions:], dtype=float)

    async def _closes(self, tickers, start: datetime, end: datetime) -> np.ndarray:
        """(minutes × tickers) closes on the minutes every ticker has (inner join on bar start)."""
        series = []
        for t in tickers:
            a = await self._arrays(t, start, end)
            series.append(dict(zip(a["ts"], a["close"], strict=True)))
        common = sorted(set.intersection(*(set(s) for s in series))) if series else []
        return np.array([[s[ts] for s in series] for ts in common], dtype=float).reshape(len(common), len(tickers))

    async def _correlation_signal(self, open_: datetime, end: datetime) -> Signal | None:
        from engine.market import calendar

        prev_open = calendar.session_open(calendar.previous_session(open_.date()))
        closes = await self._closes(UNDERLYINGS, prev_open, end)
        return ind.correlation_breakdown(end, list(UNDERLYINGS), closes)

    async def correlation_matrix(self, window: int = 60) -> dict:
        """Rolling correlation of minute returns of SPY, QQQ, IWM and VIX over the last ``window`` minutes."""
        now = self._now()
        _, open_, end = self._session(now)
        closes = await self._closes(TICKERS, open_, end)
        if closes.shape[0] < 3:
            from engine.core.errors import NoData

            raise NoData(f"not enough minute bars yet for a correlation (have {closes.shape[0]})")
        r = np.diff(np.log(closes), axis=0)
        m = ind.rolling_correlation(r, window)
        return {"tickers": list(TICKERS), "window": int(min(window, r.shape[0])), "ts": end.isoformat(),
                "matrix": [[None if not np.isfinite(x) else round(float(x), 4) for x in row] for row in m]}
