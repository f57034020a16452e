"""The 0DTE backtester: minute-level, day by day, modeled or quoted option prices, shared fills.

Public surface::

    from engine.backtest import BacktestService, BacktestParams, BacktestResult, PayoffParams

Names load on first use: ``engine.settings`` imports ``engine.backtest.config``, and every CLI
call must not pay for pandas, numba and plotly just to read its settings.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BacktestParams": "engine.backtest.params",
    "PayoffParams": "engine.backtest.params",
    "StructurePlan": "engine.backtest.params",
    "BacktestResult": "engine.backtest.service",
    "BacktestService": "engine.backtest.service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.backtest' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
