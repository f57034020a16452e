"""Option structures built from deltas, strike offsets or widths, with payoff, risk and margin.

Public surface::

    from engine.strategies import ChainView, StrategySpec, build, payoff, payoff_figure
    view = ChainView(underlying, spot, strikes, call_delta, put_delta, expiry)
    s = build(StrategySpec("iron_condor", delta=0.10, width=5), view)
    p = payoff(s, leg_prices, quantity=1, spot=spot)   # max_profit, max_loss, breakevens, margin
"""

from engine.strategies.builders import BUILDERS, ChainView, StrategySpec, build
from engine.strategies.chart import payoff_figure
from engine.strategies.legs import MULTIPLIER, STRATEGIES, Leg, Structure
from engine.strategies.payoff import Payoff, expiry_value, intrinsic, margin_requirement, payoff

__all__ = [
    "BUILDERS", "MULTIPLIER", "STRATEGIES", "ChainView", "Leg", "Payoff", "StrategySpec", "Structure",
    "build", "expiry_value", "intrinsic", "margin_requirement", "payoff", "payoff_figure",
]
