"""Chain: IV/Greeks recomputed from quotes, selection by strike/delta/ATM, rows contract, bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput, MalformedSymbol, NoData
from engine.core.instruments import Right, SettleTime
from engine.options import bsm_greeks
from engine.options.chain import ROW_KEYS, Chain
from engine.options.expiry import time_to_expiry

TS = datetime(2025, 5, 16, 10, 30, tzinfo=NY)
DAY = date(2025, 5, 16)


def smile(K):
    return 0.15 + 8.0 * np.log(K / 590.0) ** 2


def test_mid_iv_recovers_the_surface_and_greeks_use_display_units(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY, ticks=False, smile=smile)
    ch = Chain.from_snapshot(snap, TS, 0.04)
    years = ch.T
    assert years == pytest.approx(330 / 525600)
    for side in (ch.calls, ch.puts):
        otm = side.strikes > 590.0 if side.right is Right.CALL else side.strikes < 590.0
        ok = side.listed & (side.mid > 0.02) & (otm | (side.strikes == 590.0))
        assert ok.sum() >= 5
        assert np.allclose(side.iv[ok], smile(side.strikes[ok]), atol=1e-9)
        # bid IV below mid IV below ask IV
        both = ok & np.isfinite(side.iv_bid)
        assert np.all(side.iv_bid[both] < side.iv[both]) and np.all(side.iv[both] < side.iv_ask[both])
        g = bsm_greeks(side.right is Right.CALL, 590.0, side.strikes, ch.T, 0.04, 0.0, side.model_iv)
        assert np.allclose(side.delta[ok], g["delta"][ok])
        assert np.allclose(side.theta[ok], g["theta"][ok] / 365.0)
        assert np.allclose(side.vega[ok], g["vega"][ok] / 100.0)


def test_rows_contract_window_order_and_filters(make_snapshot):
    ch = Chain.from_snapshot(make_snapshot(ts=TS, expiry=DAY), TS, 0.04)
    rows = ch.rows(3)
    assert [tuple(r) for r in rows] == [ROW_KEYS] * len(rows)
    assert ROW_KEYS == ("symbol", "strike", "right", "bid", "ask", "mid", "iv", "delta", "gamma", "theta",
                        "vega", "volume", "open_interest")
    assert [r["strike"] for r in rows] == [k for k in (587.0, 588.0, 589.0, 590.0, 591.0, 592.0, 593.0)
                                           for _ in range(2)]
    assert [r["right"] for r in rows[:2]] == ["call", "put"]
    atm_call = rows[6]
    assert atm_call["symbol"] == "SPY250516C00590000" and 0.45 < atm_call["delta"] < 0.55
    assert 0.12 < atm_call["iv"] < 0.18  # decimal, not percent
    assert atm_call["theta"] < 0 and 0 < atm_call["vega"] < 1  # per day, per vol point
    assert isinstance(atm_call["volume"], int) and isinstance(atm_call["open_interest"], int)
    puts = ch.rows(None, right="put", min_delta=0.2, max_delta=0.4)
    assert puts and all(r["right"] == "put" and 0.2 <= abs(r["delta"]) <= 0.4 for r in puts)
    assert len(ch.rows()) == 2 * ch.strikes.size
    ext = ch.rows(0, extended=True)
    assert {"iv_bid", "iv_ask", "vendor_iv", "vendor_delta"} <= set(ext[0]) and ext[0]["vendor_iv"] is None
    with pytest.raises(InvalidInput):
        ch.rows(-1)


def test_selection_by_delta_strike_and_atm(make_snapshot):
    ch = Chain.from_snapshot(make_snapshot(ts=TS, expiry=DAY, spot=590.3, strikes=np.arange(570.0, 611.0)), TS,
                             0.04)
    assert ch.atm_strike() == 590.0
    contract, i = ch.by_delta("put", 0.20)
    d = np.abs(ch.puts.delta)
    assert i == int(np.nanargmin(np.abs(d - 0.20)))
    assert contract.right is Right.PUT and float(contract.strike) == ch.puts.strikes[i] < 590.3
    c_contract, j = ch.by_delta(Right.CALL, 0.5)
    assert abs(float(c_contract.strike) - 590.3) <= 1.0
    assert ch.by_strike("call", 595) == ch.by_any_strike(595.0)
    assert ch.contract("p", 585).occ == "SPY250516P00585000"
    with pytest.raises(InvalidInput, match="strike 123.5 not listed"):
        ch.by_strike("call", 123.5)
    with pytest.raises(InvalidInput):
        ch.by_delta("call", 1.5)


def test_quote_accepts_polygon_symbols_and_rejects_strangers(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY, symbol_prefix="O:", vendor=True)
    ch = Chain.from_snapshot(snap, TS, 0.04)
    assert ch.calls.symbols[0].startswith("SPY250516C")  # normalised to compact OCC
    q = ch.quote("O:SPY250516C00590000")
    i = ch.by_strike("call", 590)
    assert (q.symbol, q.bid, q.ask, q.bid_size, q.ask_size) == ("SPY250516C00590000", ch.calls.bid[i],
                                                                ch.calls.ask[i], 10, 12)
    assert q.ts == TS and q.session == DAY and q.source == "test"
    # vendor numbers are reported beside ours, never used for ours
    assert np.allclose(ch.calls.vendor_iv, smile(ch.strikes)) and np.all(ch.puts.vendor_delta == -0.5)
    assert not np.allclose(ch.puts.delta, -0.5)
    with pytest.raises(InvalidInput, match="not in the SPY"):
        ch.quote("SPY250516C00999000")
    with pytest.raises(MalformedSymbol):
        ch.quote("SPY")


def test_one_sided_strikes_stay_aligned(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY)
    drop = np.array([c or k != 600.0 for c, k in zip(snap.is_call, snap.strikes, strict=True)])
    thin = replace(snap, symbols=tuple(np.array(snap.symbols)[drop]),
                   **{f: np.asarray(getattr(snap, f))[drop] for f in
                      ("strikes", "is_call", "bid", "ask", "bid_size", "ask_size", "last", "volume",
                       "open_interest")})
    ch = Chain.from_snapshot(thin, TS, 0.04)
    assert ch.calls.strikes is ch.strikes and ch.puts.strikes.size == ch.strikes.size
    i = ch.by_any_strike(600.0)
    assert ch.calls.listed[i] and not ch.puts.listed[i] and ch.puts.symbols[i] == ""
    assert np.isnan(ch.puts.delta[i]) and np.isfinite(ch.calls.delta[i])
    with pytest.raises(InvalidInput, match="not listed"):
        ch.by_strike("put", 600.0)
    assert [r["right"] for r in ch.rows(None) if r["strike"] == 600.0] == ["call"]
    assert len(ch.puts) == len(ch.calls) - 1


def test_bad_quotes_give_nan_not_exceptions(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY)
    bid, ask = snap.bid.copy(), snap.ask.copy()
    deep_itm_put = int(np.flatnonzero((~snap.is_call) & (snap.strikes == 610.0))[0])
    ask[deep_itm_put] = 610.0 - 590.0 - 0.5  # mid far below intrinsic value
    bid[deep_itm_put] = ask[deep_itm_put] - 0.02
    crossed = int(np.flatnonzero(snap.is_call & (snap.strikes == 595.0))[0])
    bid[crossed], ask[crossed] = 2.0, 1.0
    ch = Chain.from_snapshot(replace(snap, bid=bid, ask=ask), TS, 0.04)
    i = ch.by_strike("put", 610)
    assert np.isnan(ch.puts.iv[i]) and np.isfinite(ch.puts.model_iv[i])
    assert ch.puts.delta[i] < -0.9  # Greeks still there (model IV), so delta selection works
    j = ch.by_strike("call", 595)
    assert np.isnan(ch.calls.mid[j]) and np.isnan(ch.calls.iv[j])
    # zero bid far out of the money: no bid IV, but the mid (ask/2) has one
    far = ch.by_strike("call", 610)
    assert ch.calls.bid[far] == 0.0 and np.isnan(ch.calls.iv_bid[far]) and np.isfinite(ch.calls.iv[far])
    # a zero spot never raises either: it is replaced by the parity spot
    zero = Chain.from_snapshot(replace(snap, spot=0.0), TS, 0.04)
    assert zero.spot_source == "parity" and zero.spot == pytest.approx(590.0, abs=0.05)


def test_shape_mismatch_raises_value_error(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY)
    with pytest.raises(ValueError, match="bid"):
        Chain.from_snapshot(replace(snap, bid=snap.bid[:-1]), TS, 0.04)
    with pytest.raises(ValueError, match="vendor_iv"):
        Chain.from_snapshot(replace(snap, vendor_iv=np.ones(3)), TS, 0.04)


def test_at_and_after_expiry_greeks_are_the_payoff(make_snapshot):
    close = datetime(2025, 5, 16, 16, 0, tzinfo=NY)
    ch = Chain.from_snapshot(make_snapshot(ts=TS, expiry=DAY), close, 0.04)
    assert ch.T == 0.0 and np.isnan(ch.calls.iv).all()
    k = ch.strikes
    assert np.array_equal(ch.calls.delta, np.where(k < 590.0, 1.0, 0.0))
    assert np.array_equal(ch.puts.delta, np.where(k > 590.0, -1.0, 0.0))
    assert np.all(ch.calls.gamma == 0) and np.all(ch.puts.theta == 0)
    with pytest.raises(NoData, match="expired"):
        ch.by_delta("put", 0.3)


def test_am_settled_root_prices_to_the_opening_settlement(make_snapshot):
    thursday = datetime(2025, 5, 15, 15, 0, tzinfo=NY)
    snap = make_snapshot(ts=thursday, expiry=DAY, root="SPX", spot=5900.0,
                         strikes=np.arange(5800.0, 6001.0, 25.0))
    ch = Chain.from_snapshot(snap, thursday, 0.04)
    assert ch.settle_time is SettleTime.AM
    years = ch.T
    assert years == pytest.approx(time_to_expiry(thursday, DAY, "am"))
    assert years * 525600 == pytest.approx(18.5 * 60)


@pytest.mark.parametrize("underlying", ["SPY", "QQQ", "IWM"])
def test_simulated_0dte_chain_ivs_match_the_simulators_surface(underlying):
    from engine.market.sim import SimMarket

    ts = datetime(2026, 11, 20, 11, 0, tzinfo=NY)
    sim = SimMarket(seed=7)
    sc = sim.chain(underlying, ts.date(), ts)
    from engine.settings import get_settings

    rate = get_settings().risk_free_rate
    ch = Chain.from_snapshot(sc.snapshot, sc.snapshot.ts, rate, sc.div_yield)
    assert ch.T > 0
    near = np.abs(ch.strikes / ch.spot - 1) < 0.01
    for side in (ch.calls, ch.puts):
        ok = near & side.listed & (side.bid > 0.05)
        assert ok.sum() >= 4
        # quotes are penny-rounded around the simulator's theoretical price: IVs agree to what a
        # tick of price is worth in vol at that vega
        tol = 0.006 / np.maximum(side.vega[ok] * 100, 1e-9) + 0.002
        assert np.all(np.abs(side.iv[ok] - side.vendor_iv[ok]) <= tol)
    assert ch.rows(5) and all(r["iv"] is not None for r in ch.rows(2))


def test_missing_spot_is_recovered_from_put_call_parity(make_snapshot):
    snap = make_snapshot(ts=TS, expiry=DAY, ticks=False, spot=590.37, strikes=np.arange(570.0, 611.0))
    ch = Chain.from_snapshot(replace(snap, spot=float("nan")), TS, 0.04)
    assert ch.spot_source == "parity" and ch.spot == pytest.approx(590.37, abs=1e-6)
    assert np.isfinite(ch.calls.iv[ch.by_strike("call", 591)])
    assert Chain.from_snapshot(snap, TS, 0.04).spot_source == "snapshot"
    # nothing to infer from: NaN, never an exception
    calls_only = replace(snap, is_call=np.ones(len(snap), dtype=bool))
    odd = Chain.from_snapshot(replace(calls_only, spot=0.0), TS, 0.04)
    assert np.isnan(odd.spot) and np.isnan(odd.calls.iv).all()
