"""Payoff at expiry, max profit and loss, breakevens and margin of a :class:`Structure`.

All amounts are in dollars for ``quantity`` units (contract multiplier 100). The expiry payoff of
single-expiry structures is piecewise linear with kinks at the strikes, so extremes are exact:
the payoff is evaluated at 0, every strike and the slope beyond the last strike (a positive slope
means unlimited profit, a negative one unlimited loss, reported as ``None``). Calendars hold a
leg beyond the front expiry, valued with Black-Scholes at the front expiry at a given vol; their
extremes come from a dense grid.

Margin follows the Cboe/Reg-T strategy-based rules a US broker applies to a cash/margin account:
long premium is paid in full; defined-risk spreads (verticals, condors, butterflies) need their
maximum loss; a naked short option needs premium + max(20% of spot − OTM amount, 10% of strike
(put) or of spot (call)); a short straddle/strangle needs the larger side's naked requirement plus
the other side's premium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from engine.core.money import cents
from engine.strategies.legs import MULTIPLIER, Structure


@dataclass(frozen=True)
class Payoff:
    """Payoff summary of one structure at the entry prices (dollars, ``quantity`` units)."""

    structure: Structure
    quantity: int
    net_premium: float  # per share: > 0 paid (debit), < 0 received (credit)
    spots: np.ndarray
    pnl: np.ndarray  # P&L at front expiry over ``spots``
    max_profit: float | None  # None = unlimited
    max_loss: float | None  # positive number; None = unlimited
    breakevens: list[float]
    margin: float
    spot: float | None = None
    # flat copies for consumers that read fields (tools, JSON): filled from ``structure``
    strategy: str = field(default="", init=False)
    underlying: str = field(default="", init=False)
    legs: list[dict] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", self.structure.name)
        object.__setattr__(self, "underlying", self.structure.underlying)
        object.__setattr__(self, "legs", self.structure.describe())

    @property
    def is_credit(self) -> bool:
        return self.net_premium < 0

    def to_dict(self) -> dict:
        def money(x: float | None) -> Decimal | None:
            return None if x is None else cents(x)
        return {"strategy": self.structure.name, "underlying": self.structure.underlying,
                "legs": self.legs, "quantity": self.quantity, "spot": self.spot,
                "net_premium": round(self.net_premium, 4), "credit": self.is_credit,
                "max_profit": money(self.max_profit), "max_loss": money(self.max_loss),
                "breakevens": [round(b, 2) for b in self.breakevens], "margin": money(self.margin),
                "curve": [{"spot": round(float(s), 2), "pnl": round(float(p), 2)}
                          for s, p in zip(self.spots[::4], self.pnl[::4], strict=True)]}


def intrinsic(is_call: np.ndarray, strikes: np.ndarray, spot: np.ndarray | float) -> np.ndarray:
    """Intrinsic values, broadcast: ``spot`` (n,) against legs (m,) gives (n, m)."""
    s = np.asarray(spot, dtype=float)[..., None]
    return np.where(is_call, np.maximum(s - strikes, 0.0), np.maximum(strikes - s, 0.0))


def expiry_value(structure: Structure, spots: np.ndarray, *, far_vol: float = 0.15, rate: float = 0.0,
                 far_years: np.ndarray | None = None) -> np.ndarray:
    """Per-share value of one unit at the front expiry for each spot in ``spots``.

    Legs expiring after the front expiry are valued with Black-Scholes at ``far_vol`` with
    ``far_years`` left (per leg; default: calendar days between the expiries / 365).
    """
    spots = np.asarray(spots, dtype=float)
    k, c, q = structure.strikes, structure.is_call, structure.qty
    value = intrinsic(c, k, spots)
    front = structure.front_expiry
    later = np.array([leg.expiry is not None and front is not None and leg.expiry > front
                      for leg in structure.legs])
    if later.any():
        from engine.options import bsm_price

        if far_years is None:
            far_years = np.array([((leg.expiry - front).days / 365.0) if is_later else 0.0
                                  for leg, is_later in zip(structure.legs, later, strict=True)])
        theo = bsm_price(c[later], spots[:, None], k[later], far_years[later], rate, 0.0, far_vol)
        value[:, later] = theo
    return value @ q


def _spot_grid(structure: Structure, spot: float | None, n: int = 401) -> np.ndarray:
    k = structure.strikes
    center = spot if spot is not None else float(k.mean())
    lo, hi = min(k.min(), center), max(k.max(), center)
    pad = max(0.05 * center, (hi - lo) * 0.6, 1.0)
    return np.linspace(max(lo - pad, 0.0), hi + pad, n)


def _breakevens(xs: np.ndarray, ys: np.ndarray) -> list[float]:
    """Spots where P&L crosses zero (linear between points). A flat stretch of exactly zero P&L
    reports the edges where it meets a profit or a loss, not every point of it."""
    out: list[float] = []
    zero = ys == 0.0
    i, n = 0, len(xs)
    while i < n:
        if zero[i]:
            j = i
            while j + 1 < n and zero[j + 1]:
                j += 1
            edges = {i} if i == j else ({i} if i > 0 else set()) | ({j} if j < n - 1 else set())
            out.extend(float(xs[e]) for e in sorted(edges))
            i = j + 1
            continue
        if i + 1 < n and not zero[i + 1] and ys[i] * ys[i + 1] < 0:
            out.append(float(xs[i] - ys[i] * (xs[i + 1] - xs[i]) / (ys[i + 1] - ys[i])))
        i += 1
    return out


def margin_requirement(structure: Structure, prices: np.ndarray, spot: float,
                       max_loss_per_share: float | None) -> float:
    """Per-unit margin in dollars under strategy-based (Reg-T/Cboe) rules; see module doc."""
    q, k, c = structure.qty, structure.strikes, structure.is_call
    prices = np.asarray(prices, dtype=float)
    premium = float(np.dot(q, prices))
    if (q > 0).all() or structure.is_calendar:
        return max(premium, 0.0) * MULTIPLIER  # long premium / calendar debit, paid in full
    covered = all(q[(q > 0) & (c == is_c)].sum() >= -q[(q < 0) & (c == is_c)].sum() for is_c in (True, False))
    if covered and max_loss_per_share is not None:
        return max_loss_per_share * MULTIPLIER  # defined risk (every short leg has a long wing)
    naked = []
    for i in np.flatnonzero(q < 0):
        otm = max(k[i] - spot, 0.0) if c[i] else max(spot - k[i], 0.0)
        floor = 0.10 * (spot if c[i] else k[i])
        naked.append((max(0.20 * spot - otm, floor) + prices[i]) * -q[i])
    shorts = np.flatnonzero(q < 0)
    if len(shorts) == 2 and c[shorts].any() and not c[shorts].all():
        # short straddle/strangle: the larger side's requirement plus the other side's premium
        other = min(range(2), key=lambda j: naked[j])
        return (max(naked) + prices[shorts[other]] * -q[shorts[other]]) * MULTIPLIER
    return float(sum(naked)) * MULTIPLIER


def payoff(structure: Structure, prices: np.ndarray, *, quantity: int = 1, spot: float | None = None,
           far_vol: float = 0.15, rate: float = 0.0) -> Payoff:
    """Payoff of ``quantity`` units bought/sold at per-share leg ``prices`` (mid or fills)."""
    prices = np.asarray(prices, dtype=float)
    if prices.shape != (len(structure.legs),):
        raise ValueError(f"need one price per leg ({len(structure.legs)}), got shape {prices.shape}")
    net = structure.net_premium(prices)
    scale = MULTIPLIER * quantity
    spots = _spot_grid(structure, spot)
    pnl_share = expiry_value(structure, spots, far_vol=far_vol, rate=rate) - net
    if structure.is_calendar:
        # far tails (spot near 0 and far above): where both legs are worth their intrinsic parity
        tails = expiry_value(structure, np.array([1e-6, structure.strikes.max() * 10]), far_vol=far_vol,
                             rate=rate) - net
        mx, mn = float(max(pnl_share.max(), tails.max())), float(min(pnl_share.min(), tails.min()))
        max_profit, max_loss_share = mx, max(-mn, 0.0)
        be = _breakevens(spots, pnl_share)
    else:
        kinks = np.unique(np.concatenate([[0.0], structure.strikes]))
        at_kinks = expiry_value(structure, kinks) - net
        slope_up = float(structure.qty[structure.is_call].sum())  # payoff slope beyond last strike
        max_profit = None if slope_up > 0 else float(at_kinks.max())
        max_loss_share = None if slope_up < 0 else max(-float(at_kinks.min()), 0.0)
        far = kinks[-1] + max(kinks[-1], 1.0)
        xs = np.append(kinks, far)
        be = _breakevens(xs, np.append(at_kinks, expiry_value(structure, np.array([far]))[0] - net))
    margin = margin_requirement(structure, prices, spot if spot is not None else float(spots.mean()),
                                max_loss_share) * quantity
    return Payoff(structure, quantity, net, spots, pnl_share * scale,
                  None if max_profit is None else max_profit * scale,
                  None if max_loss_share is None else max_loss_share * scale, be, margin, spot)
