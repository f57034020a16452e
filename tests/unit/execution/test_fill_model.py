"""The shared fill model: far side, impact, resting limits, partial fills, stops, net-price combos."""

from __future__ import annotations

import statistics
from decimal import Decimal as D

import pytest

from engine.execution.broker import OrderType, Side
from engine.execution.config import FillConfig
from engine.execution.fill_model import FillModel, LegBook, allocate, mid_price, natural_price, net_of

M, L = OrderType.MARKET, OrderType.LIMIT


def credit_spread(size_short=10, size_long=5):
    """Sell 1.20x1.25 put, buy 0.40x0.45 put: natural credit 0.75, mid credit 0.80."""
    return [LegBook(Side.SELL, 1, D("1.20"), D("1.25"), size_short, size_short),
            LegBook(Side.BUY, 1, D("0.40"), D("0.45"), size_long, size_long)]


def test_natural_and_mid_are_signed_debit_positive():
    legs = credit_spread()
    assert natural_price(legs) == D("-0.75") and mid_price(legs) == D("-0.80")


def test_market_order_takes_far_side_within_displayed_size():
    r = FillModel().evaluate(credit_spread(), quantity=5, order_type=M)
    assert r.quantity == 5 and r.net_price == D("-0.75") and r.leg_prices == (D("1.20"), D("0.45"))
    assert r.liquidity == "remove"


def test_market_order_beyond_displayed_size_pays_impact():
    r = FillModel(FillConfig(impact_ticks=1)).evaluate(credit_spread(), quantity=12, order_type=M)
    # 5 at -0.75, 5 at -0.73 (each leg one tick worse), 2 at -0.71
    assert r.quantity == 12
    assert r.net_price == (D("-0.75") * 5 + D("-0.73") * 5 + D("-0.71") * 2) / 12
    assert r.net_price > natural_price(credit_spread())  # worse than natural for us


def test_no_impact_config_fills_everything_at_natural():
    r = FillModel(FillConfig(impact_ticks=0)).evaluate(credit_spread(), quantity=50, order_type=M)
    assert r.quantity == 50 and r.net_price == D("-0.75")


def test_marketable_limit_fills_with_price_improvement_and_partial():
    r = FillModel().evaluate(credit_spread(), quantity=12, order_type=L, limit_price=D("-0.73"))
    assert r.quantity == 10 and r.net_price == D("-0.74")  # levels -0.75 and -0.73 fit inside -0.73
    r = FillModel().evaluate(credit_spread(), quantity=12, order_type=L, limit_price=D("-0.74"))
    assert r.quantity == 5 and r.net_price == D("-0.75")  # only the top level, improved on the limit


def test_limit_rests_until_crossed_and_then_fills_at_its_price():
    model = FillModel()
    assert model.evaluate(credit_spread(), quantity=3, order_type=L, limit_price=D("-0.80")) is None
    assert model.evaluate(credit_spread(), quantity=3, order_type=L, limit_price=D("-0.80"), resting=True) is None
    moved = [LegBook(Side.SELL, 1, D("1.30"), D("1.35"), 10, 10), LegBook(Side.BUY, 1, D("0.40"), D("0.45"), 2, 2)]
    r = model.evaluate(moved, quantity=3, order_type=L, limit_price=D("-0.80"), resting=True)
    assert r.quantity == 2 and r.net_price == D("-0.80") and r.liquidity == "add"  # partial: 2 shown
    assert net_of(moved, r.leg_prices) == D("-0.80")


def test_partial_fills_off_means_all_or_none():
    model = FillModel(FillConfig(partial_fills=False))
    assert model.evaluate(credit_spread(), quantity=12, order_type=L, limit_price=D("-0.75")) is None
    moved = [LegBook(Side.SELL, 1, D("1.30"), D("1.35"), 1, 1), LegBook(Side.BUY, 1, D("0.40"), D("0.45"), 1, 1)]
    assert model.evaluate(moved, quantity=7, order_type=L, limit_price=D("-0.80"), resting=True).quantity == 7


def test_limit_through_ticks_demands_a_trade_through():
    model = FillModel(FillConfig(limit_through_ticks=2))
    at = [LegBook(Side.BUY, 1, D("0.95"), D("1.00"), 5, 5)]
    assert model.evaluate(at, quantity=1, order_type=L, limit_price=D("1.00"), resting=True) is None
    through = [LegBook(Side.BUY, 1, D("0.93"), D("0.98"), 5, 5)]
    assert model.evaluate(through, quantity=1, order_type=L, limit_price=D("1.00"), resting=True).net_price == D("1.00")


def test_combo_fills_at_net_only_when_far_sides_allow():
    ic = [LegBook(Side.BUY, 1, D("0.10"), D("0.12"), 9, 9), LegBook(Side.SELL, 1, D("0.60"), D("0.63"), 9, 9),
          LegBook(Side.SELL, 1, D("0.55"), D("0.58"), 9, 9), LegBook(Side.BUY, 1, D("0.09"), D("0.11"), 9, 9)]
    assert natural_price(ic) == D("-0.92")
    assert FillModel().evaluate(ic, quantity=1, order_type=L, limit_price=D("-1.00"), resting=True) is None
    r = FillModel().evaluate(ic, quantity=1, order_type=L, limit_price=D("-0.90"), resting=True)
    assert r.net_price == D("-0.90") and net_of(ic, r.leg_prices) == D("-0.90")
    assert all(p >= 0 for p in r.leg_prices)


def test_stop_triggers_when_natural_reaches_it():
    model = FillModel()
    legs = [LegBook(Side.BUY, 1, D("2.00"), D("2.10"), 5, 5)]
    assert model.evaluate(legs, quantity=1, order_type=OrderType.STOP, stop_price=D("2.20")) is None
    r = model.evaluate(legs, quantity=1, order_type=OrderType.STOP, stop_price=D("2.10"))
    assert r.net_price == D("2.10")


def test_selling_needs_a_bid():
    dead = [LegBook(Side.SELL, 1, D("0"), D("0.05"), 0, 10)]
    assert FillModel().evaluate(dead, quantity=1, order_type=M) is None


def test_stock_leg_counts_shares_over_100():
    covered = [LegBook(Side.BUY, 100, D("500.00"), D("500.02"), 500, 500, multiplier=1),
               LegBook(Side.SELL, 1, D("3.00"), D("3.10"), 5, 5)]
    assert natural_price(covered) == D("500.02") - D("3.00")


@pytest.mark.parametrize("kind", ["fixed", "uniform", "lognormal"])
def test_latency_distribution(kind):
    model = FillModel(FillConfig(latency=kind, latency_ms=40, latency_jitter_ms=10, seed=3))
    xs = [model.latency() for _ in range(4000)]
    assert min(xs) >= 0 and abs(statistics.mean(xs) - 0.040) < 0.002
    if kind == "fixed":
        assert len(set(xs)) == 1
    else:
        assert 0.005 < statistics.stdev(xs) < 0.015
    again = FillModel(FillConfig(latency=kind, latency_ms=40, latency_jitter_ms=10, seed=3))
    assert [again.latency() for _ in range(5)] == xs[:5]


def test_allocate_hits_the_net_exactly():
    legs = credit_spread()
    for net in (D("-0.75"), D("-0.70"), D("-0.61"), D("-0.7777")):
        assert net_of(legs, allocate(legs, net)) == net
