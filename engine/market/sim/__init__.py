"""The simulated market (the default, offline feed): a pure function of (seed, instant).

Public surface::

    from engine.market.sim import SimMarket, SimFeed, SimParams, synthetic_minute_bars
"""

from engine.market.sim.feed import SimFeed
from engine.market.sim.history import synthetic_minute_bars
from engine.market.sim.market import SimMarket
from engine.market.sim.params import DEFAULT_PARAMS, SimParams

__all__ = ["DEFAULT_PARAMS", "SimFeed", "SimMarket", "SimParams", "synthetic_minute_bars"]
