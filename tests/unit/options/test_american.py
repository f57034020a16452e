"""American prices (Bjerksund–Stensland) against QuantLib, and the bivariate normal they rest on."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.options import bsm_price
from engine.options.american import american_price, early_exercise_premium
from engine.options.bivariate import bvn_cdf


def _ql_american(is_call, S, K, days, r, q, sigma, engine):
    import QuantLib as ql

    today = ql.Date(15, 5, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(S)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), sigma, dc)))
    option = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, K),
                              ql.AmericanExercise(today, today + days))
    option.setPricingEngine(ql.BjerksundStenslandApproximationEngine(process) if engine == "bs"
                            else ql.FdBlackScholesVanillaEngine(process, 400, 400))
    return option.NPV()


GRID = list(itertools.product((True, False), (80.0, 100.0, 120.0), (1, 30, 182, 730),
                              ((0.05, 0.0), (0.05, 0.03), (0.02, 0.06), (0.0, 0.02)), (0.1, 0.3, 0.8)))


def _ours(method):
    cp, S, days, rq, v = (np.array(c) for c in zip(*GRID, strict=True))
    return american_price(cp, S, 100.0, days / 365.0, rq[:, 0], rq[:, 1], v, method=method)


def test_1993_method_equals_quantlib_bjerksund_stensland_engine():
    ours = _ours(1993)
    for i, (cp, S, days, (r, q), v) in enumerate(GRID):
        ref = _ql_american(cp, S, 100.0, days, r, q, v, "bs")
        assert ours[i] == pytest.approx(ref, rel=1e-9, abs=1e-12), GRID[i]


@pytest.mark.slow
def test_default_is_a_tighter_lower_bound_than_quantlib_against_finite_differences():
    ours = _ours(0)
    err_ours, err_ql = [], []
    for i, (cp, S, days, (r, q), v) in enumerate(GRID):
        bs = _ql_american(cp, S, 100.0, days, r, q, v, "bs")
        fd = _ql_american(cp, S, 100.0, days, r, q, v, "fd")
        assert ours[i] >= bs - 1e-9, GRID[i]  # best of two lower bounds is at least QuantLib's
        # a closed-form approximation: within 2% (+2 cents) of the PDE value across the grid
        tol = 0.02 + 0.02 * fd
        assert abs(ours[i] - fd) <= tol, (GRID[i], ours[i], fd)
        err_ours.append(abs(ours[i] - fd))
        err_ql.append(abs(bs - fd))
    assert np.mean(err_ours) < np.mean(err_ql)


def test_never_below_european_nor_intrinsic_and_equal_when_no_early_exercise():
    S = np.linspace(60, 140, 41)
    for cp in (True, False):
        am = american_price(cp, S, 100.0, 0.5, 0.05, 0.02, 0.25)
        eu = bsm_price(cp, S, 100.0, 0.5, 0.05, 0.02, 0.25)
        intrinsic = np.maximum(S - 100, 0) if cp else np.maximum(100 - S, 0)
        assert np.all(am >= eu - 1e-12) and np.all(am >= intrinsic - 1e-12)
    # no dividend: an American call is the European call
    assert np.allclose(american_price(True, S, 100.0, 0.5, 0.05, 0.0, 0.25),
                       bsm_price(True, S, 100.0, 0.5, 0.05, 0.0, 0.25), rtol=1e-12)
    # no interest: an American put is the European put
    assert np.allclose(american_price(False, S, 100.0, 0.5, 0.0, 0.01, 0.25),
                       bsm_price(False, S, 100.0, 0.5, 0.0, 0.01, 0.25), rtol=1e-12)


def test_deep_itm_put_is_exercised_and_0dte_premium_is_negligible():
    # deep ITM put with rates above the yield: immediate exercise is optimal
    assert float(american_price(False, 50.0, 100.0, 1.0, 0.05, 0.0, 0.2)) == pytest.approx(50.0)
    assert float(early_exercise_premium(False, 50.0, 100.0, 1.0, 0.05, 0.0, 0.2)) > 1.0
    # a SPY 0DTE put two hours before the close: early exercise worth far less than a cent
    prem = early_exercise_premium(False, 590.0, np.arange(585.0, 600.0), 120 / 525600, 0.045, 0.013, 0.15)
    assert np.all(prem < 0.005)


def test_bad_input_nan_and_shape_errors():
    out = american_price(True, np.array([100.0, 0.0, 100.0]), 100.0, np.array([0.5, 0.5, 0.0]), 0.05, 0.02,
                         0.2)
    assert np.isfinite(out[0]) and np.isnan(out[1:]).all()
    with pytest.raises(ValueError):
        american_price(True, np.ones(2), np.ones(3), 0.5, 0.05, 0.0, 0.2)
    with pytest.raises(ValueError, match="method"):
        american_price(True, 100.0, 100.0, 0.5, 0.05, 0.0, 0.2, method=1999)


def test_bivariate_normal_matches_scipy():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(11)
    for _ in range(400):
        a, b = rng.normal(0, 2, 2)
        rho = float(rng.choice([rng.uniform(-0.99, 0.99), np.sign(rng.normal()) * rng.uniform(0.92, 0.9999)]))
        ref = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([a, b])
        assert bvn_cdf(a, b, rho) == pytest.approx(ref, abs=1e-12)


def test_american_implied_vol_inverts_the_american_price():
    from engine.options import implied_vol
    from engine.options.american import american_implied_vol

    rng = np.random.default_rng(5)
    n = 400
    K = 590.0 * np.exp(rng.normal(0.0, 0.1, n))
    T = rng.uniform(5 / 365, 1.0, n)
    sig = rng.uniform(0.08, 0.8, n)
    cp = rng.random(n) < 0.5
    price = american_price(cp, 590.0, K, T, 0.05, 0.02, sig)
    iv = american_implied_vol(price, cp, 590.0, K, T, 0.05, 0.02)
    vega = (american_price(cp, 590.0, K, T, 0.05, 0.02, sig + 1e-4) - price) / 1e-4
    ok = vega > 1e-2  # identifiable: a vol point moves the premium by more than a hundredth of a cent
    assert ok.sum() > 0.8 * n and not np.isnan(iv[ok]).any()
    assert np.max(np.abs(iv[ok] - sig[ok])) < 1e-7
    # the European formula reads early exercise as volatility: deep ITM puts look richer than they are
    put = (~cp) & ok & (K > 650.0)
    assert put.any() and np.all(implied_vol(price[put], False, 590.0, K[put], T[put], 0.05, 0.02) > sig[put] - 1e-9)
    # at the exercise value there is no volatility to read
    assert np.isnan(american_implied_vol(100.0, False, 590.0, 690.0, 0.5, 0.05, 0.0))
    assert np.isnan(american_implied_vol(np.array([0.0, 600.0]), True, 590.0, 590.0, 0.5, 0.05, 0.0)).all()
