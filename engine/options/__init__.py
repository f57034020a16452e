"""Options analytics: BSM prices and Greeks, implied volatility, American prices, chains, surfaces.

Public surface (numpy in, numpy out, every array argument broadcasts)::

    from engine.options import bsm_price, bsm_greeks, implied_vol

See :mod:`engine.options.bsm` for units and bad-input rules, :mod:`engine.options.iv` for the
implied-volatility kernel, :mod:`engine.options.chain` for :class:`Chain`.
"""

from engine.options.bsm import (
    DAYS_PER_YEAR,
    MINUTES_PER_YEAR,
    bsm_greeks,
    bsm_price,
    theta_per_day,
    vega_per_point,
)
from engine.options.iv import implied_vol

__all__ = [
    "DAYS_PER_YEAR",
    "MINUTES_PER_YEAR",
    "bsm_greeks",
    "bsm_price",
    "implied_vol",
    "theta_per_day",
    "vega_per_point",
]
