"""The modeled option market of one session, priced for every minute at once.

When the data has no recorded option quotes, option prices are *modeled* from the underlying's
minute bars:

- **ATM implied vol per minute** (:func:`atm_iv_path`): the VIX close as of that minute (VIX
  minute bars when imported, forward-filled over missing minutes, never a later value) times
  ``vix_scale``. Without VIX data the fallback is the underlying's realized vol over the previous
  sessions' minute returns times ``rv_premium`` (implied usually trades above realized), or
  ``fallback_iv`` when there is no earlier session either. Every input is from the past.
- **Trading-time vol, calendar-time T**: VIX (and minute realized vol) measure variance per
  TRADING time — overnights and weekends carry little of it — while BSM here takes calendar
  years. A 0DTE option's remaining life is all open-market minutes, so its calendar-time IV is
  the trading-time vol × √(525 600 / 98 280) ≈ 2.31 (the same total variance σ²T either way).
  That is why 0DTE IVs shown by brokers sit far above the VIX intraday.
- **Skew**: :class:`~engine.backtest.calibration.SkewModel` in standardized moneyness, calibrated on
  a real SPY chain.
- **Quotes**: Black-Scholes-Merton mid at (spot = the minute's close, T = calendar years from the
  minute's end to the expiry moment, r, q = 0) with a modeled bid/ask
  (:class:`~engine.backtest.calibration.SpreadModel`) on the penny grid. At expiry the mid is the
  intrinsic value.

Everything is a (minutes × strikes) numpy array: a whole day of a whole chain is a handful of
vectorized calls (see ``benchmarks/backtest_bench.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.backtest.calibration import DEFAULT_SKEW, DEFAULT_SPREAD, SkewModel, SpreadModel
from engine.options import bsm_greeks, bsm_price

MINUTES_PER_YEAR = 525_600.0
TRADING_MINUTES_PER_YEAR = 252.0 * 390.0
# Implied vol of the index ETFs relative to VIX (S&P 500): the long-run ratios of Cboe's VXN
# (Nasdaq-100) and RVX (Russell 2000) to VIX. QQQ and IWM options are priced at VIX x this.
VOL_RATIO_TO_VIX = {"SPY": 1.0, "QQQ": 1.2, "IWM": 1.3}
CALENDAR_IV = float(np.sqrt(MINUTES_PER_YEAR / TRADING_MINUTES_PER_YEAR))  # see module doc
RV_ANNUALIZE = np.sqrt(252.0 * 390.0)  # minute returns to annual vol (trading-time scale)


@dataclass(frozen=True)
class MarketModel:
    """Parameters of the modeled option market (see module doc)."""

    skew: SkewModel = DEFAULT_SKEW
    spread: SpreadModel = DEFAULT_SPREAD
    rate: float = 0.043
    vix_scale: float = 1.0
    rv_premium: float = 1.15
    fallback_iv: float = 0.16
    strike_step: float = 1.0
    strike_range: float = 0.05  # listed strikes: session open ± this share (+ wings)


def listed_strikes(open_price: float, model: MarketModel, pad: float = 0.0) -> np.ndarray:
    """Strikes on the ``strike_step`` grid around the session's opening price.

    Centered on the OPEN (known before any decision of the day) so the strike list never depends
    on where the day later went.
    """
    step = model.strike_step
    lo = np.floor((open_price * (1 - model.strike_range) - pad) / step) * step
    hi = np.ceil((open_price * (1 + model.strike_range) + pad) / step) * step
    return np.arange(max(lo, step), hi + step / 2, step)


def realized_vol(closes: np.ndarray) -> float:
    """Annualized vol of minute log returns (NaN with fewer than 30 returns)."""
    c = np.asarray(closes, dtype=float)
    c = c[np.isfinite(c) & (c > 0)]
    if c.size < 31:
        return float("nan")
    r = np.diff(np.log(c))
    return float(np.sqrt(np.mean(r * r)) * RV_ANNUALIZE)


def atm_iv_path(n: int, model: MarketModel, vix: np.ndarray | None = None,
                vix_before: float | None = None, past_rv: float | None = None) -> tuple[np.ndarray, str]:
    """ATM IV for each of ``n`` minutes, and the source used ("vix", "realized", "fallback").

    ``vix`` is aligned to the minutes (NaN where that minute had no VIX bar); gaps take the last
    earlier value, the first gap of the day takes ``vix_before`` (the previous session's last).
    """
    if vix is not None and np.isfinite(vix).any():
        v = np.asarray(vix, dtype=float).copy()
        if not np.isfinite(v[0]) and vix_before is not None:
            v[0] = vix_before
        idx = np.where(np.isfinite(v), np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        v = v[idx]
        if np.isfinite(v).all():
            return v / 100.0 * model.vix_scale, "vix"
        # minutes before the first VIX print of the day with no earlier value: fall through per minute
        fill, _ = atm_iv_path(n, model, None, None, past_rv)
        return np.where(np.isfinite(v), v / 100.0 * model.vix_scale, fill), "vix"
    if past_rv is not None and np.isfinite(past_rv) and past_rv > 0:
        return np.full(n, past_rv * model.rv_premium), "realized"
    return np.full(n, model.fallback_iv), "fallback"


def years_to_close(minutes_to_close: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(minutes_to_close, dtype=float), 0.0) / MINUTES_PER_YEAR


def model_sigma(spot: np.ndarray, strikes: np.ndarray, T: np.ndarray, atm: np.ndarray,
                model: MarketModel) -> np.ndarray:
    """(minutes × strikes) calendar-time IV from the trading-time ATM path and the skew."""
    s, t, a = spot[:, None], np.maximum(T, 1.0 / MINUTES_PER_YEAR)[:, None], atm[:, None] * CALENDAR_IV
    fwd = s * np.exp(model.rate * t)
    x = np.log(strikes[None, :] / fwd) / (a * np.sqrt(t))
    return a * model.skew.factor(x)


def chain_mids(spot: np.ndarray, strikes: np.ndarray, T: np.ndarray, atm: np.ndarray,
               model: MarketModel) -> tuple[np.ndarray, np.ndarray]:
    """(minutes × strikes) modeled call and put mids; intrinsic where ``T`` is 0 (at expiry).

    One BSM evaluation for the calls; puts by put–call parity at the same (skewed) vol, which is
    exact for European prices and halves the work.
    """
    sigma = model_sigma(spot, strikes, T, atm, model)
    s, t, k = spot[:, None], T[:, None], strikes[None, :]
    with np.errstate(invalid="ignore"):
        call = bsm_price(True, s, k, t, model.rate, 0.0, sigma)
        put = np.maximum(call - s + k * np.exp(-model.rate * t), 0.0)
    live = t > 0
    return (np.where(live, call, np.maximum(s - k, 0.0)), np.where(live, put, np.maximum(k - s, 0.0)))


def model_quotes(mid: np.ndarray, spread: SpreadModel) -> tuple[np.ndarray, np.ndarray]:
    """(bid, ask) on the tick grid around ``mid``: bid ≥ 0, ask ≥ one tick, ask > bid."""
    tick = spread.tick
    width = np.clip(spread.base + spread.pct * mid, tick, spread.cap)
    bid = np.maximum(np.floor((mid - width / 2) / tick + 1e-9) * tick, 0.0)
    ask = np.maximum(np.ceil((mid + width / 2) / tick - 1e-9) * tick, bid + tick)
    return np.round(bid, 2), np.round(ask, 2)


def deltas(spot: float, strikes: np.ndarray, T: float, atm: float, model: MarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Call and put deltas across ``strikes`` at one minute (for strike selection by delta)."""
    t = max(T, 1.0 / MINUTES_PER_YEAR)
    sigma = model_sigma(np.array([spot]), strikes, np.array([t]), np.array([atm]), model)[0]
    g = bsm_greeks(np.array([True, False])[:, None], spot, strikes[None, :], t, model.rate, 0.0, sigma[None, :])
    return g["delta"][0], g["delta"][1]
