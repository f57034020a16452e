"""Strategy builders: strikes by delta, offset and width on a BSM chain."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engine.core.errors import InvalidInput
from engine.options import bsm_greeks
from engine.strategies import STRATEGIES, ChainView, StrategySpec, build

SPOT = 500.0
K = np.arange(470.0, 531.0, 1.0)
T = 5 / (24 * 365)


def view(far=None) -> ChainView:
    c = bsm_greeks(True, SPOT, K, T, 0.04, 0.0, 0.25)["delta"]
    p = bsm_greeks(False, SPOT, K, T, 0.04, 0.0, 0.25)["delta"]
    return ChainView("SPY", SPOT, K, c, p, expiry=date(2026, 11, 20), far_expiry=far)


def test_iron_condor_shorts_at_target_delta_and_wings_outside():
    v = view()
    s = build(StrategySpec("iron_condor", delta=0.10, width=5), v)
    (lp, sp, sc, lc) = s.legs
    assert [leg.qty for leg in s.legs] == [1, -1, -1, 1]
    assert (lp.right, sp.right, sc.right, lc.right) == ("put", "put", "call", "call")
    assert sp.strike - lp.strike == 5 and lc.strike - sc.strike == 5
    pd_ = abs(v.put_delta[np.searchsorted(K, sp.strike)])
    cd = v.call_delta[np.searchsorted(K, sc.strike)]
    # the chosen strike is the one whose |delta| is nearest 0.10
    assert abs(pd_ - 0.10) == pytest.approx(np.min(np.abs(np.abs(v.put_delta) - 0.10)))
    assert abs(cd - 0.10) == pytest.approx(np.min(np.abs(v.call_delta - 0.10)))
    assert sp.strike < SPOT < sc.strike


def test_lower_delta_means_further_out():
    v = view()
    near = build(StrategySpec("iron_condor", delta=0.30), v)
    far = build(StrategySpec("iron_condor", delta=0.05), v)
    assert far.legs[1].strike < near.legs[1].strike and far.legs[2].strike > near.legs[2].strike


def test_strike_offset_and_explicit_strike():
    v = view()
    s = build(StrategySpec("short_put", strike_offset=-7), v)
    assert s.legs[0].strike == 493 and s.legs[0].qty == -1
    s = build(StrategySpec("long_call", strike=512.3), v)
    assert s.legs[0].strike == 512 and s.legs[0].qty == 1
    ic = build(StrategySpec("iron_condor", strike_offset=10, width=3), v)
    assert [leg.strike for leg in ic.legs] == [487, 490, 510, 513]


def test_verticals_credit_and_debit():
    v = view()
    cp = build(StrategySpec("vertical", delta=0.2, width=5, right="put", credit=True), v)
    assert cp.legs[0].qty == -1 and cp.legs[1].strike == cp.legs[0].strike - 5
    dc = build(StrategySpec("vertical", delta=0.5, width=5, right="call", credit=False), v)
    assert dc.legs[0].qty == 1 and dc.legs[1].qty == -1 and dc.legs[1].strike == dc.legs[0].strike + 5


def test_atm_structures_and_sides():
    v = view()
    st = build(StrategySpec("straddle", delta=None, side="short"), v)
    assert {leg.strike for leg in st.legs} == {500.0} and all(leg.qty == -1 for leg in st.legs)
    fly = build(StrategySpec("butterfly", delta=None, width=5, right="call"), v)
    assert [(leg.strike, leg.qty) for leg in fly.legs] == [(495, 1), (500, -2), (505, 1)]
    ib = build(StrategySpec("iron_butterfly", delta=None, width=10), v)
    assert [leg.strike for leg in ib.legs] == [490, 500, 500, 510]


def test_calendar_needs_a_later_expiry():
    with pytest.raises(InvalidInput, match="far expiry"):
        build(StrategySpec("calendar", delta=None), view())
    cal = build(StrategySpec("calendar", delta=None, right="call"), view(date(2026, 11, 23)))
    assert cal.is_calendar and cal.legs[0].qty == -1 and cal.legs[1].expiry == date(2026, 11, 23)


def test_every_named_strategy_builds():
    v = view(date(2026, 11, 23))
    for name in STRATEGIES:
        assert build(StrategySpec(name, delta=0.2), v).legs


def test_bad_inputs_are_named():
    with pytest.raises(InvalidInput, match="unknown strategy"):
        StrategySpec("jade_lizard")
    with pytest.raises(InvalidInput, match="wing width"):
        StrategySpec("iron_condor", width=0)
    with pytest.raises(InvalidInput, match="delta must be between"):
        build(StrategySpec("short_put", delta=1.5), view())
    with pytest.raises(InvalidInput, match="must be below"):
        build(StrategySpec("iron_condor", delta=0.6), view())
