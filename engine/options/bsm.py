"""European Black–Scholes–Merton prices and Greeks, vectorized over numpy arrays.

Every argument broadcasts (scalars, 1-D chains, 2-D grids); results are float64 arrays of the
broadcast shape. Conventions:

- ``T`` in years of calendar time (ACT/365; one minute is ``1/525600``), see
  :mod:`engine.options.expiry`;
- ``r`` continuously compounded rate, ``q`` continuous dividend yield, ``sigma`` annual vol;
- ``is_call`` a bool or bool array (``True`` call, ``False`` put).

Bad input never raises mid-chain: an element whose ``S``, ``K``, ``T`` or ``sigma`` is not a
positive finite number comes back NaN, its neighbours are unaffected. Arguments that cannot be
broadcast together raise :class:`ValueError` (a programming error, not a market condition).

Greeks units (:func:`bsm_greeks`): ``delta`` dV/dS, ``gamma`` d²V/dS², ``vega`` dV/dσ per 1.00 of
vol, ``theta`` −dV/dT per year (so the usual negative number for a long option), ``rho`` dV/dr.
For display use :func:`theta_per_day` (÷365) and :func:`vega_per_point` (÷100).

Φ is ``scipy.special.ndtr`` (erfc-based, so deep-tail probabilities keep full relative precision
rather than rounding to 0 or 1).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 0.3989422804014327
DAYS_PER_YEAR = 365.0
MINUTES_PER_YEAR = 525_600.0


def broadcast_inputs(*args: object) -> tuple[np.ndarray, ...]:
    """Float64 arrays of one broadcast shape; :class:`ValueError` naming the shapes if impossible."""
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    try:
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"option inputs cannot be broadcast together: shapes {shapes}") from None


def _positive(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(arrays[0].shape, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a) & (a > 0.0)
    return ok


def _d1_d2(S, K, T, r, q, sigma):
    vt = sigma * np.sqrt(T)
    d1 = (np.log(S / K) + (r - q) * T) / vt + 0.5 * vt
    return d1, d1 - vt


def bsm_price(is_call, S, K, T, r, q, sigma) -> np.ndarray:
    """European BSM price ``e^{-rT}·θ·(F·Φ(θd1) − K·Φ(θd2))``, θ = +1 call / −1 put.

    ``F = S·e^{(r−q)T}``. NaN where ``S``, ``K``, ``T`` or ``sigma`` is not positive and finite.
    Shape mismatch: :class:`ValueError`.
    """
    cp, S, K, T, r, q, sigma = broadcast_inputs(is_call, S, K, T, r, q, sigma)
    theta = np.where(cp != 0.0, 1.0, -1.0)
    ok = _positive(S, K, T, sigma)
    with np.errstate(all="ignore"):
        d1, d2 = _d1_d2(S, K, T, r, q, sigma)
        price = theta * (S * np.exp(-q * T) * ndtr(theta * d1) - K * np.exp(-r * T) * ndtr(theta * d2))
    # Rounding can push a price a few ulps under zero deep out of the money.
    return np.where(ok, np.maximum(price, 0.0), np.nan)


def bsm_greeks(is_call, S, K, T, r, q, sigma) -> dict[str, np.ndarray]:
    """Analytic BSM Greeks: ``{"delta", "gamma", "vega", "theta", "rho"}``, arrays of one shape.

    ``vega`` per 1.00 of vol, ``theta`` = −dV/dT per year, ``rho`` per 1.00 of rate. NaN where
    ``S``, ``K``, ``T`` or ``sigma`` is not positive and finite. Shape mismatch: :class:`ValueError`.
    """
    cp, S, K, T, r, q, sigma = broadcast_inputs(is_call, S, K, T, r, q, sigma)
    theta_sign = np.where(cp != 0.0, 1.0, -1.0)
    ok = _positive(S, K, T, sigma)
    with np.errstate(all="ignore"):
        sqrt_t = np.sqrt(T)
        d1, d2 = _d1_d2(S, K, T, r, q, sigma)
        dq = np.exp(-q * T)
        dr = np.exp(-r * T)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        n1 = ndtr(theta_sign * d1)
        n2 = ndtr(theta_sign * d2)
        delta = theta_sign * dq * n1
        gamma = dq * pdf / (S * sigma * sqrt_t)
        vega = S * dq * pdf * sqrt_t
        theta = (-S * dq * pdf * sigma / (2.0 * sqrt_t)
                 + theta_sign * (q * S * dq * n1 - r * K * dr * n2))
        rho = theta_sign * K * T * dr * n2
    nan = np.nan
    return {
        "delta": np.where(ok, delta, nan),
        "gamma": np.where(ok, gamma, nan),
        "vega": np.where(ok, vega, nan),
        "theta": np.where(ok, theta, nan),
        "rho": np.where(ok, rho, nan),
    }


def theta_per_day(theta_per_year) -> np.ndarray:
    """Theta per calendar day (what a trader reads on a chain) from theta per year."""
    return np.asarray(theta_per_year, dtype=np.float64) / DAYS_PER_YEAR


def vega_per_point(vega_per_unit) -> np.ndarray:
    """Vega per one vol point (σ 0.15 → 0.16) from vega per 1.00 of vol."""
    return np.asarray(vega_per_unit, dtype=np.float64) / 100.0
