"""Recorded option prices in the bar store make a backtest "quoted"; without them it is "modeled"."""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pytest

from engine.backtest import BacktestParams, BacktestService
from engine.backtest.pricing import model_quotes
from engine.core.instruments import OptionContract, Right
from engine.market.bars import BarStore
from engine.options import bsm_price
from engine.settings import get_settings

DAY = date(2019, 2, 11)


def occ(right: str, strike: int) -> str:
    from decimal import Decimal

    return OptionContract("SPY", DAY, Right(right), Decimal(strike)).occ


@pytest.fixture
def store_with_options(shared_data):
    store = BarStore(get_settings())
    store.import_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    spy = store.minute_bars("SPY", DAY, DAY)
    close = spy["close"].to_numpy()
    minutes_left = np.arange(len(close), 0, -1) - 1.0  # from each bar's end to 16:00
    T = np.maximum(minutes_left, 0.5) / 525_600
    for k in range(262, 281):
        for right in ("call", "put"):
            # recorded prints: a flat 30% calendar IV, rounded to cents like real prints
            px = np.round(bsm_price(right == "call", close, float(k), T, 0.02, 0.0, 0.30), 2)
            frame = spy.copy()
            frame[["open", "high", "low", "close"]] = np.column_stack([px] * 4)
            frame["volume"] = 10
            store.write_frame(occ(right, k), frame.iloc[5:])  # no prints in the first 5 minutes
    return store, spy


def test_recorded_option_prices_make_a_quoted_backtest(store_with_options):
    store, spy = store_with_options
    svc = BacktestService(get_settings())
    res = svc.run_sync(BacktestParams(strategy="iron_condor", start=DAY, end=DAY, report=False))
    assert res.data == "quoted" and res.iv_sources == ["recorded"]
    t = res.trades[0]
    # strikes come from the recorded chain and the 10:00 fills sit on the recorded prices' modeled quotes
    assert all(262 <= leg["strike"] <= 280 for leg in t.legs)
    i = 29  # the bar ending 10:00
    spread = svc.market_model().spread
    for leg in t.legs:
        closes = store.minute_bars(occ(leg["right"], int(leg["strike"])), DAY, DAY)["close"].to_numpy()
        recorded = closes[i - 5]
        bid, ask = model_quotes(np.array([recorded]), spread)
        assert leg["fill"] == pytest.approx(float(ask[0] if leg["qty"] > 0 else bid[0]))


def test_days_without_recorded_options_stay_modeled(store_with_options):
    res = BacktestService(get_settings()).run_sync(BacktestParams(strategy="iron_condor", start=DAY,
                                                                  end=date(2019, 2, 12), report=False))
    assert res.data == "modeled" and any("1 of 2 sessions" in n for n in res.notes)
