"""Synthetic minute history for the backtester: the very paths the simulator quotes."""

from __future__ import annotations

from datetime import date

from engine.market import calendar
from engine.market.sim.market import SimMarket
from engine.market.sim.params import DEFAULT_PARAMS, SimParams


def synthetic_minute_bars(symbol: str, start_day: date, n_sessions: int, seed: int = 7,
                          params: SimParams = DEFAULT_PARAMS):
    """One-minute bars of ``n_sessions`` sessions from ``start_day`` (or the next session).

    Returns a pandas DataFrame shaped like ``BarStore.minute_bars``: indexed by aware New York
    bar START times (name ``start``), columns ``open, high, low, close, volume`` (float, float,
    float, float, int64). Identical to what ``SimMarket(seed).session_minute_bars`` gives, so a
    backtest on synthetic history sees the same market as the simulated feed.
    """
    import pandas as pd

    if n_sessions < 1:
        raise ValueError("n_sessions must be at least 1")
    day = start_day if calendar.is_session(start_day) else calendar.next_session(start_day)
    market = SimMarket(seed, params)
    rows = []
    for _ in range(n_sessions):
        rows.extend(market.session_minute_bars(symbol, day))
        day = calendar.next_session(day)
    idx = pd.DatetimeIndex([b.start for b in rows], name="start")
    return pd.DataFrame({"open": [b.open for b in rows], "high": [b.high for b in rows],
                         "low": [b.low for b in rows], "close": [b.close for b in rows],
                         "volume": pd.array([b.volume for b in rows], dtype="int64")}, index=idx)
