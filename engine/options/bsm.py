"""European Black–Scholes–Merton prices and Greeks, vectorized (numba kernels, numpy in and out).

Every argument broadcasts (scalars, 1-D chains, 2-D grids); results are float64 arrays of the
broadcast shape. Conventions:

- ``T`` in years of calendar time (ACT/365; one minute is ``1/525600``), see
  :mod:`engine.options.expiry`;
- ``r`` continuously compounded rate, ``q`` continuous dividend yield, ``sigma`` annual vol;
- ``is_call`` a bool or bool array (``True`` call, ``False`` put).

Bad input never raises mid-chain: an element whose ``S``, ``K``, ``T`` or ``sigma`` is not a
positive finite number (or whose ``r``/``q`` is not finite) comes back NaN, its neighbours are
unaffected. Arguments that cannot be broadcast together raise :class:`ValueError` (a programming
error, not a market condition).

Greeks units (:func:`bsm_greeks`): ``delta`` dV/dS, ``gamma`` d²V/dS², ``vega`` dV/dσ per 1.00 of
vol, ``theta`` −dV/dT per year (so the usual negative number for a long option), ``rho`` dV/dr.
For display use :func:`theta_per_day` (÷365) and :func:`vega_per_point` (÷100).

Φ is evaluated through ``erfc``, so deep-tail probabilities keep full relative precision rather
than rounding to 0 or 1.

**Why numba** (measured, 100 000 options of ``benchmarks/options_bench.py``, CPU time on one
core): price + all five Greeks as numpy array code (``scipy.special.ndtr``; ~40 passes over
memory with temporaries) took ≈ 15 ms; one fused numba loop that computes d₁, Φ and φ once per
option and writes all six results takes ≈ 9.5 ms, and spreads over both cores for large inputs.
The two agree to ~1e-14 relative.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from scipy.special import erfc as _erfc

from engine.options.vectorize import broadcast_inputs, run_kernel

__all__ = ["DAYS_PER_YEAR", "MINUTES_PER_YEAR", "broadcast_inputs", "bsm_greeks", "bsm_price",
           "bsm_second_order", "theta_per_day", "vega_per_point"]

_INV_SQRT_2PI = 0.3989422804014327
_SQRT1_2 = 0.7071067811865476
DAYS_PER_YEAR = 365.0
MINUTES_PER_YEAR = 525_600.0
GREEK_NAMES = ("delta", "gamma", "vega", "theta", "rho")


@njit(cache=True, error_model="numpy", inline="always")
def _valid(S, K, T, r, q, sigma):
    return (S > 0.0 and K > 0.0 and T > 0.0 and sigma > 0.0 and math.isfinite(S) and math.isfinite(K)
            and math.isfinite(T) and math.isfinite(sigma) and math.isfinite(r) and math.isfinite(q))


@njit(cache=True, error_model="numpy")
def bsm_price_one(is_call, S, K, T, r, q, sigma):
    """Scalar European price (callable from other numba code); NaN for invalid input."""
    if not _valid(S, K, T, r, q, sigma):
        return math.nan
    th = 1.0 if is_call else -1.0
    vt = sigma * math.sqrt(T)
    d1 = (math.log(S / K) + (r - q) * T) / vt + 0.5 * vt
    d2 = d1 - vt
    price = th * (S * math.exp(-q * T) * 0.5 * math.erfc(-th * d1 * _SQRT1_2)
                  - K * math.exp(-r * T) * 0.5 * math.erfc(-th * d2 * _SQRT1_2))
    return max(price, 0.0)  # rounding can dip a few ulps under zero deep out of the money


@njit(cache=True, error_model="numpy")
def _greeks_one(is_call, S, K, T, r, q, sigma, out, i):
    """Price and Greeks of one option into ``out[0..5, i]`` (price, delta, gamma, vega, theta, rho)."""
    if not _valid(S, K, T, r, q, sigma):
        for j in range(6):
            out[j, i] = math.nan
        return
    th = 1.0 if is_call else -1.0
    sqrt_t = math.sqrt(T)
    vt = sigma * sqrt_t
    d1 = (math.log(S / K) + (r - q) * T) / vt + 0.5 * vt
    d2 = d1 - vt
    dq = math.exp(-q * T)
    dr = math.exp(-r * T)
    pdf = _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1)
    n1 = 0.5 * math.erfc(-th * d1 * _SQRT1_2)
    n2 = 0.5 * math.erfc(-th * d2 * _SQRT1_2)
    out[0, i] = max(th * (S * dq * n1 - K * dr * n2), 0.0)
    out[1, i] = th * dq * n1
    out[2, i] = dq * pdf / (S * vt)
    out[3, i] = S * dq * pdf * sqrt_t
    out[4, i] = -S * dq * pdf * sigma / (2.0 * sqrt_t) + th * (q * S * dq * n1 - r * K * dr * n2)
    out[5, i] = th * K * T * dr * n2


@njit(cache=True, error_model="numpy")
def _price_serial(is_call, S, K, T, r, q, sigma, out):
    for i in range(out.size):
        out[i] = bsm_price_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i])


@njit(cache=True, parallel=True, error_model="numpy")
def _price_parallel(is_call, S, K, T, r, q, sigma, out):
    for i in prange(out.size):
        out[i] = bsm_price_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i])


@njit(cache=True, error_model="numpy")
def _greeks_serial(is_call, S, K, T, r, q, sigma, out):
    for i in range(out.shape[1]):
        _greeks_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i], out, i)


@njit(cache=True, parallel=True, error_model="numpy")
def _greeks_parallel(is_call, S, K, T, r, q, sigma, out):
    for i in prange(out.shape[1]):
        _greeks_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i], out, i)


def bsm_price(is_call, S, K, T, r, q, sigma) -> np.ndarray:
    """European BSM price ``e^{-rT}·θ·(F·Φ(θd1) − K·Φ(θd2))``, θ = +1 call / −1 put.

    ``F = S·e^{(r−q)T}``. NaN where ``S``, ``K``, ``T`` or ``sigma`` is not positive and finite.
    Shape mismatch: :class:`ValueError`.
    """
    return run_kernel(_price_serial, _price_parallel, (is_call, S, K, T, r, q, sigma))


def bsm_price_and_greeks(is_call, S, K, T, r, q, sigma) -> dict[str, np.ndarray]:
    """Price and all Greeks in one pass: :func:`bsm_greeks`' keys plus ``"price"``."""
    res = run_kernel(_greeks_serial, _greeks_parallel, (is_call, S, K, T, r, q, sigma), n_out=6)
    return {"price": res[0]} | {name: res[j + 1] for j, name in enumerate(GREEK_NAMES)}


def bsm_greeks(is_call, S, K, T, r, q, sigma) -> dict[str, np.ndarray]:
    """Analytic BSM Greeks: ``{"delta", "gamma", "vega", "theta", "rho"}``, arrays of one shape.

    ``vega`` per 1.00 of vol, ``theta`` = −dV/dT per year, ``rho`` per 1.00 of rate. NaN where
    ``S``, ``K``, ``T`` or ``sigma`` is not positive and finite. Shape mismatch: :class:`ValueError`.
    """
    res = bsm_price_and_greeks(is_call, S, K, T, r, q, sigma)
    del res["price"]
    return res


def theta_per_day(theta_per_year) -> np.ndarray:
    """Theta per calendar day (what a trader reads on a chain) from theta per year."""
    return np.asarray(theta_per_year, dtype=np.float64) / DAYS_PER_YEAR


def vega_per_point(vega_per_unit) -> np.ndarray:
    """Vega per one vol point (σ 0.15 → 0.16) from vega per 1.00 of vol."""
    return np.asarray(vega_per_unit, dtype=np.float64) / 100.0


def bsm_second_order(is_call, S, K, T, r, q, sigma) -> dict[str, np.ndarray]:
    """Second- and third-order Greeks that drive a 0DTE book through the day (numpy; not hot).

    ``vanna`` ∂Δ/∂σ, ``charm`` ∂Δ/∂t (delta drift per year of calendar time passing: ÷365 for
    per day), ``vomma`` ∂vega/∂σ, ``speed`` ∂Γ/∂S, ``zomma`` ∂Γ/∂σ, ``color`` ∂Γ/∂t (per year).
    Same broadcasting and NaN rules as :func:`bsm_greeks`.
    """
    cp, S, K, T, r, q, sigma = broadcast_inputs(is_call, S, K, T, r, q, sigma)
    ok = (S > 0) & (K > 0) & (T > 0) & (sigma > 0) & np.isfinite(S + K + T + sigma + r + q)
    th = np.where(cp != 0.0, 1.0, -1.0)
    with np.errstate(all="ignore"):
        sqrt_t = np.sqrt(T)
        vt = sigma * sqrt_t
        d1 = (np.log(S / K) + (r - q) * T) / vt + 0.5 * vt
        d2 = d1 - vt
        dq = np.exp(-q * T)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        n1 = 0.5 * _erfc(-th * d1 * _SQRT1_2)
        gamma = dq * pdf / (S * vt)
        vega = S * dq * pdf * sqrt_t
        drift = (2.0 * (r - q) * T - d2 * vt) / (2.0 * T * vt)  # ∂d1/∂T
        out = {
            "vanna": -dq * pdf * d2 / sigma,
            "charm": th * q * dq * n1 - dq * pdf * drift,
            "vomma": vega * d1 * d2 / sigma,
            "speed": -gamma / S * (d1 / vt + 1.0),
            "zomma": gamma * (d1 * d2 - 1.0) / sigma,
            "color": dq * pdf / (2.0 * S * T * vt) * (2.0 * q * T + 1.0 + d1 * (2.0 * (r - q) * T - d2 * vt) / vt),
        }
    return {k: np.where(ok, v, np.nan) for k, v in out.items()}
