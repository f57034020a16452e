"""Implied volatility (first version: bracketed Newton on the normalised Black price).

Replaced by the rational-guess + Householder kernel in :mod:`engine.options.lbr` once measured.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine.options.bsm import broadcast_inputs

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@njit(cache=True)
def _phi(z):
    return 0.5 * math.erfc(-z * _SQRT1_2)


@njit(cache=True)
def _norm_black_otm(x, s):
    """Normalised OTM call (x ≤ 0): e^{x/2}Φ(x/s+s/2) − e^{−x/2}Φ(x/s−s/2)."""
    h = x / s
    return math.exp(0.5 * x) * _phi(h + 0.5 * s) - math.exp(-0.5 * x) * _phi(h - 0.5 * s)


@njit(cache=True)
def _norm_vega(x, s):
    h = x / s
    return _INV_SQRT_2PI * math.exp(-0.5 * (h * h + 0.25 * s * s))


@njit(cache=True)
def _solve_otm(beta, x):
    """σ√T with normalised OTM call price ``beta`` at log-moneyness ``x ≤ 0``."""
    lo, hi = 0.0, math.inf
    s = math.sqrt(2.0 * abs(x)) if x != 0.0 else 2.5066282746310002 * beta
    if s <= 0.0:
        s = 0.1
    for _ in range(200):
        b = _norm_black_otm(x, s)
        if b > beta:
            hi = s
        else:
            lo = s
        v = _norm_vega(x, s)
        # Newton on ln b (well conditioned for tiny prices) with a bracket fallback.
        if b > 0.0 and v > 0.0:
            step = (math.log(b) - math.log(beta)) * b / v
            s_new = s - step
        else:
            s_new = -1.0
        if not (lo < s_new < hi):
            s_new = 0.5 * (lo + hi) if hi < math.inf else 2.0 * s
        if abs(s_new - s) <= 1e-15 * s:
            return s_new
        s = s_new
    return s


@njit(cache=True)
def _iv_one(price, is_call, S, K, T, r, q):
    if not (S > 0.0 and K > 0.0 and T > 0.0 and price >= 0.0) or not math.isfinite(S + K + T + price + r + q):
        return math.nan
    df = math.exp(-r * T)
    F = S * math.exp((r - q) * T)
    x = math.log(F / K)
    beta = price / df / math.sqrt(F * K)
    theta = 1.0 if is_call else -1.0
    intrinsic = max(theta * (math.exp(0.5 * x) - math.exp(-0.5 * x)), 0.0)
    upper = math.exp(0.5 * theta * x)
    if beta <= intrinsic or beta >= upper:
        return math.nan
    # Out of the money by put–call parity: subtract intrinsic, flip the right.
    if theta * x > 0.0:
        beta -= intrinsic
        theta = -theta
    if beta <= 0.0:
        return math.nan
    # A normalised put at x equals a call at -x, so the OTM option is a call at -|x|.
    s = _solve_otm(beta, -abs(x))
    return s / math.sqrt(T)


@njit(cache=True)
def _iv_loop(price, is_call, S, K, T, r, q, out):
    for i in range(price.size):
        out[i] = _iv_one(price[i], is_call[i] != 0.0, S[i], K[i], T[i], r[i], q[i])


def implied_vol(price, is_call, S, K, T, r, q) -> np.ndarray:
    """Black–Scholes–Merton implied volatility of European option prices.

    NaN where the price lies outside the no-arbitrage bounds (at or below the discounted intrinsic
    value, at or above ``S·e^{−qT}`` for a call / ``K·e^{−rT}`` for a put) or ``S``, ``K``, ``T`` are
    not positive. Shape mismatch: :class:`ValueError`.
    """
    arrays = broadcast_inputs(price, is_call, S, K, T, r, q)
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    out = np.empty(flat[0].size)
    _iv_loop(*flat, out)
    return out.reshape(shape)
