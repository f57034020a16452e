"""Calibration of the modeled option market (skew and bid/ask spread) on a real chain snapshot.

The modeled prices of the backtester (see :mod:`engine.backtest.pricing`) need two shapes that a
VIX level does not give: how IV bends away from the money (skew), and how wide quotes are.
Both are fitted here on Cboe's delayed "quote data" download of a full SPY chain (the layout of
``shared/data/cboe-spy-chain/spy_quotedata_2025-05-16.csv``):

- **Skew** in standardized moneyness ``x = ln(K/F) / (σ_atm √T)``: ``iv/σ_atm = 1 + a·x + b·x²``,
  least squares over out-of-the-money quotes (puts below the forward, calls above) with
  ``|x| ≤ 3`` of the short expiries (1–10 days; the 0DTE rows of an after-close snapshot carry no
  IV). Standardizing by ``σ√T`` makes one curve serve 0DTE and weekly options alike.
- **Spread**: ``ask − bid = c + d·mid`` by least squares over two-sided quotes with
  ``mid ≤ 5`` of the same short expiries (the premiums a 0DTE structure trades at), i.e. a fixed part (the penny tick and market-maker minimum) plus a part that
  grows with premium.
- **Spot**: derived by put–call parity (the header's "Last" is stale in that file).

The fitted numbers are frozen as :data:`DEFAULT_SKEW` / :data:`DEFAULT_SPREAD` so a backtest
does not need the file; a unit test re-runs the calibration and checks they still agree.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from engine.core.clock import NY
from engine.core.errors import InvalidInput


@dataclass(frozen=True)
class SkewModel:
    """``iv(K) = σ_atm · clip(1 + slope·x + curve·x², lo, hi)`` with ``x = ln(K/F)/(σ_atm√T)``."""

    slope: float
    curve: float
    lo: float = 0.55
    hi: float = 3.0

    def factor(self, x: np.ndarray) -> np.ndarray:
        return np.clip(1.0 + self.slope * x + self.curve * x * x, self.lo, self.hi)


@dataclass(frozen=True)
class SpreadModel:
    """``ask − bid = clip(base + pct·mid, tick, cap)``, quotes on a ``tick`` grid, bid ≥ 0."""

    base: float
    pct: float
    tick: float = 0.01
    cap: float = 1.0


# Fitted by calibrate_file() on shared/data/cboe-spy-chain/spy_quotedata_2025-05-16.csv.
DEFAULT_SKEW = SkewModel(slope=-0.0766, curve=0.0316)
DEFAULT_SPREAD = SpreadModel(base=0.01, pct=0.0254)


@dataclass(frozen=True)
class ChainRows:
    """The parsed snapshot: one row per (expiry, strike) with call and put quotes and IV."""

    stamp: datetime
    expiry: np.ndarray  # datetime64[D]
    strike: np.ndarray
    call_bid: np.ndarray
    call_ask: np.ndarray
    call_iv: np.ndarray
    put_bid: np.ndarray
    put_ask: np.ndarray
    put_iv: np.ndarray


def read_cboe_quotedata(path: str | Path) -> ChainRows:
    """Parse Cboe's side-by-side quote-data CSV (calls left, puts right, expiry like 'Fri May 16 2025')."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    stamp_cell = next((c for row in lines[:4] for c in row if c.startswith("Date:")), None)
    if stamp_cell is None:
        raise InvalidInput(f"{path}: no 'Date:' stamp line; not a Cboe quote-data file", field="path")
    m = re.search(r"Date: (\w+ \d+, \d{4}) at (\d+:\d+ [AP]M)", stamp_cell)
    stamp = datetime.strptime(f"{m.group(1)} {m.group(2)}", "%B %d, %Y %I:%M %p").replace(tzinfo=NY)
    header = next(i for i, row in enumerate(lines) if row and row[0] == "Expiration Date")
    rows = [r for r in lines[header + 1:] if len(r) >= 22]
    col = lambda i: np.array([float(r[i] or "nan") for r in rows])  # noqa: E731
    expiry = np.array([datetime.strptime(r[0], "%a %b %d %Y").date() for r in rows], dtype="datetime64[D]")
    return ChainRows(stamp, expiry, col(11), col(4), col(5), col(7), col(15), col(16), col(18))


def parity_forward(strike: np.ndarray, call_mid: np.ndarray, put_mid: np.ndarray) -> float:
    """Forward from put–call parity over the strikes where both sides are two-sided."""
    ok = np.isfinite(call_mid) & np.isfinite(put_mid) & (call_mid > 0) & (put_mid > 0)
    f = strike[ok] + call_mid[ok] - put_mid[ok]
    atm = np.argsort(np.abs(call_mid[ok] - put_mid[ok]))[:6]  # near-ATM: least model error
    return float(np.median(f[atm]))


def _expiry_years(stamp: datetime, expiry: date) -> float:
    from engine.options.expiry import time_to_expiry

    return time_to_expiry(stamp, expiry)


def calibrate(chain: ChainRows, *, max_days: int = 10) -> tuple[SkewModel, SpreadModel]:
    """Fit :class:`SkewModel` and :class:`SpreadModel` on ``chain`` (see module doc)."""
    xs, ys = [], []
    for exp in np.unique(chain.expiry):
        day = exp.astype(date)
        if not 0 < (day - chain.stamp.date()).days <= max_days:
            continue
        sel = chain.expiry == exp
        k = chain.strike[sel]
        cm = (chain.call_bid[sel] + chain.call_ask[sel]) / 2
        pm = (chain.put_bid[sel] + chain.put_ask[sel]) / 2
        fwd = parity_forward(k, cm, pm)
        t = _expiry_years(chain.stamp, day)
        iv = np.where(k < fwd, chain.put_iv[sel], chain.call_iv[sel])
        good = np.isfinite(iv) & (iv > 0.01)
        if good.sum() < 10:
            continue
        atm = float(np.interp(np.log(fwd), np.log(k[good]), iv[good]))
        x = np.log(k[good] / fwd) / (atm * np.sqrt(t))
        keep = np.abs(x) <= 3.0
        xs.append(x[keep])
        ys.append(iv[good][keep] / atm - 1.0)
    if not xs:
        raise InvalidInput("no short expiry with implied vols to calibrate the skew on", field="path")
    x, y = np.concatenate(xs), np.concatenate(ys)
    slope, curve = np.linalg.lstsq(np.column_stack([x, x * x]), y, rcond=None)[0]
    near = (chain.expiry - np.datetime64(chain.stamp.date(), "D")).astype(int) <= max_days
    bids = np.concatenate([chain.call_bid[near], chain.put_bid[near]])
    asks = np.concatenate([chain.call_ask[near], chain.put_ask[near]])
    two = (bids > 0) & (asks > bids) & ((bids + asks) / 2 <= 5.0)
    mid = (bids[two] + asks[two]) / 2
    base, pct = np.linalg.lstsq(np.column_stack([np.ones_like(mid), mid]), asks[two] - bids[two], rcond=None)[0]
    return (SkewModel(round(float(slope), 4), round(float(curve), 4)),
            SpreadModel(round(max(float(base), 0.01), 4), round(max(float(pct), 0.0), 4)))


def calibrate_file(path: str | Path) -> tuple[SkewModel, SpreadModel]:
    return calibrate(read_cboe_quotedata(path))
