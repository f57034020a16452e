"""Binomial tree with discrete cash dividends against QuantLib's finite differences (escrowed)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.options import bsm_price
from engine.options.tree import american_price_tree

R, SIGMA, SPOT = 0.045, 0.18, 590.0
SPY_DIVS = ((5, 1.8), (96, 1.9))  # days from now, dollars: SPY-like quarterly dividends


def _ql_fd(is_call, K, days, divs):
    import QuantLib as ql

    today = ql.Date(15, 5, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(SPOT)), ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, R, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), SIGMA, dc)))
    option = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, K),
                              ql.AmericanExercise(today, today + days))
    schedule = ql.DividendVector([today + d for d, _ in divs], [a for _, a in divs])
    option.setPricingEngine(ql.FdBlackScholesVanillaEngine(
        process, schedule, 400, 400, 0, ql.FdmSchemeDesc.Douglas(), False, -ql.nullDouble(),
        ql.FdBlackScholesVanillaEngine.Escrowed))
    return option.NPV()


@pytest.mark.slow
def test_matches_quantlib_fd_with_escrowed_dividends():
    cases = list(itertools.product((True, False), (560.0, 590.0, 620.0), (10, 45, 120), ((), SPY_DIVS)))
    for case in cases:
        c, k, d, divs = case
        ours = float(american_price_tree(c, SPOT, k, d / 365, R, 0.0, SIGMA,
                                         dividends=[(t / 365, a) for t, a in divs]))
        assert ours == pytest.approx(_ql_fd(c, k, d, divs), abs=0.01), case


def test_dividend_lowers_calls_raises_puts_and_triggers_early_exercise():
    K = np.array([500.0, 590.0])
    T = 10 / 365
    no_div_call = american_price_tree(True, SPOT, K, T, R, 0.0, SIGMA)
    div_call = american_price_tree(True, SPOT, K, T, R, 0.0, SIGMA, dividends=[(2 / 365, 5.0)])
    assert np.all(div_call < no_div_call)
    # a deep ITM call whose dividend beats the remaining time value: exercised before the ex-date,
    # so it is worth more than the European option on the dividend-paying stock
    euro_ex_div = bsm_price(True, SPOT - 5.0 * np.exp(-R * 2 / 365), 500.0, T, R, 0.0, SIGMA)
    assert div_call[0] > euro_ex_div + 4.0
    # exercised just before the ex-date: worth the spot less the strike discounted to that day
    assert div_call[0] == pytest.approx(SPOT - 500.0 * np.exp(-R * 2 / 365), abs=0.01)
    put_no, put_div = (american_price_tree(False, SPOT, 590.0, T, R, 0.0, SIGMA, dividends=d)
                       for d in ((), [(2 / 365, 5.0)]))
    assert put_div > put_no
    # dividends on or after expiry change nothing
    assert american_price_tree(True, SPOT, K, T, R, 0.0, SIGMA, dividends=[(T, 5.0), (1.0, 2.0)]) == \
        pytest.approx(no_div_call)


def test_without_dividends_a_call_is_european_and_puts_are_worth_more():
    K = np.linspace(560, 620, 7)
    call = american_price_tree(True, SPOT, K, 0.25, R, 0.0, SIGMA)
    assert np.allclose(call, bsm_price(True, SPOT, K, 0.25, R, 0.0, SIGMA), atol=0.01)
    assert np.all(american_price_tree(False, SPOT, K, 0.25, R, 0.0, SIGMA)
                  >= bsm_price(False, SPOT, K, 0.25, R, 0.0, SIGMA) - 1e-9)


def test_bad_input():
    out = american_price_tree(True, np.array([590.0, -1.0]), 590.0, np.array([0.1, 0.1]), R, 0.0, SIGMA)
    assert np.isfinite(out[0]) and np.isnan(out[1])
    assert np.isnan(american_price_tree(True, 10.0, 10.0, 0.5, R, 0.0, SIGMA, dividends=[(0.1, 20.0)]))
    with pytest.raises(ValueError):
        american_price_tree(True, 590.0, 590.0, 0.1, R, 0.0, SIGMA, dividends=[(0.1, -1.0)])
    with pytest.raises(ValueError):
        american_price_tree(True, 590.0, 590.0, 0.1, R, 0.0, SIGMA, steps=2)
    with pytest.raises(ValueError):
        american_price_tree(True, np.ones(2), np.ones(3), 0.1, R, 0.0, SIGMA)
