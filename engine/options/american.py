"""American option prices: Bjerksund–Stensland (2002), vectorized in numba.

SPY, QQQ and IWM options are American. Early exercise is worth something for deep in-the-money
puts (rates above the dividend yield) and for calls just before an ex-dividend date; for a 0DTE
option it is worth far less than a tick, so chains and IVs use the European formulas and this
module serves longer expiries, risk and the checks that justify that choice. It treats the
dividend as a continuous yield; for a cash dividend ahead (SPY's quarterly ex-date) use
:func:`engine.options.tree.american_price_tree`.

Method: P. Bjerksund and G. Stensland, "Closed form valuation of American options" (2002) — the
exercise boundary approximated by two flat pieces split at ``t₁ = ½(√5 − 1)T``, priced in closed
form with univariate and bivariate normal probabilities (:mod:`engine.options.bivariate`). Puts use
the put–call transformation ``P(S, K, T, r, b, σ) = C(K, S, T, r − b, −b, σ)`` with carry
``b = r − q``. A call with ``q ≤ 0`` (or a put with ``r ≤ 0``) is never exercised early and gets the
European price. The approximation is a lower bound accurate to a few cents per $100 strike at long
maturities and far closer for short ones; ``tests/unit/options/test_american.py`` checks it against
QuantLib's ``BjerksundStenslandApproximationEngine`` and a finite-difference engine.

Same argument and bad-input rules as :func:`engine.options.bsm.bsm_price`; the result never falls
below intrinsic value ``max(θ(S − K), 0)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.options.bivariate import bvn_cdf, norm_cdf
from engine.options.bsm import bsm_price
from engine.options.iv import implied_vol_one
from engine.options.vectorize import run_kernel

_T1_FRACTION = 0.5 * (math.sqrt(5.0) - 1.0)


@njit(cache=True, error_model="numpy")
def _black(S, K, T, r, b, v, is_call):
    """Generalised Black–Scholes with carry b."""
    vt = v * math.sqrt(T)
    d1 = (math.log(S / K) + (b + 0.5 * v * v) * T) / vt
    d2 = d1 - vt
    if is_call:
        return S * math.exp((b - r) * T) * norm_cdf(d1) - K * math.exp(-r * T) * norm_cdf(d2)
    return K * math.exp(-r * T) * norm_cdf(-d2) - S * math.exp((b - r) * T) * norm_cdf(-d1)


@njit(cache=True, error_model="numpy")
def _phi(S, T, gamma, H, barrier, r, b, v, ref):
    """BS φ-function divided by ``ref^γ`` (so ``S^γ`` with a large γ = β cannot overflow)."""
    vt = v * math.sqrt(T)
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v * v) * T
    d = -(math.log(S / H) + (b + (gamma - 0.5) * v * v) * T) / vt
    kappa = 2.0 * b / (v * v) + 2.0 * gamma - 1.0
    return math.exp(lam) * (S / ref) ** gamma * (
        norm_cdf(d) - (barrier / S) ** kappa * norm_cdf(d - 2.0 * math.log(barrier / S) / vt))


@njit(cache=True, error_model="numpy")
def _psi(S, T2, gamma, H, I2, I1, t1, r, b, v, ref):
    """BS ψ-function (two-period term with the bivariate normal), divided by ``ref^γ``."""
    drift1 = (b + (gamma - 0.5) * v * v) * t1
    drift2 = (b + (gamma - 0.5) * v * v) * T2
    v1 = v * math.sqrt(t1)
    v2 = v * math.sqrt(T2)
    e1 = (math.log(S / I1) + drift1) / v1
    e2 = (math.log(I2 * I2 / (S * I1)) + drift1) / v1
    e3 = (math.log(S / I1) - drift1) / v1
    e4 = (math.log(I2 * I2 / (S * I1)) - drift1) / v1
    f1 = (math.log(S / H) + drift2) / v2
    f2 = (math.log(I2 * I2 / (S * H)) + drift2) / v2
    f3 = (math.log(I1 * I1 / (S * H)) + drift2) / v2
    f4 = (math.log(S * I1 * I1 / (H * I2 * I2)) + drift2) / v2
    rho = math.sqrt(t1 / T2)
    lam = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v * v
    kappa = 2.0 * b / (v * v) + 2.0 * gamma - 1.0
    return math.exp(lam * T2) * (S / ref) ** gamma * (
        bvn_cdf(-e1, -f1, rho) - (I2 / S) ** kappa * bvn_cdf(-e2, -f2, rho)
        - (I1 / S) ** kappa * bvn_cdf(-e3, -f3, -rho) + (I1 / I2) ** kappa * bvn_cdf(-e4, -f4, -rho))


@njit(cache=True, error_model="numpy")
def _bs2002_call(S, K, T, r, b, v):
    """American call with carry ``b`` (Bjerksund–Stensland 2002)."""
    if b >= r:  # no dividend yield: never optimal to exercise early
        return _black(S, K, T, r, b, v, True)
    v2 = v * v
    beta = (0.5 - b / v2) + math.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / (beta - 1.0) * K
    b_0 = max(K, r / (r - b) * K)
    t1 = _T1_FRACTION * T
    scale = K * K / ((b_inf - b_0) * b_0)
    I1 = b_0 + (b_inf - b_0) * (1.0 - math.exp(-(b * t1 + 2.0 * v * math.sqrt(t1)) * scale))
    I2 = b_0 + (b_inf - b_0) * (1.0 - math.exp(-(b * T + 2.0 * v * math.sqrt(T)) * scale))
    if S >= I2:
        return S - K
    # α_i·S^β terms are carried as (I_i − K)·(S/I_i)^β: the same number without overflow.
    a1 = I1 - K
    a2 = I2 - K
    value = (a2 * (S / I2) ** beta - a2 * _phi(S, t1, beta, I2, I2, r, b, v, I2)
             + _phi(S, t1, 1.0, I2, I2, r, b, v, 1.0) - _phi(S, t1, 1.0, I1, I2, r, b, v, 1.0)
             - K * _phi(S, t1, 0.0, I2, I2, r, b, v, 1.0) + K * _phi(S, t1, 0.0, I1, I2, r, b, v, 1.0)
             + a1 * _phi(S, t1, beta, I1, I2, r, b, v, I1)
             - a1 * _psi(S, T, beta, I1, I2, I1, t1, r, b, v, I1)
             + _psi(S, T, 1.0, I1, I2, I1, t1, r, b, v, 1.0) - _psi(S, T, 1.0, K, I2, I1, t1, r, b, v, 1.0)
             - K * _psi(S, T, 0.0, I1, I2, I1, t1, r, b, v, 1.0)
             + K * _psi(S, T, 0.0, K, I2, I1, t1, r, b, v, 1.0))
    return value


@njit(cache=True, error_model="numpy")
def _bs1993_call(S, K, T, r, b, v):
    """American call, one flat exercise boundary (Bjerksund–Stensland 1993; QuantLib's engine)."""
    if b >= r:
        return _black(S, K, T, r, b, v, True)
    v2 = v * v
    beta = (0.5 - b / v2) + math.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / (beta - 1.0) * K
    b_0 = max(K, r / (r - b) * K)
    trigger = b_0 + (b_inf - b_0) * (1.0 - math.exp(-(b * T + 2.0 * v * math.sqrt(T)) * b_0 / (b_inf - b_0)))
    if trigger <= S:
        return S - K
    a = trigger - K
    return (a * (S / trigger) ** beta - a * _phi(S, T, beta, trigger, trigger, r, b, v, trigger)
            + _phi(S, T, 1.0, trigger, trigger, r, b, v, 1.0) - _phi(S, T, 1.0, K, trigger, r, b, v, 1.0)
            - K * _phi(S, T, 0.0, trigger, trigger, r, b, v, 1.0) + K * _phi(S, T, 0.0, K, trigger, r, b, v, 1.0))


@njit(cache=True, error_model="numpy")
def american_price_one(is_call, S, K, T, r, q, sigma, method):
    """Scalar American price (``method`` 0, 2002 or 1993); NaN for non-positive S, K, T, σ."""
    if not (S > 0.0 and K > 0.0 and T > 0.0 and sigma > 0.0):
        return math.nan
    if not (math.isfinite(S) and math.isfinite(K) and math.isfinite(T) and math.isfinite(sigma)
            and math.isfinite(r) and math.isfinite(q)):
        return math.nan
    b = r - q
    # A put is a call with spot and strike swapped, rate r − b and carry −b.
    s_, k_, r_, b_ = (S, K, r, b) if is_call else (K, S, r - b, -b)
    # Each approximation is the exact value of one feasible exercise policy, hence a lower bound
    # of the American price, as is the European price (never exercise early): take the best.
    value = _black(s_, k_, T, r_, b_, sigma, True)
    if method != 1993:
        value = max(value, _bs2002_call(s_, k_, T, r_, b_, sigma))
    if method != 2002:
        value = max(value, _bs1993_call(s_, k_, T, r_, b_, sigma))
    return max(value, s_ - k_, 0.0)


@njit(cache=True, error_model="numpy")
def _price_serial(is_call, S, K, T, r, q, sigma, method, out):
    for i in range(out.size):
        out[i] = american_price_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i], method)


@njit(cache=True, parallel=True, error_model="numpy")
def _price_parallel(is_call, S, K, T, r, q, sigma, method, out):
    for i in prange(out.size):
        out[i] = american_price_one(is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i], sigma[i], method)


def american_price(is_call, S, K, T, r, q, sigma, method: int = 0) -> np.ndarray:
    """American option prices by Bjerksund–Stensland; arguments broadcast like ``bsm_price``.

    ``method=2002`` (two-piece boundary), ``1993`` (one flat boundary; what QuantLib's
    ``BjerksundStenslandApproximationEngine`` computes) or ``0`` (default: the larger of both —
    each is the value of a feasible exercise policy, so a lower bound). Never below the European
    price nor intrinsic value. NaN where
    ``S``, ``K``, ``T`` or ``sigma`` is not positive and finite; shape mismatch raises
    :class:`ValueError`.
    """
    if method not in (0, 1993, 2002):
        raise ValueError(f"method must be 0 (best), 2002 or 1993, not {method!r}")
    return run_kernel(_price_serial, _price_parallel, (is_call, S, K, T, r, q, sigma), extra=(int(method),))


def early_exercise_premium(is_call, S, K, T, r, q, sigma) -> np.ndarray:
    """American minus European price: what the right to exercise early is worth (≥ 0)."""
    return np.maximum(american_price(is_call, S, K, T, r, q, sigma) - bsm_price(is_call, S, K, T, r, q, sigma), 0.0)


_MIN_VOL = 0.005


@njit(cache=True, error_model="numpy")
def american_iv_one(price, is_call, S, K, T, r, q):
    """Scalar inverse of :func:`american_price_one` (default method) in σ; NaN outside its range.

    The European IV of the same premium is an upper bound (an American option is worth at least
    the European one at every σ), so the root is bracketed below it and found by the Illinois
    variant of regula falsi on the monotone price, to 1e-10 relative in σ.
    """
    if not (price > 0.0 and S > 0.0 and K > 0.0 and T > 0.0) or not math.isfinite(price):
        return math.nan
    lo = _MIN_VOL  # below half a vol point the closed form is all early exercise: no information
    f_lo = american_price_one(is_call, S, K, T, r, q, lo, 0) - price
    if not (f_lo < 0.0 and price < (S if is_call else K)):
        return math.nan
    hi = implied_vol_one(price, is_call, S, K, T, r, q)
    if not (hi > lo):  # the premium is below the European range: bracket from above instead
        hi = 1.0
        while american_price_one(is_call, S, K, T, r, q, hi, 0) < price and hi < 64.0:
            hi *= 2.0
    f_hi = american_price_one(is_call, S, K, T, r, q, hi, 0) - price
    if f_hi <= 0.0:
        if f_hi >= -1e-12 * price:  # no early-exercise value: the European IV is the answer
            return hi
        return math.nan
    side = 0
    for _ in range(100):
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo < mid < hi):
            mid = 0.5 * (lo + hi)
        f_mid = american_price_one(is_call, S, K, T, r, q, mid, 0) - price
        if f_mid == 0.0 or hi - lo <= 1e-10 * mid:
            return mid
        if f_mid > 0.0:
            hi, f_hi = mid, f_mid
            if side == 1:
                f_lo *= 0.5  # Illinois: halve the stale end so the false position cannot stall
            side = 1
        else:
            lo, f_lo = mid, f_mid
            if side == -1:
                f_hi *= 0.5
            side = -1
    return 0.5 * (lo + hi)


@njit(cache=True, error_model="numpy")
def _iv_serial(price, is_call, S, K, T, r, q, out):
    for i in range(out.size):
        out[i] = american_iv_one(price[i], is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i])


@njit(cache=True, parallel=True, error_model="numpy")
def _iv_parallel(price, is_call, S, K, T, r, q, out):
    for i in prange(out.size):
        out[i] = american_iv_one(price[i], is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i])


def american_implied_vol(price, is_call, S, K, T, r, q) -> np.ndarray:
    """Implied volatility of American premiums under :func:`american_price` (Bjerksund–Stensland).

    For in-the-money puts (and calls with a yield) of longer expiries, where the European formula
    reads the early-exercise premium as extra volatility. NaN at or below the American value at
    σ = 0.5 % (e.g. a put priced at its exercise value), at or above ``S`` (call) / ``K`` (put), or
    for non-positive inputs; shape
    mismatch raises :class:`ValueError`. About 10–20 closed-form evaluations an option.
    """
    return run_kernel(_iv_serial, _iv_parallel, (price, is_call, S, K, T, r, q), threshold=64)
