"""The modeled option market: parity, quotes on the tick grid, IV sources, calibration."""

from __future__ import annotations

import os

import numpy as np
import pytest

from engine.backtest.calibration import DEFAULT_SKEW, DEFAULT_SPREAD, calibrate_file
from engine.backtest.pricing import (
    CALENDAR_IV,
    MarketModel,
    atm_iv_path,
    chain_mids,
    deltas,
    listed_strikes,
    model_quotes,
    realized_vol,
    years_to_close,
)
from engine.options import bsm_price

M = MarketModel()


def test_chain_mids_match_bsm_and_parity():
    spot = np.array([500.0, 501.0])
    k = listed_strikes(500.0, M, 5)
    T = years_to_close(np.array([120.0, 60.0]))
    atm = np.array([0.15, 0.15])
    calls, puts = chain_mids(spot, k, T, atm, M)
    assert calls.shape == (2, k.size)
    atm_col = np.searchsorted(k, 500.0)
    want = bsm_price(True, 500.0, 500.0, T[0], M.rate, 0.0, 0.15 * CALENDAR_IV)
    assert calls[0, atm_col] == pytest.approx(float(want), rel=1e-3)  # skew factor is 1 near the forward
    parity = calls - puts - (spot[:, None] - k * np.exp(-M.rate * T[:, None]))
    assert np.abs(parity[puts > 1e-6]).max() < 1e-9


def test_expiry_minute_is_intrinsic():
    calls, puts = chain_mids(np.array([503.0]), np.array([500.0, 505.0]), np.array([0.0]), np.array([0.2]), M)
    assert calls[0].tolist() == [3.0, 0.0] and puts[0].tolist() == [0.0, 2.0]


def test_put_skew_is_richer_than_calls():
    dc, dp = deltas(500.0, np.array([490.0, 510.0]), 3 / (24 * 365), 0.15, M)
    calls, puts = chain_mids(np.array([500.0]), np.array([490.0, 510.0]), np.array([3 / (24 * 365)]),
                             np.array([0.15]), M)
    assert puts[0, 0] > calls[0, 1]  # equidistant OTM put costs more than the call
    assert -dp[0] > dc[1]


def test_quotes_on_tick_grid_bid_below_ask():
    mid = np.array([0.003, 0.05, 0.5, 2.345, 10.0])
    bid, ask = model_quotes(mid, DEFAULT_SPREAD)
    assert (bid >= 0).all() and (ask > bid).all() and (ask >= 0.01).all()
    assert np.allclose(np.round(bid * 100), bid * 100) and np.allclose(np.round(ask * 100), ask * 100)
    assert (bid <= mid + 1e-12).all() and (ask >= mid - 1e-12).all()
    assert bid[0] == 0.0


def test_atm_iv_from_vix_forward_fills_never_back_fills():
    vix = np.array([np.nan, 16.0, np.nan, np.nan, 18.0])
    iv, src = atm_iv_path(5, M, vix, vix_before=15.0)
    assert src == "vix" and iv.tolist() == pytest.approx([0.15, 0.16, 0.16, 0.16, 0.18])
    # no earlier VIX: the first minute falls back, it does not borrow the later 16.0
    iv, _ = atm_iv_path(5, M, vix, vix_before=None, past_rv=0.10)
    assert iv[0] == pytest.approx(0.10 * M.rv_premium) and iv[1] == pytest.approx(0.16)


def test_iv_fallbacks():
    assert atm_iv_path(3, M, None, past_rv=0.2)[1] == "realized"
    iv, src = atm_iv_path(3, M, None)
    assert src == "fallback" and iv.tolist() == [M.fallback_iv] * 3
    rng = np.random.default_rng(0)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.2 / np.sqrt(252 * 390), 5000)))
    assert realized_vol(closes) == pytest.approx(0.2, rel=0.05)


def test_strikes_centered_on_the_open():
    k = listed_strikes(400.4, M, 5)
    assert k[0] <= 400.4 * 0.95 - 5 and k[-1] >= 400.4 * 1.05 + 5 and np.allclose(np.diff(k), 1.0)


def test_frozen_calibration_matches_the_real_chain(shared_data):
    skew, spread = calibrate_file(os.path.join(shared_data, "cboe-spy-chain", "spy_quotedata_2025-05-16.csv"))
    assert skew == DEFAULT_SKEW and spread == DEFAULT_SPREAD
    assert skew.slope < 0  # equity put skew


def test_skew_reproduces_the_real_chain_smile(shared_data):
    """The frozen skew against Cboe's own IVs on the 1-10 day SPY expiries: small relative error."""
    from datetime import date

    from engine.backtest.calibration import parity_forward, read_cboe_quotedata
    from engine.options.expiry import time_to_expiry

    chain = read_cboe_quotedata(os.path.join(shared_data, "cboe-spy-chain", "spy_quotedata_2025-05-16.csv"))
    errors = []
    for exp in np.unique(chain.expiry):
        day = exp.astype(date)
        if not 0 < (day - chain.stamp.date()).days <= 10:
            continue
        sel = chain.expiry == exp
        k = chain.strike[sel]
        fwd = parity_forward(k, (chain.call_bid[sel] + chain.call_ask[sel]) / 2,
                             (chain.put_bid[sel] + chain.put_ask[sel]) / 2)
        iv = np.where(k < fwd, chain.put_iv[sel], chain.call_iv[sel])
        ok = iv > 0.01
        atm = float(np.interp(np.log(fwd), np.log(k[ok]), iv[ok]))
        x = np.log(k[ok] / fwd) / (atm * np.sqrt(time_to_expiry(chain.stamp, day)))
        near = np.abs(x) <= 2.5
        errors.append(atm * DEFAULT_SKEW.factor(x[near]) / iv[ok][near] - 1.0)
    err = np.concatenate(errors)
    assert err.size > 150
    assert np.sqrt(np.mean(err ** 2)) < 0.07  # within 7% RMS of the vendor's IV across the smile
