"""Signal generators as pure functions of PAST arrays (numpy), shared by live and backtest use.

Every function takes arrays that end at the decision minute (the caller slices ``[: i + 1]``;
nothing here can see later data) and returns a :class:`~engine.signals.types.Signal` or ``None``
when there is not enough data yet. Thresholds are keyword arguments with trader-usual defaults.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from engine.signals.types import Signal

MINUTE_ANNUAL = np.sqrt(252.0 * 390.0)


def _returns(close: np.ndarray) -> np.ndarray:
    c = np.asarray(close, dtype=float)
    return np.diff(np.log(c)) if c.size > 1 else np.zeros(0)


def opening_range_breakout(symbol: str, ts: datetime, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                           *, minutes: int = 30) -> Signal | None:
    """Close beyond the first ``minutes`` of the session's range: long above, short below.

    strength = distance past the range edge in range widths (1 width = 1.0); confidence = share
    of the bars since the range formed that closed on the breakout side (persistence).
    """
    n = len(close)
    if n <= minutes:
        return None
    hi, lo = float(np.max(high[:minutes])), float(np.min(low[:minutes]))
    width = max(hi - lo, 1e-9)
    c = float(close[-1])
    after = np.asarray(close[minutes:], dtype=float)
    values = {"range_high": hi, "range_low": lo, "close": c}
    if c > hi:
        return Signal("opening_range_breakout", symbol, "long", (c - hi) / width, float(np.mean(after > hi)),
                      [f"close {c:.2f} above the {minutes}-minute opening range high {hi:.2f}"], ts, values=values)
    if c < lo:
        return Signal("opening_range_breakout", symbol, "short", (lo - c) / width, float(np.mean(after < lo)),
                      [f"close {c:.2f} below the {minutes}-minute opening range low {lo:.2f}"], ts, values=values)
    return Signal("opening_range_breakout", symbol, "neutral", 0.0, float(np.mean((after <= hi) & (after >= lo))),
                  [f"inside the {minutes}-minute opening range {lo:.2f}-{hi:.2f}"], ts, values=values)


def vwap_deviation(symbol: str, ts: datetime, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                   volume: np.ndarray, *, z_trigger: float = 2.0, min_bars: int = 15) -> Signal | None:
    """Session VWAP and the close's deviation from it in standard deviations of that deviation.

    A stretch beyond ``z_trigger`` is a mean-reversion idea (above VWAP → short, below → long);
    strength = |z| / (2·z_trigger); confidence grows with bars seen (full at 120).
    """
    n = len(close)
    if n < min_bars:
        return None
    typical = (np.asarray(high) + np.asarray(low) + np.asarray(close)) / 3.0
    vol = np.maximum(np.asarray(volume, dtype=float), 0.0)
    if vol.sum() <= 0:
        vol = np.ones(n)
    vwap = np.cumsum(typical * vol) / np.maximum(np.cumsum(vol), 1e-12)
    dev = np.asarray(close, dtype=float) - vwap
    sd = float(np.std(dev))
    z = float(dev[-1] / sd) if sd > 0 else 0.0
    values = {"vwap": float(vwap[-1]), "z": z}
    conf = min(1.0, n / 120.0)
    if abs(z) >= z_trigger:
        d = "short" if z > 0 else "long"
        return Signal("vwap_deviation", symbol, d, abs(z) / (2 * z_trigger), conf,
                      [f"close {z:+.1f} sd from VWAP {vwap[-1]:.2f}: stretched, reversion favours {d}"], ts,
                      values=values)
    return Signal("vwap_deviation", symbol, "neutral", abs(z) / (2 * z_trigger), conf,
                  [f"close {z:+.1f} sd from VWAP {vwap[-1]:.2f}"], ts, values=values)


def momentum(symbol: str, ts: datetime, close: np.ndarray, *, lookback: int = 30, z_trigger: float = 1.0) -> Signal | None:
    """Return over ``lookback`` minutes in units of its expected size (minute vol × √lookback)."""
    c = np.asarray(close, dtype=float)
    if c.size <= lookback + 10:
        return None
    r = _returns(c)
    sd = float(np.std(r))
    move = float(np.log(c[-1] / c[-1 - lookback]))
    z = move / (sd * np.sqrt(lookback)) if sd > 0 else 0.0
    # confidence: agreement of the shorter half of the window with the whole
    half = float(np.log(c[-1] / c[-1 - lookback // 2]))
    conf = 0.5 + 0.5 * float(np.sign(half) == np.sign(move) and move != 0)
    d = "long" if z >= z_trigger else "short" if z <= -z_trigger else "neutral"
    return Signal("momentum", symbol, d, abs(z) / 3.0, conf,
                  [f"{lookback}-minute move {move * 100:+.2f}% = {z:+.1f} sd"], ts, values={"z": z, "move": move})


def realized_vol(close: np.ndarray, *, window: int | None = None) -> float:
    """Annualized vol of minute log returns (the last ``window`` returns; NaN if under 10)."""
    r = _returns(close)
    if window is not None:
        r = r[-window:]
    if r.size < 10:
        return float("nan")
    return float(np.sqrt(np.mean(r * r)) * MINUTE_ANNUAL)


def iv_rank(symbol: str, ts: datetime, iv_now: float, iv_history: np.ndarray, *, high: float = 0.7,
            low: float = 0.3) -> Signal | None:
    """IV rank ((now − min)/(max − min)) and percentile over a history of past IV readings.

    Rank above ``high`` → premium rich (volatility, short); below ``low`` → cheap (long).
    confidence = history length / 252 sessions.
    """
    h = np.asarray(iv_history, dtype=float)
    h = h[np.isfinite(h)]
    if h.size < 20 or not np.isfinite(iv_now):
        return None
    lo, hi = float(h.min()), float(h.max())
    rank = (iv_now - lo) / (hi - lo) if hi > lo else 0.5
    rank = min(max(rank, 0.0), 1.0)
    pct = float(np.mean(h < iv_now))
    d = "short" if rank >= high else "long" if rank <= low else "neutral"
    strength = (rank - high) / (1 - high) if d == "short" else (low - rank) / low if d == "long" else 0.0
    return Signal("iv_rank", symbol, d, strength, min(1.0, h.size / 252.0),
                  [f"IV {iv_now:.1%}: rank {rank:.0%}, percentile {pct:.0%} of {h.size} readings"], ts,
                  kind="volatility", values={"iv": iv_now, "rank": rank, "percentile": pct})


def iv_rv_spread(symbol: str, ts: datetime, iv_now: float, close: np.ndarray, *, window: int = 390,
                 trigger: float = 0.03) -> Signal | None:
    """Implied minus realized vol (past ``window`` minutes): rich premium when IV exceeds RV by ``trigger``."""
    rv = realized_vol(close, window=window)
    if not (np.isfinite(rv) and np.isfinite(iv_now)):
        return None
    spread = iv_now - rv
    d = "short" if spread >= trigger else "long" if spread <= -trigger else "neutral"
    n = min(len(close) - 1, window)
    return Signal("iv_rv_spread", symbol, d, abs(spread) / (3 * trigger), min(1.0, n / window),
                  [f"IV {iv_now:.1%} vs realized {rv:.1%} over {n} minutes: spread {spread * 100:+.1f} pts"], ts,
                  kind="volatility", values={"iv": iv_now, "rv": rv, "spread": spread})


VIX_REGIMES = ((15.0, "low"), (20.0, "normal"), (30.0, "elevated"), (float("inf"), "high"))


def vix_regime(ts: datetime, vix_now: float, vix_history: np.ndarray | None = None, *,
               underlying: str = "VIX") -> Signal | None:
    """VIX level regime (low < 15 ≤ normal < 20 ≤ elevated < 30 ≤ high) and its intraday trend.

    Direction is about premium: high/elevated regimes favour selling it (rich), low favours buying.
    strength = position within the VIX history (percentile) when given, else level/40.
    """
    if not np.isfinite(vix_now):
        return None
    regime = next(name for edge, name in VIX_REGIMES if vix_now < edge)
    h = None if vix_history is None else np.asarray(vix_history, dtype=float)
    h = None if h is None else h[np.isfinite(h)]
    pct = float(np.mean(h < vix_now)) if h is not None and h.size else min(vix_now / 40.0, 1.0)
    d = "short" if regime in ("elevated", "high") else "long" if regime == "low" else "neutral"
    return Signal("vix_regime", underlying, d, pct, 1.0 if h is not None and h.size >= 20 else 0.5,
                  [f"VIX {vix_now:.2f}: {regime} regime"], ts, kind="regime",
                  values={"vix": vix_now, "percentile": pct})


def rolling_correlation(returns: np.ndarray, window: int) -> np.ndarray:
    """Correlation matrix of the last ``window`` rows of a (minutes × tickers) return array."""
    r = np.asarray(returns, dtype=float)[-window:]
    r = r[np.isfinite(r).all(axis=1)]
    if r.shape[0] < 3:
        return np.full((returns.shape[1], returns.shape[1]), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(r, rowvar=False)


def correlation_breakdown(ts: datetime, tickers: list[str], closes: np.ndarray, *, window: int = 30,
                          baseline: int = 390, drop: float = 0.3) -> Signal | None:
    """Rolling correlation of index ETFs (columns of ``closes``) and its breakdown.

    Breakdown: the mean pairwise correlation over the last ``window`` minutes falls ``drop`` below
    its ``baseline``-minute level — index ETFs decoupling (rotation, single-index news), a warning
    for structures that assume they move together.
    """
    c = np.asarray(closes, dtype=float)
    if c.shape[0] < window + 2:
        return None
    r = np.diff(np.log(c), axis=0)
    iu = np.triu_indices(c.shape[1], 1)
    short = float(np.nanmean(rolling_correlation(r, window)[iu]))
    long_ = float(np.nanmean(rolling_correlation(r, baseline)[iu]))
    gap = long_ - short
    broken = gap >= drop
    return Signal("correlation", "/".join(tickers), "neutral", max(gap, 0.0) / (2 * drop),
                  min(1.0, r.shape[0] / baseline),
                  [f"mean {window}-minute correlation {short:.2f} vs {long_:.2f} baseline"
                   + (": BREAKDOWN" if broken else "")], ts, kind="regime",
                  values={"short": short, "baseline": long_, "gap": gap, "breakdown": float(broken)})
