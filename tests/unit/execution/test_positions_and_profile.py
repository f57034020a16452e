"""Position arithmetic and the expiry risk profile (max profit/loss, breakevens, margin)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from engine.core.instruments import OptionContract
from engine.execution.analysis import naked_shorts, profile
from engine.execution.broker import Side
from engine.execution.structures import ResolvedLeg
from engine.portfolio.positions import apply_trade, unrealized

EXP = date(2026, 11, 20)


def opt(right: str, strike, side: str, ratio: int = 1, root: str = "SPY") -> ResolvedLeg:
    c = OptionContract.of(root, EXP, right, strike)
    return ResolvedLeg(c.occ, Side.parse(side), ratio, c)


def test_average_cost_realized_and_flip():
    c = apply_trade(0, D(0), 1, 2, D("1.00"), 100)
    c = apply_trade(c.quantity, c.avg_price, 1, 2, D("2.00"), 100)
    assert (c.quantity, c.avg_price, c.realized) == (4, D("1.5"), 0)
    c = apply_trade(c.quantity, c.avg_price, -1, 1, D("2.50"), 100)
    assert (c.quantity, c.avg_price, c.realized) == (3, D("1.5"), D("100.00"))
    c = apply_trade(c.quantity, c.avg_price, -1, 5, D("1.00"), 100)   # close 3, open short 2
    assert (c.quantity, c.avg_price, c.realized, c.closed) == (-2, D("1.00"), D("-150.00"), 3)
    c = apply_trade(-2, D("1.00"), 1, 2, D("0.40"), 100)
    assert (c.quantity, c.realized) == (0, D("120.00"))
    assert unrealized(-2, D("1.00"), D("0.40"), 100) == D("120.00")
    with pytest.raises(ValueError):
        apply_trade(0, D(0), 1, 0, D(1), 100)


def test_put_credit_spread_profile():
    legs = [opt("put", 640, "sell"), opt("put", 635, "buy")]
    p = profile(legs, D("-1.20"), 2, 646.0)
    assert p.max_profit == D("240.00") and p.max_loss == D("760.00")
    assert p.breakevens == (D("638.80"),) and p.margin == D("760.00") and p.defined_risk


def test_iron_condor_has_two_breakevens():
    legs = [opt("put", 630, "buy"), opt("put", 635, "sell"), opt("call", 655, "sell"), opt("call", 660, "buy")]
    p = profile(legs, D("-1.00"), 1, 646.0)
    assert p.max_profit == D("100.00") and p.max_loss == D("400.00")
    assert p.breakevens == (D("634.00"), D("656.00"))


def test_long_call_unbounded_profit_and_debit_margin():
    p = profile([opt("call", 650, "buy")], D("2.00"), 3, 646.0)
    assert p.max_profit is None and p.max_loss == D("600.00") and p.breakevens == (D("652.00"),)
    assert p.margin == D("600.00")


def test_naked_short_call_is_undefined_risk_with_reg_t_margin():
    legs = [opt("call", 650, "sell")]
    p = profile(legs, D("-1.00"), 1, 646.0)
    assert p.max_loss is None and not p.defined_risk and naked_shorts(legs) == (legs[0].symbol,)
    # 20% x 646 - 4 OTM = 125.20 per share -> 12,520 + premium 100
    assert p.margin == D("12620.00")


def test_short_put_is_bounded_but_still_naked():
    p = profile([opt("put", 640, "sell")], D("-1.00"), 1, 646.0)
    assert p.max_loss == D("63900.00") and not p.defined_risk


def test_butterfly_ratio_and_straddle():
    fly = [opt("call", 640, "buy"), opt("call", 645, "sell", 2), opt("call", 650, "buy")]
    p = profile(fly, D("1.00"), 1, 645.0)
    assert p.max_profit == D("400.00") and p.max_loss == D("100.00") and p.defined_risk
    assert p.breakevens == (D("641.00"), D("649.00"))
    straddle = profile([opt("put", 645, "buy"), opt("call", 645, "buy")], D("5.00"), 1, 645.0)
    assert straddle.breakevens == (D("640.00"), D("650.00")) and straddle.max_profit is None


def test_covered_call_with_stock_leg_is_defined():
    legs = [ResolvedLeg("SPY", Side.BUY, 100, None), opt("call", 650, "sell")]
    # net per share of the combo: 100 shares at 646 (=646 per "option share") minus 2.00 credit
    p = profile(legs, D("644.00"), 1, 646.0)
    assert not naked_shorts(legs) and p.max_profit == D("600.00")
    assert p.breakevens == (D("644.00"),)


def test_calendar_risks_its_debit():
    near = OptionContract.of("SPY", EXP, "call", 645)
    far = OptionContract.of("SPY", date(2026, 11, 27), "call", 645)
    legs = [ResolvedLeg(near.occ, Side.SELL, 1, near), ResolvedLeg(far.occ, Side.BUY, 1, far)]
    p = profile(legs, D("1.50"), 2, 645.0)
    assert p.max_loss == D("300.00") and p.max_profit is None and p.defined_risk
