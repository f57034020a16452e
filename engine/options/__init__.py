"""Options analytics: BSM prices and Greeks, implied volatility, American prices, time to expiry,
chains, smiles and surfaces, portfolio Greeks and scenarios.

The contract (numpy in, numpy out, every array argument broadcasts; bad numbers give NaN
element-wise, shape mismatches raise ``ValueError``)::

    from engine.options import bsm_price, bsm_greeks, implied_vol

    bsm_price(is_call, S, K, T, r, q, sigma) -> ndarray
    bsm_greeks(is_call, S, K, T, r, q, sigma) -> {"delta", "gamma", "vega", "theta", "rho"}
    implied_vol(price, is_call, S, K, T, r, q) -> ndarray

Also here: :func:`american_price` (Bjerksund–Stensland; ``american_implied_vol`` inverts it,
``american_price_tree`` prices discrete cash dividends), :func:`theta_per_day` /
:func:`vega_per_point` (display units), :func:`time_to_expiry` (0DTE clock), and — imported on
first use, so ``import engine.options`` stays light — ``Chain`` (:mod:`engine.options.chain`),
``fit_smile``/``term_structure``/``expected_move``/``iv_rank`` (:mod:`engine.options.surface`),
``portfolio_greeks``/``scenario_grid`` (:mod:`engine.options.portfolio`) and ``parity_forward``.
"""

from __future__ import annotations

import importlib

from engine.options.american import american_price
from engine.options.bsm import (
    DAYS_PER_YEAR,
    MINUTES_PER_YEAR,
    bsm_greeks,
    bsm_price,
    bsm_price_and_greeks,
    bsm_second_order,
    theta_per_day,
    vega_per_point,
)
from engine.options.iv import implied_vol

_LAZY = {
    "time_to_expiry": "engine.options.expiry",
    "expiry_moment": "engine.options.expiry",
    "Chain": "engine.options.chain",
    "ChainSide": "engine.options.chain",
    "fit_smile": "engine.options.surface",
    "term_structure": "engine.options.surface",
    "expected_move": "engine.options.surface",
    "calendar_arbitrage": "engine.options.surface",
    "iv_rank": "engine.options.surface",
    "VolSurface": "engine.options.surface",
    "portfolio_greeks": "engine.options.portfolio",
    "scenario_grid": "engine.options.portfolio",
    "parity_forward": "engine.options.parity",
    "american_price_tree": "engine.options.tree",
    "american_implied_vol": "engine.options.american",
}

__all__ = [  # the second line resolves lazily through __getattr__
    "DAYS_PER_YEAR", "MINUTES_PER_YEAR", "american_price", "bsm_greeks", "bsm_price", "bsm_price_and_greeks",
    "bsm_second_order", "implied_vol", "theta_per_day", "vega_per_point",
    "Chain", "ChainSide", "calendar_arbitrage", "expected_move", "expiry_moment", "fit_smile", "iv_rank",
    "parity_forward", "portfolio_greeks", "scenario_grid", "term_structure", "time_to_expiry",
    "american_price_tree", "american_implied_vol", "VolSurface",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.options' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
