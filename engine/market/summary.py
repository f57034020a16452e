"""``MarketSummary``: what happened in one session — range, realized vol, IV change, VIX.

Answers questions like "what happened to SPY volatility yesterday?" from minute bars (any feed
that has history) and, where the feed can price past chains (the simulator), the 30-day ATM
implied volatility at that session's close and at the previous close.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from engine.core.marketdata import Bar

MINUTES_PER_YEAR_TRADING = 390.0 * 252.0


@dataclass(frozen=True, slots=True)
class MarketSummary:
    """One symbol's session. Prices in the symbol's units; vols and changes as decimals.

    ``realized_vol`` annualizes one-minute log returns (√(390·252)), ``realized_vol_prev`` the
    same for the session before; ``atm_iv`` is the ATM
    implied vol ~30 calendar days out at the close (None where the feed cannot price it);
    ``partial`` is True while the session is still in progress (numbers up to ``as_of``).
    """

    symbol: str
    date: date
    open: float
    high: float
    low: float
    close: float
    prev_close: float | None
    change: float | None
    change_pct: float | None
    range: float
    range_pct: float | None
    realized_vol: float | None
    volume: int
    realized_vol_prev: float | None = None
    atm_iv: float | None = None
    atm_iv_prev: float | None = None
    iv_change: float | None = None
    vix: float | None = None
    vix_prev: float | None = None
    vix_change: float | None = None
    partial: bool = False
    as_of: str | None = None
    source: str = "sim"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def realized_vol(closes: np.ndarray) -> float | None:
    """Annualized vol of consecutive one-minute closes (None with fewer than 3 bars)."""
    c = np.asarray(closes, dtype=np.float64)
    if len(c) < 3:
        return None
    r = np.diff(np.log(c))
    return float(np.sqrt(np.mean(r * r) * MINUTES_PER_YEAR_TRADING))


def from_bars(symbol: str, day: date, bars: list[Bar], prev_close: float | None, **kw) -> MarketSummary:
    """Summary of ``bars`` (one session's minutes); ``kw`` carries IV/VIX fields."""
    o, c = bars[0].open, bars[-1].close
    hi, lo = max(b.high for b in bars), min(b.low for b in bars)

    def pct(x: float | None) -> float | None:
        return None if x is None or not prev_close else x / prev_close

    change = None if prev_close is None else c - prev_close
    iv, iv_prev = kw.get("atm_iv"), kw.get("atm_iv_prev")
    vix, vix_prev = kw.get("vix"), kw.get("vix_prev")
    return MarketSummary(
        symbol=symbol, date=day, open=o, high=hi, low=lo, close=c, prev_close=prev_close,
        change=_r(change), change_pct=_r(pct(change), 6), range=_r(hi - lo), range_pct=_r(pct(hi - lo), 6),
        realized_vol=_r(realized_vol(np.array([bars[0].open] + [b.close for b in bars])), 6),
        volume=int(sum(b.volume for b in bars)),
        realized_vol_prev=_r(kw.get("realized_vol_prev"), 6),
        atm_iv=_r(iv, 6), atm_iv_prev=_r(iv_prev, 6),
        iv_change=_r(iv - iv_prev, 6) if iv is not None and iv_prev is not None else None,
        vix=_r(vix), vix_prev=_r(vix_prev),
        vix_change=_r(vix - vix_prev) if vix is not None and vix_prev is not None else None,
        partial=bool(kw.get("partial", False)), as_of=kw.get("as_of"), source=kw.get("source", "sim"),
        extra=kw.get("extra", {}))


def _r(x: float | None, nd: int = 4) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return round(float(x), nd)
