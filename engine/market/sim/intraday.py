"""Intraday layer: a one-second path of SPY, QQQ, IWM and VIX for one session.

Drawn from the (seed, session) stream and pinned to the session's open and close from
:mod:`engine.market.sim.daily` with a Brownian bridge, so consecutive sessions chain and every
instant of the day is a pure function of (seed, instant). Ingredients:

- U-shaped volatility: busy first half hour, quiet lunch, busy close (``vol_shape``);
- equities correlated through one common factor; VIX moves against SPY (``vix_spy_corr``);
- jumps: the day's crash/rally jump (if any) at a random second, plus small intraday jumps;
- a U-shaped minute volume profile (``volume_shape``) for bars and option volume.

A bridge keeps jumps as jumps: only the diffusion's miss of the day's close is spread linearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from engine.market import calendar
from engine.market.sim.daily import daily_paths
from engine.market.sim.params import DEFAULT_PARAMS, SimParams
from engine.market.sim.rng import correlated_normals, stream


def vol_shape(u: np.ndarray) -> np.ndarray:
    """Relative volatility at session fraction ``u`` in [0, 1], normalized to mean square 1."""
    w = 1.0 + 1.6 * np.exp(-u / 0.06) + 1.1 * np.exp(-(1.0 - u) / 0.04)
    return w / np.sqrt(np.mean(w * w))


def volume_shape(u: np.ndarray) -> np.ndarray:
    """Relative volume at session fraction ``u`` (sums to 1 over a grid): heavy open and close."""
    w = 1.0 + 6.5 * np.exp(-u / 0.035) + 10.0 * np.exp(-(1.0 - u) / 0.015)
    return w / w.sum()


@dataclass(frozen=True, slots=True)
class SessionPath:
    """Prices at every second ``0..n`` of one session (row ``k`` = ``open + k`` seconds)."""

    day: date
    index: int
    open_ts: datetime
    close_ts: datetime
    prices: np.ndarray       # (n + 1, 4): SPY, QQQ, IWM, VIX
    minute_volume: np.ndarray  # (n // 60, 3) shares per minute of the equities
    sigma: np.ndarray        # (3,) equities' daily realized vol of the day
    vix_prev: float

    @property
    def seconds(self) -> int:
        return self.prices.shape[0] - 1

    def elapsed(self, ts: datetime) -> float:
        """Seconds since the open, clamped to the session."""
        return min(max((ts - self.open_ts).total_seconds(), 0.0), float(self.seconds))

    def at(self, ts: datetime) -> np.ndarray:
        """Prices (4,) at instant ``ts`` (linear between seconds; the close after the close)."""
        s = self.elapsed(ts)
        k = int(s)
        if k >= self.seconds:
            return self.prices[-1].copy()
        f = s - k
        return self.prices[k] * (1.0 - f) + self.prices[k + 1] * f

    def variance_left(self, ts: datetime) -> float:
        """Share of the session's intraday variance still to come after ``ts`` (0..1)."""
        n = self.seconds
        k = int(self.elapsed(ts))
        shape2 = _shape2_cumulative(n)
        return float(1.0 - shape2[k] / shape2[-1])

    def volume_done(self, ts: datetime) -> float:
        """Share of the session's volume traded before ``ts`` (0..1)."""
        m = self.minute_volume.shape[0]
        prof = _volume_cumulative(m)
        x = self.elapsed(ts) / 60.0
        k = min(int(x), m)
        inner = (x - k) * (prof[k + 1] - prof[k]) if k < m else 0.0
        return float(prof[k] + inner)


@lru_cache(maxsize=8)
def _shape2_cumulative(n: int) -> np.ndarray:
    u = (np.arange(n) + 0.5) / n
    return np.concatenate([[0.0], np.cumsum(vol_shape(u) ** 2)])


@lru_cache(maxsize=8)
def _volume_cumulative(m: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(volume_shape((np.arange(m) + 0.5) / m))])


@lru_cache(maxsize=16)
def session_path(seed: int, day: date, params: SimParams = DEFAULT_PARAMS) -> SessionPath:
    """The one-second path of session ``day`` (cached; ~5 ms to draw)."""
    p = params
    dp = daily_paths(seed, p)
    i = dp.index(day)
    o_ts, c_ts = calendar.session_open(day), calendar.session_close(day)
    n = int((c_ts - o_ts).total_seconds())
    u = (np.arange(n) + 0.5) / n
    shape = vol_shape(u)
    rng = stream(seed, "intraday", i)

    z = correlated_normals(rng, n, p.correlation)
    rho = p.vix_spy_corr
    zv = rho * z[:, 0] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    fo = p.overnight_share
    sig_eq = dp.sigma[i] * np.sqrt(1 - fo) / np.sqrt(n)
    sig_v = p.vix_sd * np.sqrt(p.vix_intraday_share) / np.sqrt(n)
    inc = np.empty((n, 4))
    inc[:, :3] = z * sig_eq[None, :] * shape[:, None]
    inc[:, 3] = zv * sig_v * shape

    jr = stream(seed, "intraday-jumps", i)
    betas = np.array([p.beta(s) for s in ("SPY", "QQQ", "IWM")])
    for _ in range(jr.poisson(p.intraday_jumps)):
        k, size = int(jr.integers(0, n)), jr.normal(-0.0002, p.intraday_jump_sd)
        inc[k, :3] += size * betas
        inc[k, 3] += -6.0 * size
    if np.any(dp.jump[i] != 0.0):
        k = int(jr.uniform(0.05, 0.85) * n)
        inc[k] += dp.jump[i]

    w = np.vstack([np.zeros((1, 4)), np.cumsum(inc, axis=0)])
    target = np.log(dp.close[i] / dp.open[i])
    frac = np.arange(n + 1)[:, None] / n
    x = w - frac * (w[-1] - target)[None, :]
    prices = dp.open[i][None, :] * np.exp(x)

    m = n // 60
    vr = stream(seed, "volume", i)
    base = np.array([p.equities[s].daily_volume for s in ("SPY", "QQQ", "IWM")]) * dp.volume_mult[i]
    noise = np.exp(0.35 * vr.standard_normal((m, 3)))
    vol = volume_shape((np.arange(m) + 0.5) / m)[:, None] * base[None, :] * noise
    return SessionPath(day, i, o_ts, c_ts, prices, np.rint(vol), dp.sigma[i].copy(), float(dp.vix_prev[i]))
