"""The 0DTE backtester: minute-level, day by day, modeled or quoted option prices, shared fills.

Public surface::

    from engine.backtest import BacktestService, BacktestParams, BacktestResult, PayoffParams
"""

from engine.backtest.params import BacktestParams, PayoffParams, StructurePlan
from engine.backtest.service import BacktestResult, BacktestService

__all__ = ["BacktestParams", "BacktestResult", "BacktestService", "PayoffParams", "StructurePlan"]
