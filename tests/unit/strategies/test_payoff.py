"""Payoff at expiry, extremes, breakevens and strategy-based margin."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engine.strategies import Leg, Structure, payoff, payoff_figure

E = date(2026, 11, 20)


def ic() -> Structure:
    return Structure("iron_condor", "SPY", (Leg("put", 490, 1, E), Leg("put", 495, -1, E),
                                            Leg("call", 505, -1, E), Leg("call", 510, 1, E)), E)


def test_iron_condor_extremes_breakevens_margin():
    p = payoff(ic(), np.array([0.20, 0.70, 0.60, 0.10]), quantity=2, spot=500)
    credit = 0.70 + 0.60 - 0.20 - 0.10  # 1.00 per share
    assert p.net_premium == pytest.approx(-credit)
    assert p.max_profit == pytest.approx(credit * 100 * 2)
    assert p.max_loss == pytest.approx((5 - credit) * 100 * 2)
    assert p.breakevens == pytest.approx([494.0, 506.0])
    assert p.margin == pytest.approx((5 - credit) * 100 * 2)
    # P&L curve: flat max profit between the shorts
    inside = (p.spots > 495) & (p.spots < 505)
    assert np.allclose(p.pnl[inside], credit * 200)


def test_naked_shorts_are_unlimited_and_use_naked_margin():
    sc = Structure("short_call", "SPY", (Leg("call", 510, -1, E),), E)
    p = payoff(sc, np.array([1.5]), spot=500)
    assert p.max_loss is None and p.max_profit == pytest.approx(150)
    assert p.breakevens == pytest.approx([511.5])
    # 20% of 500 - 10 OTM = 90 vs 10% of 500 = 50 → 90 + 1.5 premium, x100
    assert p.margin == pytest.approx((90 + 1.5) * 100)
    sp = Structure("short_put", "SPY", (Leg("put", 450, -1, E),), E)
    p = payoff(sp, np.array([0.5]), spot=500)
    # 20% x 500 - 50 OTM = 50 vs 10% of 450 = 45 → 50.5 x 100; loss bounded by strike
    assert p.margin == pytest.approx(50.5 * 100)
    assert p.max_loss == pytest.approx((450 - 0.5) * 100)


def test_long_straddle_and_short_strangle_margin():
    ls = Structure("straddle", "SPY", (Leg("put", 500, 1, E), Leg("call", 500, 1, E)), E)
    p = payoff(ls, np.array([2.0, 2.5]), spot=500)
    assert p.max_profit is None and p.max_loss == pytest.approx(450)
    assert p.breakevens == pytest.approx([495.5, 504.5])
    assert p.margin == pytest.approx(450)
    ss = Structure("strangle", "SPY", (Leg("put", 490, -1, E), Leg("call", 510, -1, E)), E)
    p = payoff(ss, np.array([1.0, 1.2]), spot=500)
    call_req = max(0.2 * 500 - 10, 0.1 * 500) + 1.2  # 91.2
    put_req = max(0.2 * 500 - 10, 0.1 * 490) + 1.0  # 91.0
    # the larger side's requirement plus the other side's premium
    assert p.margin == pytest.approx((call_req + 1.0) * 100)
    assert put_req < call_req


def test_calendar_valued_with_time_left():
    cal = Structure("calendar", "SPY", (Leg("call", 500, -1, E), Leg("call", 500, 1, date(2026, 11, 27))), E)
    p = payoff(cal, np.array([2.0, 5.0]), spot=500, far_vol=0.2)
    assert p.max_profit > 0 and p.max_loss == pytest.approx(300, rel=0.05)
    assert len(p.breakevens) == 2 and p.breakevens[0] < 500 < p.breakevens[1]
    assert p.margin == pytest.approx(300)


def test_wrong_price_count_is_rejected():
    with pytest.raises(ValueError, match="one price per leg"):
        payoff(ic(), np.array([1.0]))


def test_figure_and_dict():
    p = payoff(ic(), np.array([0.20, 0.70, 0.60, 0.10]), spot=500)
    fig = payoff_figure(p, spot=500)
    assert fig.data[0].name == "P&L at expiry" and len(fig.data[0].x) == len(p.spots)
    d = p.to_dict()
    assert d["max_profit"] == pytest.approx(100) and d["credit"] is True and len(d["legs"]) == 4
