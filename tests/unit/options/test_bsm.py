"""BSM prices and Greeks: QuantLib oracle grid, finite differences, properties and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.options import bsm_greeks, bsm_price, theta_per_day, vega_per_point
from tests.unit.options.conftest import MINUTE, T_GRID, ql_black

SPOTS = (590.0, 5900.0)  # SPY-like and SPX-like
MONEYNESS = (0.8, 0.97, 1.0, 1.03, 1.25)
SIGMAS = (0.05, 0.2, 0.6, 2.0)


def _grid():
    for S, m, T, sigma, is_call in itertools.product(SPOTS, MONEYNESS, T_GRID, SIGMAS, (True, False)):
        yield is_call, S, S * m, T, 0.045, 0.013, sigma


def test_price_and_greeks_match_quantlib_on_the_grid():
    rows = list(_grid())
    cp, S, K, T, r, q, sig = (np.array(c) for c in zip(*rows, strict=True))
    price = bsm_price(cp, S, K, T, r, q, sig)
    g = bsm_greeks(cp, S, K, T, r, q, sig)
    for i, (c, s, k, t, rr, qq, v) in enumerate(rows):
        calc, _, _ = ql_black(c, s, k, t, rr, qq, v)
        scale = s * 1e-11  # prices of SPX-size in dollars: absolute tolerance per dollar of spot
        assert price[i] == pytest.approx(calc.value(), rel=1e-10, abs=scale), rows[i]
        assert g["delta"][i] == pytest.approx(calc.delta(s), rel=1e-9, abs=1e-12), rows[i]
        assert g["gamma"][i] == pytest.approx(calc.gamma(s), rel=1e-9, abs=1e-14), rows[i]
        assert g["vega"][i] == pytest.approx(calc.vega(t), rel=1e-9, abs=scale), rows[i]
        assert g["theta"][i] == pytest.approx(calc.theta(s, t), rel=1e-8, abs=scale / t), rows[i]
        assert g["rho"][i] == pytest.approx(calc.rho(t), rel=1e-9, abs=scale), rows[i]


def test_one_minute_atm_call_has_the_textbook_value():
    # ATM, zero carry: C ≈ 0.4·S·σ·√T; one minute at σ=0.15 on SPY 590 is about 0.049.
    c = float(bsm_price(True, 590.0, 590.0, MINUTE, 0.0, 0.0, 0.15))
    assert c == pytest.approx(0.3989423 * 590 * 0.15 * math.sqrt(MINUTE), rel=1e-6)


@pytest.mark.parametrize("T", [5 * MINUTE, 1 / 365, 0.5])
def test_greeks_are_derivatives_of_the_price(T):
    S, K, r, q, sig = 590.0, 590.5, 0.04, 0.012, 0.18
    g = bsm_greeks(np.array([True, False]), S, K, T, r, q, sig)

    def d(f, x, h):
        return (f(x + h) - f(x - h)) / (2 * h)

    dS = S * sig * math.sqrt(T) * 1e-3  # steps scaled to the distribution's width
    for j, cp in enumerate((True, False)):
        def p(cp=cp, **kw):
            args = {"S": S, "K": K, "T": T, "r": r, "q": q, "sigma": sig} | kw
            return float(bsm_price(cp, **args))
        assert g["delta"][j] == pytest.approx(d(lambda x: p(S=x), S, dS), rel=1e-6)
        assert g["gamma"][j] == pytest.approx((p(S=S + 10 * dS) - 2 * p() + p(S=S - 10 * dS)) / (10 * dS) ** 2,
                                               rel=1e-4)
        assert g["vega"][j] == pytest.approx(d(lambda x: p(sigma=x), sig, 1e-6), rel=1e-6)
        assert g["rho"][j] == pytest.approx(d(lambda x: p(r=x), r, 1e-3), rel=1e-6)
        # theta is −dV/dT per year: a long option loses value as expiry approaches
        assert g["theta"][j] == pytest.approx(-d(lambda x: p(T=x), T, T * 1e-5), rel=1e-5)


def test_display_units():
    g = bsm_greeks(True, 590.0, 590.0, 1 / 365, 0.04, 0.0, 0.2)
    assert theta_per_day(g["theta"]) == pytest.approx(g["theta"] / 365)
    assert vega_per_point(g["vega"]) == pytest.approx(g["vega"] / 100)


def test_broadcasting_chain_by_vol_grid():
    K = np.arange(580.0, 601.0)
    sig = np.array([[0.1], [0.2], [0.3]])
    out = bsm_price(True, 590.0, K, 0.01, 0.04, 0.0, sig)
    assert out.shape == (3, K.size)
    assert np.all(np.diff(out, axis=0) > 0)  # higher vol, higher price


def test_shape_mismatch_raises_value_error():
    with pytest.raises(ValueError, match="broadcast"):
        bsm_price(True, np.ones(3) * 590, np.ones(4) * 590, 0.01, 0.0, 0.0, 0.2)
    with pytest.raises(ValueError):
        bsm_greeks(np.array([True, False]), 590.0, np.ones(3), 0.01, 0.0, 0.0, 0.2)


def test_non_positive_inputs_give_nan_elementwise_without_raising():
    S = np.array([590.0, 0.0, -1.0, 590.0, 590.0, 590.0, np.nan, 590.0])
    K = np.array([590.0, 590.0, 590.0, 0.0, 590.0, 590.0, 590.0, 590.0])
    T = np.array([0.01, 0.01, 0.01, 0.01, 0.0, 0.01, 0.01, -0.01])
    sig = np.array([0.2, 0.2, 0.2, 0.2, 0.2, 0.0, 0.2, 0.2])
    p = bsm_price(True, S, K, T, 0.04, 0.0, sig)
    assert np.isfinite(p[0]) and np.all(np.isnan(p[1:]))
    g = bsm_greeks(True, S, K, T, 0.04, 0.0, sig)
    for name, arr in g.items():
        assert np.isfinite(arr[0]) and np.all(np.isnan(arr[1:])), name


finite_S = st.floats(10.0, 10_000.0)
moneyness = st.floats(0.5, 2.0)
expiry = st.floats(MINUTE, 3.0)
vol = st.floats(0.01, 3.0)
rate = st.floats(-0.01, 0.1)


@settings(max_examples=200, deadline=None)
@given(S=finite_S, m=moneyness, T=expiry, r=rate, q=rate, sig=vol)
def test_put_call_parity(S, m, T, r, q, sig):
    K = S * m
    c, p = bsm_price(np.array([True, False]), S, K, T, r, q, sig)
    assert c - p == pytest.approx(S * math.exp(-q * T) - K * math.exp(-r * T), abs=1e-9 * (S + K))


@settings(max_examples=200, deadline=None)
@given(S=finite_S, m=moneyness, T=expiry, r=rate, q=rate, sig=vol, is_call=st.booleans())
def test_price_bounds(S, m, T, r, q, sig, is_call):
    K = S * m
    v = float(bsm_price(is_call, S, K, T, r, q, sig))
    fs, fk = S * math.exp(-q * T), K * math.exp(-r * T)
    lower = max(fs - fk, 0.0) if is_call else max(fk - fs, 0.0)
    upper = fs if is_call else fk
    tol = 1e-10 * (S + K)
    assert lower - tol <= v <= upper + tol


@settings(max_examples=150, deadline=None)
@given(S=finite_S, m=moneyness, T=st.floats(1 / 365, 2.0), r=rate, sig=st.floats(0.05, 1.5))
def test_monotone_in_spot_strike_and_vol(S, m, T, r, sig):
    K = S * m
    bump = 1.01
    c = bsm_price(True, np.array([S, S * bump, S, S]), np.array([K, K, K * bump, K]), T, r, 0.0,
                  np.array([sig, sig, sig, sig * bump]))
    p = bsm_price(False, np.array([S, S * bump, S, S]), np.array([K, K, K * bump, K]), T, r, 0.0,
                  np.array([sig, sig, sig, sig * bump]))
    tol = 1e-12 * (S + K)
    assert c[1] >= c[0] - tol and c[2] <= c[0] + tol and c[3] >= c[0] - tol
    assert p[1] <= p[0] + tol and p[2] >= p[0] - tol and p[3] >= p[0] - tol


@pytest.mark.parametrize("T", [30 * MINUTE, 1 / 365, 0.25])
def test_second_order_greeks_are_derivatives_of_the_first_order_ones(T):
    from engine.options.bsm import bsm_second_order

    S, K, r, q, sig = 590.0, 591.0, 0.04, 0.012, 0.18
    dS, dv, dT = S * sig * math.sqrt(T) * 1e-4, 1e-5, T * 1e-5
    for cp in (True, False):
        hi = bsm_second_order(cp, S, K, T, r, q, sig)

        def g(name, cp=cp, **kw):
            args = {"S": S, "K": K, "T": T, "r": r, "q": q, "sigma": sig} | kw
            return float(bsm_greeks(cp, **args)[name])

        def d(name, key, x, h):
            return (g(name, **{key: x + h}) - g(name, **{key: x - h})) / (2 * h)

        assert hi["vanna"] == pytest.approx(d("delta", "sigma", sig, dv), rel=1e-5)
        assert hi["charm"] == pytest.approx(-d("delta", "T", T, dT), rel=1e-4)  # time passing = T falling
        assert hi["vomma"] == pytest.approx(d("vega", "sigma", sig, dv), rel=1e-4, abs=1e-9 * S)
        assert hi["speed"] == pytest.approx(d("gamma", "S", S, dS), rel=1e-4)
        assert hi["zomma"] == pytest.approx(d("gamma", "sigma", sig, dv), rel=1e-4)
        assert hi["color"] == pytest.approx(-d("gamma", "T", T, dT), rel=1e-4)
    bad = bsm_second_order(True, np.array([590.0, -1.0]), 590.0, 0.1, 0.0, 0.0, 0.2)
    assert np.isfinite(bad["vanna"][0]) and np.isnan(bad["charm"][1])
