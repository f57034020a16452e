"""Synthetic minute history for the backtester: the very paths the simulator quotes."""

from __future__ import annotations

from datetime import date

import numpy as np

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
    starts, blocks, volumes = [], [], []
    for _ in range(n_sessions):
        open_ts, offsets, ohlc, vols = market.session_bar_arrays(symbol, day, 60)
        starts.append(int(open_ts.timestamp()) + offsets)
        blocks.append(ohlc)
        volumes.append(vols)
        day = calendar.next_session(day)
    idx = pd.to_datetime(np.concatenate(starts), unit="s", utc=True).tz_convert("America/New_York")
    idx.name = "start"
    ohlc = np.vstack(blocks)
    return pd.DataFrame({"open": ohlc[:, 0], "high": ohlc[:, 1], "low": ohlc[:, 2], "close": ohlc[:, 3],
                         "volume": np.concatenate(volumes).astype(np.int64)}, index=idx)
