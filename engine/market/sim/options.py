"""Simulated option chains: a skewed smile that lifts with VIX, penny quotes, sizes, volume, OI.

Pricing follows the simulated market's own variance, so options are neither free money nor
nonsense against the paths they are written on:

- **ATM variance to expiry** is the variance still to come, in sessions: what is left of today's
  U-shaped intraday variance, plus each later session's daily variance (overnight included),
  at an implied level ``beta × iv_ratio × VIX_fwd`` where the VIX forward mean-reverts to its
  long-run level session by session. Dividing by calendar time to expiry (ACT/365, the
  convention of :mod:`engine.options`) gives the ATM IV, so 0DTE IV rises into the close as the
  closing auction's variance concentrates in ever less time.
- **Smile** in standardized log-moneyness ``z = ln(K/F)/√w``: ``1 − skew·z + smile·z² +
  smile3·z³`` (puts rich), fitted to the Cboe SPY chain of 2025-05-16 in
  ``../shared/data/cboe-spy-chain/`` (a test holds it there); the ATM level carries VIX, so the
  whole smile lifts with it.
- **VIX options** price off the VIX forward of their expiry (Black-76), with a call skew and a
  vol of vol that rises for short expiries; they are AM-settled on the expiry morning.
- **Quotes** on penny ticks: spread a fraction of the price, widened out of the money, in the
  first minutes and into the close; European BSM value floored at intrinsic (American SPY/QQQ/
  IWM never trade under it). Sizes, cumulative volume (U-shaped through the day) and open
  interest (peaked at the money and at round strikes) are drawn from keyed streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from engine.core.marketdata import ChainSnapshot
from engine.market import calendar
from engine.market.sim.intraday import SessionPath
from engine.market.sim.params import SimParams
from engine.market.sim.rng import stream

SECONDS_PER_YEAR = 365.0 * 86400.0
MIN_T = 1.0 / SECONDS_PER_YEAR


@dataclass(frozen=True, slots=True)
class SimChain:
    """A simulated chain snapshot and the carry that makes its forward right (VIX: the future)."""

    snapshot: ChainSnapshot
    div_yield: float
    model_forward: float


def years_to(ts: datetime, expiry: date, am_settled: bool) -> float:
    """Calendar years from ``ts`` to the expiry moment (AM: the session open; PM: the close)."""
    if calendar.is_session(expiry):
        end = calendar.session_open(expiry) if am_settled else calendar.session_close(expiry)
    else:  # listings only use sessions; keep a sane moment anyway
        end = datetime.combine(expiry, datetime.min.time(), ts.tzinfo) + timedelta(hours=9.5 if am_settled else 16)
    return max((end - ts).total_seconds(), 0.0) / SECONDS_PER_YEAR


def vix_forward(vix: float, n_sessions: float, p: SimParams) -> float:
    """Expected VIX after ``n_sessions``: mean reversion toward its long-run level (contango when low)."""
    long_run = p.vix_mean * 1.07  # jumps lift the mean of the simulated VIX above exp(E log V)
    return long_run + (vix - long_run) * p.vix_ar ** np.maximum(n_sessions, 0.0)


def _equity_variance(path: SessionPath, t: datetime, expiry: date, beta: float, vix: float,
                     p: SimParams) -> float:
    """Implied total variance from ``t`` to a PM expiry (sum over sessions, VIX forward per day)."""
    later = len(calendar.sessions_between(path.day + timedelta(days=1), expiry)) if expiry > path.day else 0

    def daily(v):
        return (beta * p.iv_ratio * v / 100.0) ** 2 / 252.0

    w = path.variance_left(t) * (1 - p.overnight_share) * daily(vix)
    if later:
        j = np.arange(1, later + 1)
        w += float(np.sum(daily(vix_forward(vix, j, p))))
    return max(w, 1e-12)


def smile_factor(z: np.ndarray, slope: float, curve: float, cubic: float = 0.0,
                 z_range: tuple[float, float] = (-5.0, 3.0)) -> np.ndarray:
    """IV relative to ATM at standardized log-moneyness ``z``, flat beyond ``z_range`` (the wings
    are not extrapolated past where the fit holds; a steeper wing would let prices rise with
    strike)."""
    z = np.clip(z, *z_range)
    return np.clip(1.0 - slope * z + curve * z * z + cubic * z ** 3, 0.5, 3.5)


def no_arbitrage(theo: np.ndarray, strikes: np.ndarray, is_call: np.ndarray) -> np.ndarray:
    """Calls never rise and puts never fall with the strike (strikes sorted within each right)."""
    out = theo.copy()
    for mask, acc in ((is_call, np.minimum.accumulate), (~is_call, np.maximum.accumulate)):
        idx = np.flatnonzero(mask)
        order = idx[np.argsort(strikes[idx], kind="stable")]
        out[order] = acc(out[order])
    return out


def _penny_quotes(theo: np.ndarray, width_frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bid/ask in dollars on a one-cent grid, ``ceil(theo·width_frac)`` cents wide, around ``theo``."""
    cents = theo * 100.0
    n = np.maximum(1.0, np.ceil(cents * width_frac))
    b = np.floor(cents - n / 2.0 + 0.5)
    b = np.maximum(b, 0.0)
    a = np.maximum(b + n, 1.0)
    return b / 100.0, a / 100.0


def _time_widening(path: SessionPath, t: datetime) -> float:
    minutes_in = path.elapsed(t) / 60.0
    minutes_left = (path.seconds - path.elapsed(t)) / 60.0
    return 1.0 + 0.8 * np.exp(-minutes_in / 10.0) + 1.5 * float(np.clip((30.0 - minutes_left) / 30.0, 0.0, 1.0))


@dataclass(frozen=True, slots=True)
class _Valuation:
    theo: np.ndarray
    sigma: np.ndarray
    z: np.ndarray
    carry: float        # dividend yield that makes spot's forward the model forward
    forward: float
    spread_frac: float
    beta: float


def _value(p: SimParams, underlying: str, K: np.ndarray, is_call: np.ndarray, expiry: date, t: datetime,
           path: SessionPath, spot: float, vix: float) -> _Valuation:
    """Model prices: VIX options off the VIX forward (Black-76), ETFs off spot (BSM, ≥ intrinsic)."""
    from engine.options import bsm_price

    r = p.rate
    if underlying == "VIX":
        T = max(years_to(t, expiry, am_settled=True), MIN_T)
        n_sess = len(calendar.sessions_between(path.day + timedelta(days=1), expiry))
        fwd = float(vix_forward(vix, n_sess, p))
        vv = p.vix_vol * float(np.clip((30.0 / max((expiry - path.day).days, 0.5)) ** 0.2, 0.8, 2.2))
        z = np.log(K / fwd) / (vv * np.sqrt(T))
        sigma = vv * smile_factor(z, p.vix_skew, 0.03, 0.0, (-3.0, 4.0))
        theo = bsm_price(is_call, fwd, K, T, r, r, sigma)
        carry = r - np.log(fwd / spot) / T
        return _Valuation(theo, sigma, z, float(carry), fwd, 0.03, 1.0)
    T = max(years_to(t, expiry, am_settled=False), MIN_T)
    eq = p.equities[underlying]
    w = _equity_variance(path, t, expiry, eq.beta, vix, p)
    fwd = spot * np.exp((r - eq.div_yield) * T)
    z = np.log(K / fwd) / np.sqrt(w)
    sigma = np.sqrt(w / T) * smile_factor(z, p.skew, p.smile, p.smile3)
    theo = bsm_price(is_call, spot, K, T, r, eq.div_yield, sigma)
    theo = np.maximum(theo, np.where(is_call, spot - K, K - spot).clip(min=0.0))
    return _Valuation(theo, sigma, z, eq.div_yield, float(fwd), eq.option_spread, eq.beta)


def _activity(seed: int, p: SimParams, underlying: str, K: np.ndarray, is_call: np.ndarray, expiry: date,
              t: datetime, path: SessionPath, reference: float, v: _Valuation, bid: np.ndarray):
    """Displayed sizes (per second), cumulative volume (grows through the day) and open interest."""
    n, days = len(K), max((expiry - path.day).days, 0)
    is_vix = underlying == "VIX"
    u = stream(seed, "options-size", path.index, int(path.elapsed(t)), expiry.toordinal()).random((n, 2))
    size_mean = (10.0 + 150.0 * np.exp(-0.5 * (v.z / 1.5) ** 2)) * (0.4 if is_vix else 1.0)
    bid_size = np.where(bid > 0, 1 + np.floor(-np.log(u[:, 0]) * size_mean), 0).astype(np.int64)
    ask_size = (1 + np.floor(-np.log(u[:, 1]) * size_mean)).astype(np.int64)

    base = 4.0e5 if is_vix else p.equities[underlying].option_volume
    # activity is spread over strikes by the expiry's whole-life move (not what is left of it, which
    # vanishes into the close) around fixed centres, so cumulative volume only grows during the day
    if is_vix:
        life_sd = p.vix_vol * np.sqrt((days + 1.0) / 365.0)
        day_open = float(path.prices[0, 3])
    else:
        life_sd = v.beta * p.iv_ratio * path.vix_prev / 100.0 * np.sqrt((days + 1.0) / 252.0)
        day_open = float(path.prices[0, ("SPY", "QQQ", "IWM").index(underlying)])
    lm = np.log(K / reference) / (1.6 * life_sd)
    lv = np.log(K / day_open) / (1.2 * life_sd)
    # fat-tailed across strikes (Laplace), puts busier, downside puts busiest (hedging flow)
    weight = np.exp(-np.abs(lv)) * np.where(is_call, 1.0, np.where(lv < 0.0, 1.6, 1.1))
    weight /= weight.sum()
    day_noise = stream(seed, "options-volume", path.index, expiry.toordinal()).lognormal(0.0, 0.4, n)
    volume = np.floor(base / (1.0 + days / 2.0) * weight * day_noise * path.volume_done(t)).astype(np.int64)
    round_bonus = np.where(K % 10 == 0, 2.5, np.where(K % 5 == 0, 1.6, 1.0))
    oi_noise = stream(seed, "options-oi", path.index, expiry.toordinal()).lognormal(0.0, 0.5, n)
    oi_w = np.exp(-np.abs(lm) / 1.5) * round_bonus
    open_interest = np.floor(base * 0.8 * (1.0 + days / 10.0) * oi_w / oi_w.sum() * oi_noise).astype(np.int64)
    return bid_size, ask_size, volume, open_interest


def simulate_chain(*, seed: int, p: SimParams, underlying: str, root: str, expiry: date, t: datetime,
                   path: SessionPath, spot: float, vix: float, reference: float, strikes: np.ndarray,
                   ts: datetime) -> SimChain:
    """Quotes of every listed contract of one expiry at valuation instant ``t``."""
    K = np.concatenate([strikes, strikes])
    is_call = np.concatenate([np.ones(len(strikes), bool), np.zeros(len(strikes), bool)])
    v = _value(p, underlying, K, is_call, expiry, t, path, spot, vix)
    theo = no_arbitrage(np.nan_to_num(v.theo, nan=0.0), K, is_call)
    widen = np.clip(1.0 + 0.12 * np.abs(v.z), 1.0, 4.0) * _time_widening(path, t)
    bid, ask = _penny_quotes(theo, v.spread_frac * widen)
    bid_size, ask_size, volume, open_interest = _activity(seed, p, underlying, K, is_call, expiry, t, path,
                                                          reference, v, bid)
    symbols = tuple(f"{root}{expiry:%y%m%d}{'C' if c else 'P'}{int(round(k * 1000)):08d}"
                    for c, k in zip(is_call, K, strict=True))
    snap = ChainSnapshot(
        underlying=underlying, expiry=expiry, ts=ts, spot=float(spot), symbols=symbols, strikes=K,
        is_call=is_call, bid=bid, ask=ask, bid_size=bid_size, ask_size=ask_size,
        last=np.round((bid + ask) / 2.0, 2), volume=volume, open_interest=open_interest,
        vendor_iv=v.sigma, vendor_delta=np.full(len(K), np.nan), source="sim", session=path.day)
    return SimChain(snap, v.carry, v.forward)
