"""Session-level layer of the simulated market: every session's open and close, ever.

For each XNYS session from 2000-01-03 (index 0 of the calendar table) this layer fixes, per
symbol, the opening gap from the previous close and the close, so sessions chain: an open is
the previous close plus an overnight gap. The intraday layer then draws a path pinned to these
two ends. Everything is vectorized (AR(1) recursions by blocks of a lower-triangular matrix), so
the whole 2000–2035 history costs a few milliseconds and is cached per seed.

Daily random numbers come from one stream per (seed, year), indexed by day of year, so a date's
draws never depend on the calendar around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from engine.market import calendar
from engine.market.sim.params import DEFAULT_PARAMS, EQUITIES, SimParams
from engine.market.sim.rng import correlated_normals, stream

SQRT252 = np.sqrt(252.0)


def ar1_filter(x: np.ndarray, a: float, y0: float | np.ndarray = 0.0, block: int = 128) -> np.ndarray:
    """``y_t = a·y_{t-1} + x_t`` along axis 0 (vectorized in blocks; columns independent)."""
    x = np.asarray(x, dtype=np.float64)
    two_d = x.ndim == 2
    xs = x if two_d else x[:, None]
    n = xs.shape[0]
    k = np.arange(block)
    lower = np.tril(a ** (k[:, None] - k[None, :]).clip(min=0)) * (k[:, None] >= k[None, :])
    powers = a ** (k + 1)
    out = np.empty_like(xs)
    prev = np.broadcast_to(np.asarray(y0, dtype=np.float64), xs.shape[1:]).copy()
    for s in range(0, n, block):
        m = min(block, n - s)
        out[s:s + m] = lower[:m, :m] @ xs[s:s + m] + powers[:m, None] * prev
        prev = out[s + m - 1]
    return out if two_d else out[:, 0]


@dataclass(frozen=True, slots=True)
class DailyPaths:
    """Per-session arrays, row = calendar session index; columns SPY, QQQ, IWM, VIX."""

    sessions: np.ndarray     # ordinals of the session dates
    open: np.ndarray         # (n, 4)
    close: np.ndarray        # (n, 4)
    jump: np.ndarray         # (n, 4) log jump of the day (placed intraday)
    sigma: np.ndarray        # (n, 3) equity daily realized vol used that day
    vix_prev: np.ndarray     # (n,) previous VIX close (the level that day's vol is set from)
    volume_mult: np.ndarray  # (n,) activity multiplier of the day

    def index(self, day: date) -> int:
        i = int(np.searchsorted(self.sessions, day.toordinal()))
        if i >= len(self.sessions) or self.sessions[i] != day.toordinal():
            raise ValueError(f"{day} is not a simulated session")
        return i


def _yearly_draws(seed: int, years: range) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for y in years:
        rng = stream(seed, "daily", y)
        out[y] = (rng.standard_normal((366, 10)), rng.random((366, 4)))
    return out


@lru_cache(maxsize=8)
def daily_paths(seed: int, params: SimParams = DEFAULT_PARAMS) -> DailyPaths:
    """All sessions of the calendar table for ``seed`` (cached; a few milliseconds)."""
    p = params
    table = calendar._table()
    ords = np.asarray(table.ordinals, dtype=np.int64)
    days64 = (ords - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    year_start = days64.astype("datetime64[Y]")
    yrs = year_start.astype(np.int64) + 1970
    doy = (days64 - year_start.astype("datetime64[D]")).astype(np.int64)
    draws = _yearly_draws(seed, range(int(yrs[0]), int(yrs[-1]) + 1))
    z = np.empty((len(ords), 10))
    u = np.empty((len(ords), 4))
    for y, (zy, uy) in draws.items():
        sel = yrs == y
        z[sel], u[sel] = zy[doy[sel]], uy[doy[sel]]

    fo = p.overnight_share
    # equities: one common factor per part of the day -> pairwise correlation p.correlation
    a = np.sqrt(p.correlation)
    eps_o = a * z[:, :1] + np.sqrt(1 - a * a) * z[:, 1:4]
    eps_d = a * z[:, 4:5] + np.sqrt(1 - a * a) * z[:, 5:8]
    eps = np.sqrt(fo) * eps_o + np.sqrt(1 - fo) * eps_d
    rho = p.vix_spy_corr
    e_vix = rho * eps[:, 0] + np.sqrt(1 - rho * rho) * (np.sqrt(fo) * z[:, 8] + np.sqrt(1 - fo) * z[:, 9])
    gap_vix = p.vix_sd * np.sqrt(fo) * (rho * eps_o[:, 0] + np.sqrt(1 - rho * rho) * z[:, 8])

    crash = u[:, 0] < p.crash_prob
    rally = (~crash) & (u[:, 1] < p.rally_prob)
    size = np.where(crash, p.crash_mean + p.crash_sd * (u[:, 2] - 0.5) * 3.46,
                    np.where(rally, p.rally_mean + p.rally_sd * (u[:, 2] - 0.5) * 3.46, 0.0))
    jv = np.where(crash, p.crash_vix, np.where(rally, p.rally_vix, 0.0))

    y = ar1_filter(p.vix_sd * e_vix + jv, p.vix_ar)
    log_v = np.log(p.vix_mean) + y
    v_close = np.exp(log_v)
    v_prev = np.concatenate([[p.vix_mean], v_close[:-1]])
    v_open = v_prev * np.exp(gap_vix)

    betas = np.array([p.beta(s) for s in EQUITIES])
    sigma = betas[None, :] * p.rv_ratio * (v_prev[:, None] / 100.0) / SQRT252
    jumps = size[:, None] * betas[None, :]
    kappa = 1.0 - 0.5 ** (1.0 / p.level_half_life)
    dev = ar1_filter(sigma * eps + jumps, 1.0 - kappa)
    targets = np.log([p.equities[s].target for s in EQUITIES])
    log_c = targets[None, :] + dev
    log_prev = np.vstack([targets[None, :], log_c[:-1]])
    log_o = log_prev + sigma * np.sqrt(fo) * eps_o

    opens = np.column_stack([np.exp(log_o), v_open])
    closes = np.column_stack([np.exp(log_c), v_close])
    jump = np.column_stack([jumps, jv])
    vol_mult = np.exp(0.2 * (u[:, 3] - 0.5) * 3.46) * (v_prev / 17.0) ** 0.8
    return DailyPaths(ords, opens, closes, jump, sigma, v_prev, vol_mult)


__all__ = ["DailyPaths", "ar1_filter", "correlated_normals", "daily_paths"]
