"""Small synthetic minute histories for backtest tests (a seeded GBM, regular sessions only)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from engine.backtest.data import History, sessions_in, split_sessions
from engine.core.clock import NY


def minute_frame(days: list[date], *, spot: float = 500.0, vol: float = 0.15, seed: int = 1,
                 level: float | None = None) -> pd.DataFrame:
    """390 one-minute bars per day; ``level`` gives a constant series (for VIX)."""
    rng = np.random.default_rng(seed)
    idx, rows = [], []
    px = spot
    for d in days:
        start = pd.Timestamp(d.isoformat() + " 09:30", tz=NY)
        for m in range(390):
            if level is not None:
                o = c = level
            else:
                o = px
                px = px * float(np.exp(rng.normal(0, vol / np.sqrt(252 * 390))))
                c = px
            idx.append(start + pd.Timedelta(minutes=m))
            rows.append((o, max(o, c) + 0.01, min(o, c) - 0.01, c, 1000))
    f = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"], index=pd.DatetimeIndex(idx))
    return f


def history(start: date, end: date, *, vix: float | None = 15.0, **kw) -> History:
    days = sessions_in(start, end)
    spy = minute_frame(days, **kw)
    v = minute_frame(days, level=vix) if vix is not None else None
    return History("SPY", split_sessions(spy, v), "synthetic", has_vix=v is not None)
