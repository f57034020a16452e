"""Property tests of expiry payoffs (hypothesis): identities every trader relies on."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.strategies import Leg, Structure, payoff
from engine.strategies.payoff import expiry_value

E = date(2026, 11, 20)
strike = st.integers(min_value=300, max_value=700)
width = st.integers(min_value=1, max_value=25)
premium = st.floats(min_value=0.01, max_value=20.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(k=strike, w=width, p_short=premium, p_long=premium, right=st.sampled_from(["call", "put"]))
def test_vertical_profit_plus_loss_is_the_width(k, w, p_short, p_long, right):
    assume(0 <= p_short - p_long < w)  # no-arbitrage prices: a credit below the width
    wing = k + w if right == "call" else k - w
    v = Structure("vertical", "SPY", (Leg(right, k, -1, E), Leg(right, wing, 1, E)), E)
    p = payoff(v, np.array([p_short, p_long]), spot=float(k))
    assert p.max_profit + p.max_loss == pytest.approx(w * 100, abs=1e-6)
    assert p.margin == pytest.approx(p.max_loss)
    for be in p.breakevens:
        assert min(k, wing) <= be <= max(k, wing)
        assert abs(float(expiry_value(v, np.array([be]))[0]) - v.net_premium(np.array([p_short, p_long]))) < 1e-9


@settings(max_examples=60, deadline=None)
@given(k=strike, w=width, prices=st.lists(premium, min_size=4, max_size=4), q=st.integers(1, 20))
def test_iron_condor_pnl_is_bounded_and_scales_with_quantity(k, w, prices, q):
    ic = Structure("iron_condor", "SPY", (Leg("put", k - 10 - w, 1, E), Leg("put", k - 10, -1, E),
                                          Leg("call", k + 10, -1, E), Leg("call", k + 10 + w, 1, E)), E)
    one = payoff(ic, np.array(prices), spot=float(k))
    many = payoff(ic, np.array(prices), quantity=q, spot=float(k))
    assert many.max_loss == pytest.approx(one.max_loss * q) and many.max_profit == pytest.approx(one.max_profit * q)
    assert one.pnl.max() <= one.max_profit + 1e-6 and one.pnl.min() >= -one.max_loss - 1e-6


@settings(max_examples=40, deadline=None)
@given(k=strike, p=premium)
def test_long_and_short_are_mirror_images(k, p):
    long_ = payoff(Structure("long_put", "SPY", (Leg("put", k, 1, E),), E), np.array([p]), spot=float(k))
    short = payoff(Structure("short_put", "SPY", (Leg("put", k, -1, E),), E), np.array([p]), spot=float(k))
    assert np.allclose(long_.pnl, -short.pnl)
    assert long_.max_loss == pytest.approx(short.max_profit) and long_.breakevens == short.breakevens
