"""``SimMarket``: the simulated market as a pure function of (seed, instant).

Ask it for a quote, a chain, the listed expiries or bars at any instant: the answer depends only
on the seed and that instant, never on earlier calls or on the process asking. An instant outside
the regular session shows the state of the session it belongs to (before the open: the previous
close; after the close: the close), and every quote and chain names that ``session``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from engine.core.clock import NY
from engine.core.errors import InvalidInput, NoData, UnknownSymbol
from engine.core.instruments import Equity, Index, OptionContract, parse_symbol
from engine.core.marketdata import Bar, Quote, Trade
from engine.market import calendar
from engine.market.hours import TradingHours
from engine.market.sim.daily import daily_paths
from engine.market.sim.intraday import SessionPath, session_path
from engine.market.sim.listing import OPTION_ROOT, expiries_at, listed_expiries, listed_strikes, option_root
from engine.market.sim.options import SimChain, simulate_chain
from engine.market.sim.params import DEFAULT_PARAMS, SYMBOLS, SimParams
from engine.market.sim.rng import stream

COLUMN = {s: i for i, s in enumerate(SYMBOLS)}
VIX_ROOTS = ("VIX", "VIXW")


def _aware(ts: datetime) -> datetime:
    """``ts`` in New York time, truncated to the whole second: the simulated market updates once a
    second, so every instant within one second sees (and is stamped with) the same quotes."""
    if ts.tzinfo is None:
        raise InvalidInput("naive datetime: give a timezone-aware instant", field="ts")
    return ts.astimezone(NY).replace(microsecond=0)


class SimMarket:
    """Seeded simulated market of SPY, QQQ, IWM, VIX and their options."""

    source = "sim"

    def __init__(self, seed: int = 7, params: SimParams = DEFAULT_PARAMS,
                 hours: TradingHours | None = None) -> None:
        self.seed = int(seed)
        self.params = params
        self.hours = hours or TradingHours()

    # --- paths -------------------------------------------------------------------------------
    def path(self, day: date) -> SessionPath:
        if not calendar.is_session(day):
            raise NoData(f"{day.isoformat()} is not a trading session")
        table = calendar._table()
        if not table.covers(day):
            raise NoData(f"no simulated data for {day.isoformat()}: the simulated market covers the sessions "
                         f"from {table.first.isoformat()} to {table.last.isoformat()}")
        return session_path(self.seed, day, self.params)

    def state(self, ts: datetime) -> tuple[SessionPath, datetime]:
        """The session path an instant belongs to, and the instant its prices are taken at."""
        ts = _aware(ts)
        return self.path(calendar.session_of(ts)), min(ts, calendar.session_close(calendar.session_of(ts)))

    def close(self, symbol: str, day: date) -> float:
        """Official close of an underlying on session ``day`` (rounded like its quotes)."""
        col = self._column(symbol)
        return round(float(self.path(day).prices[-1, col]), 2)

    def levels(self, ts: datetime) -> dict[str, float]:
        """Underlying levels (mid prices) at ``ts``."""
        path, at = self.state(ts)
        px = path.at(at)
        return {s: float(px[i]) for s, i in COLUMN.items()}

    # --- quotes ------------------------------------------------------------------------------
    def quote(self, symbol: str, ts: datetime) -> Quote:
        """Top of book of an underlying or an OCC option symbol at ``ts``."""
        inst = parse_symbol(symbol)
        if isinstance(inst, OptionContract):
            return self.option_quote(inst, ts)
        if inst.symbol not in COLUMN:
            raise UnknownSymbol(f"the simulated market quotes {', '.join(SYMBOLS)}, not {symbol!r}")
        return self.underlying_quote(inst, ts)

    def underlying_quote(self, inst: Equity | Index, ts: datetime) -> Quote:
        path, at = self.state(ts)
        value = float(path.at(at)[COLUMN[inst.symbol]])
        if isinstance(inst, Index):  # an index has a value, not a market: bid = ask = last
            v = round(value, 2)
            return Quote(inst.symbol, v, v, at, 0, 0, v, self.source, path.day)
        eq = self.params.equities[inst.symbol]
        second = int(path.elapsed(at))
        u = stream(self.seed, "micro", path.index, second, COLUMN[inst.symbol]).random(4)
        open_wide = 1.0 + 2.0 * np.exp(-second / 120.0)
        ticks = 1 + int(u[0] < eq.spread_ticks * open_wide)
        cents = value * 100.0
        b = int(np.floor(cents - ticks / 2.0 + 0.5))
        bid, ask = b / 100.0, (b + ticks) / 100.0
        bid_size = 100 * int(1 + np.floor(-np.log(u[1]) * eq.lot_mean))
        ask_size = 100 * int(1 + np.floor(-np.log(u[2]) * eq.lot_mean))
        last = bid if u[3] < 0.5 else ask
        return Quote(inst.symbol, bid, ask, at, bid_size, ask_size, last, self.source, path.day)

    def trade(self, symbol: str, ts: datetime) -> Trade | None:
        """The last trade of an ETF at ``ts``: its quote's ``last`` and one second's volume in round
        lots (None for VIX, an index, and outside the session, when nothing trades)."""
        inst = parse_symbol(symbol)
        if not isinstance(inst, Equity) or inst.symbol not in COLUMN:
            return None
        path, at = self.state(ts)
        if at >= path.close_ts or at < path.open_ts:
            return None
        q = self.underlying_quote(inst, ts)
        minute = min(int(path.elapsed(at)) // 60, path.minute_volume.shape[0] - 1)
        size = 100 * max(1, int(path.minute_volume[minute, COLUMN[inst.symbol]] / 60.0 / 100.0))
        return Trade(inst.symbol, float(q.last), size, q.ts, self.source)

    def option_quote(self, contract: OptionContract, ts: datetime) -> Quote:
        underlying = self._option_underlying(contract.root)
        sim = self.chain(underlying, contract.expiry, ts)
        snap = sim.snapshot
        idx = [i for i, s in enumerate(snap.symbols) if s == contract.occ]
        root = option_root(underlying, contract.expiry)
        if not idx and contract.root != root:
            raise InvalidInput(f"{contract.occ}: {underlying} options expiring {contract.expiry.isoformat()} are "
                               f"listed under root {root}, not {contract.root}", field="symbol")
        if not idx:
            raise InvalidInput(f"{contract.occ}: strike {contract.strike} is not listed for {underlying} "
                               f"{contract.expiry.isoformat()}", field="symbol")
        i = idx[0]
        return Quote(contract.occ, float(snap.bid[i]), float(snap.ask[i]), snap.ts, int(snap.bid_size[i]),
                     int(snap.ask_size[i]), float(snap.last[i]), self.source, snap.session)

    @staticmethod
    def _option_underlying(root: str) -> str:
        r = root.upper()
        if r in VIX_ROOTS:
            return "VIX"
        if r in OPTION_ROOT:
            return r
        raise UnknownSymbol(f"no simulated options with root {root!r}: listed are SPY, QQQ, IWM and VIX")

    # --- options -----------------------------------------------------------------------------
    def expirations(self, underlying: str, ts: datetime) -> list[date]:
        """Expiries listed in the session of ``ts`` (AM-settled VIX drops its expiry at the open)."""
        ts = _aware(ts)
        session = calendar.session_of(ts)
        u = self._option_underlying(underlying)
        # a PM expiry stays listed (with its final quotes) until the session is over for good:
        # after the close a 0DTE chain shows how the day ended, as a broker's screen does
        return expiries_at(u, ts, session)

    def was_listed(self, underlying: str, expiry: date, session: date) -> bool:
        return expiry in listed_expiries(self._option_underlying(underlying), session)

    def chain(self, underlying: str, expiry: date, ts: datetime) -> SimChain:
        """Every listed contract of ``underlying`` expiring ``expiry``, quoted at ``ts``.

        :class:`InvalidInput` if that expiry is not listed in the session of ``ts`` (or, for
        AM-settled VIX, already settled).
        """
        ts = _aware(ts)
        u = self._option_underlying(underlying)
        session = calendar.session_of(ts)
        listed = listed_expiries(u, session)
        if expiry not in listed:
            raise InvalidInput(f"{u} has no expiry on {expiry.isoformat()} (listed in the session of "
                               f"{session.isoformat()}: {', '.join(d.isoformat() for d in listed[:6])}, …)",
                               field="expiry")
        path = self.path(session)
        span = self.hours.option_hours(u, session, expiry)
        if span is None:  # only AM-settled VIX on its expiry day: it settled at this session's open
            raise InvalidInput(f"{u} options expiring {expiry.isoformat()} are AM-settled: they stopped "
                               "trading the session before and settled at the open; they are expired",
                               field="expiry")
        t = min(max(ts, span[0]), span[1])
        at_underlying = min(t, calendar.session_close(session))
        px = path.at(at_underlying)
        spot = float(px[COLUMN[u]])
        vix = float(px[COLUMN["VIX"]])
        dp = daily_paths(self.seed, self.params)
        prev_close = float(dp.close[path.index - 1, COLUMN[u]]) if path.index > 0 else spot
        strikes = listed_strikes(u, round(prev_close, 2), (expiry - session).days)
        return simulate_chain(seed=self.seed, p=self.params, underlying=u, root=option_root(u, expiry), expiry=expiry,
                              t=t, path=path, spot=round(spot, 2), vix=vix, reference=prev_close,
                              strikes=strikes, ts=t)

    # --- bars --------------------------------------------------------------------------------
    def session_bars(self, symbol: str, day: date, interval_s: int = 60) -> list[Bar]:
        """Bars of ``symbol`` over session ``day``, ``interval_s`` long, counted from the open.

        Built straight from the one-second path (so 1 s, 1 min, 5 min and 1 h bars of one session
        agree exactly); the last bar of a session is shorter when the interval does not divide
        it. Volume: each minute's shares spread evenly over its seconds (VIX: 0).
        """
        open_ts, offsets, ohlc, vols = self.session_bar_arrays(symbol, day, interval_s)
        sym = symbol.upper()
        return [Bar(sym, open_ts + timedelta(seconds=int(off)), o, h, lo, c, int(v), interval_s,
                    round((o + h + lo + c) / 4.0, 4))
                for off, (o, h, lo, c), v in zip(offsets, ohlc.tolist(), vols, strict=True)]

    def session_bar_arrays(self, symbol: str, day: date, interval_s: int = 60):
        """The columns behind :meth:`session_bars`: (open instant, start offsets in seconds,
        OHLC array (n, 4) rounded to cents, volumes) — for callers that want frames, not objects."""
        if not 1 <= interval_s <= 86_400:
            raise InvalidInput(f"interval_s must be 1..86400 seconds, not {interval_s}", field="interval_s")
        col = self._column(symbol)
        if not calendar.is_session(day):
            raise NoData(f"{day.isoformat()} is not a trading session")
        block = _cached_bar_block if interval_s >= 60 else _bar_block  # second bars are too big to keep
        open_ts, starts, ohlc, vols = block(self.seed, day, self.params, interval_s)
        return open_ts, starts, ohlc[col], vols[col]

    def session_minute_bars(self, symbol: str, day: date) -> list[Bar]:
        """All one-minute bars of ``symbol`` in session ``day`` (start-labelled, NY time)."""
        return self.session_bars(symbol, day, 60)

    def history(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """Bars with ``start <= bar.start < end`` of every session in between (see :meth:`session_bars`)."""
        start, end = _aware(start), _aware(end)
        if end <= start:
            raise InvalidInput("history: end must be after start", field="end")
        bars: list[Bar] = []
        for day in calendar.sessions_between(start.date(), end.date()):
            bars.extend(b for b in self.session_bars(symbol, day, interval_s) if start <= b.start < end)
        return bars

    def _column(self, symbol: str) -> int:
        inst = parse_symbol(symbol)
        if isinstance(inst, OptionContract) or inst.symbol not in COLUMN:
            raise UnknownSymbol(f"simulated bars exist for {', '.join(SYMBOLS)}, not {symbol!r}")
        return COLUMN[inst.symbol]


def _bar_block(seed: int, day: date, params: SimParams, interval_s: int):
    """Bars of all four symbols of one session at once: (open instant, start offsets, OHLC array
    (4 symbols, bars, 4), volumes (4 symbols, bars))."""
    path = session_path(seed, day, params)
    n = path.seconds
    px = path.prices
    starts = np.arange(0, n, interval_s)
    ends = np.minimum(starts + interval_s, n)
    highs = np.maximum(np.maximum.reduceat(px[:n], starts, axis=0), px[ends])
    lows = np.minimum(np.minimum.reduceat(px[:n], starts, axis=0), px[ends])
    ohlc = np.round(np.stack([px[starts], highs, lows, px[ends]], axis=-1), 2)  # (bars, 4 symbols, 4)
    cum = np.vstack([np.zeros((1, 3)), np.cumsum(np.repeat(path.minute_volume / 60.0, 60, axis=0), axis=0)])
    if len(cum) < n + 1:  # a session whose length is not whole minutes: hold the last total
        cum = np.vstack([cum, np.repeat(cum[-1:], n + 1 - len(cum), axis=0)])
    vols = np.rint(cum[ends] - cum[starts]).astype(np.int64)
    vols = np.column_stack([vols, np.zeros(len(starts), dtype=np.int64)])  # VIX has no volume
    return path.open_ts, starts, np.ascontiguousarray(ohlc.transpose(1, 0, 2)), np.ascontiguousarray(vols.T)


#: A backtest asks for SPY and then VIX over the same sessions; a minute block is ~50 kB where a
#: one-second path is ~750 kB, so blocks are kept for many more sessions than paths.
_cached_bar_block = lru_cache(maxsize=512)(_bar_block)
