"""Shared builders for the options tests: QuantLib oracles and synthetic chain snapshots."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest

MINUTE = 1.0 / 525_600.0
#: Expiries of the oracle grid: 1 minute, 5 minutes, 1 hour, 1 day, 30 days, 2 years.
T_GRID = (MINUTE, 5 * MINUTE, 60 * MINUTE, 1 / 365, 30 / 365, 2.0)


def ql_black(is_call: bool, S: float, K: float, T: float, r: float, q: float, sigma: float):
    """QuantLib's BlackCalculator for one option (any T: it takes the total std-dev, not dates)."""
    import QuantLib as ql

    fwd = S * math.exp((r - q) * T)
    disc = math.exp(-r * T)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, K)
    return ql.BlackCalculator(payoff, fwd, sigma * math.sqrt(T), disc), fwd, disc


def occ(root: str, expiry: date, is_call: bool, strike: float) -> str:
    from engine.core.instruments import OptionContract

    return OptionContract.of(root, expiry, "call" if is_call else "put", float(strike)).occ


@pytest.fixture
def make_snapshot():
    """Build a ChainSnapshot whose quotes are BSM prices of a smile ± half a spread (penny ticks
    unless ``ticks=False``); ``vendor=True`` adds vendor IVs (the smile) and deltas (±0.5)."""
    from engine.core.marketdata import ChainSnapshot
    from engine.options import bsm_price
    from engine.options.expiry import time_to_expiry

    def build(*, ts: datetime, expiry: date, spot: float = 590.0, strikes=None, root: str = "SPY",
              rate: float = 0.04, div: float = 0.0, half_spread: float = 0.01, smile=None,
              vendor: bool = False, symbol_prefix: str = "", ticks: bool = True) -> ChainSnapshot:
        strikes = np.arange(spot - 20, spot + 21, 1.0) if strikes is None else np.asarray(strikes, float)
        K = np.repeat(strikes, 2)
        is_call = np.tile([True, False], strikes.size)
        T = max(time_to_expiry(ts, expiry), MINUTE)
        vol = smile(K) if smile is not None else 0.15 + 8.0 * np.log(K / spot) ** 2
        fair = bsm_price(is_call, spot, K, T, rate, div, vol)
        if ticks:
            bid = np.maximum(np.floor((fair - half_spread) * 100) / 100, 0.0)
            ask = np.ceil((fair + half_spread) * 100) / 100
        else:  # exact: the mid is the model price
            bid, ask = fair - half_spread, fair + half_spread
        n = K.size
        return ChainSnapshot(
            underlying=root, expiry=expiry, ts=ts, spot=spot,
            symbols=tuple(symbol_prefix + occ(root, expiry, c, k) for c, k in zip(is_call, K, strict=True)),
            strikes=K, is_call=is_call, bid=bid, ask=ask, bid_size=np.full(n, 10.0),
            ask_size=np.full(n, 12.0), last=np.full(n, np.nan), volume=np.arange(n, dtype=float),
            open_interest=np.arange(n, dtype=float) * 10,
            vendor_iv=vol if vendor else np.empty(0),
            vendor_delta=np.where(is_call, 0.5, -0.5) if vendor else np.empty(0),
            source="test", session=expiry)

    return build
