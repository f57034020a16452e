"""Smile/surface: SVI fit and arbitrage checks, ATM/RR25/BF25, term structure, expected move, IV rank."""

from __future__ import annotations

import math
import os
from datetime import date, datetime

import numpy as np
import pytest

from engine.core.clock import NY
from engine.core.errors import NoData
from engine.options.chain import Chain
from engine.options.surface import (
    SVI,
    atm_greeks_check,
    calendar_arbitrage,
    expected_move,
    fit_smile,
    fit_svi,
    iv_rank,
    term_structure,
)

TS = datetime(2025, 5, 16, 10, 30, tzinfo=NY)


def _svi_smile(T: float, forward: float, *, a_frac=0.6, b=0.12, rho=-0.6, m=0.0, sigma=0.05):
    """An arbitrage-free SVI with ATM vol ~15 % scaled to expiry T."""
    atm_w = 0.15**2 * T
    return SVI(a=a_frac * atm_w, b=b * math.sqrt(T), rho=rho, m=m, sigma=sigma * math.sqrt(T), T=T,
               forward=forward)


def _chain(make_snapshot, expiry: date, ts=TS, spot=590.0, **svi_kw) -> tuple[Chain, SVI]:
    from engine.options.expiry import time_to_expiry

    T = time_to_expiry(ts, expiry)
    fwd = spot * math.exp(0.04 * T)
    svi = _svi_smile(T, fwd, **svi_kw)
    width = max(4 * 0.15 * math.sqrt(T) * spot, 5.0)
    strikes = np.arange(round(spot - width), round(spot + width) + 1, 1.0)
    snap = make_snapshot(ts=ts, expiry=expiry, spot=spot, strikes=strikes, smile=svi.iv, ticks=False,
                         half_spread=0.005)
    return Chain.from_snapshot(snap, ts, 0.04), svi


@pytest.mark.parametrize("expiry", [date(2025, 5, 16), date(2025, 5, 23), date(2025, 6, 20)])
def test_fit_recovers_a_known_svi_smile_and_reads_atm_rr_bf(make_snapshot, expiry):
    ch, truth = _chain(make_snapshot, expiry)
    fit = fit_smile(ch, min_bid=0.0)
    K = ch.strikes[(ch.calls.mid > 0.05) | (ch.puts.mid > 0.05)]
    assert np.max(np.abs(fit.iv(K) - truth.iv(K))) < 2e-3
    assert fit.rmse < 1e-3 and fit.butterfly_ok and fit.lee_ok
    assert fit.atm_iv == pytest.approx(float(truth.iv(ch.forward)), abs=2e-3)
    assert fit.rr25 < 0 and fit.put25_strike < ch.forward < fit.call25_strike  # put skew
    assert fit.bf25 > 0  # smile convexity
    d = atm_greeks_check(fit)
    assert d["call25_delta"] == pytest.approx(0.25, abs=1e-6) and d["put25_delta"] == pytest.approx(-0.25, abs=1e-6)
    assert fit.to_dict()["expiry"] == expiry.isoformat()


def test_durrleman_flags_a_known_arbitrage_smile():
    # Axel Vogt's SVI (Gatheral & Jacquier 2014): fits well, but has butterfly arbitrage.
    bad = SVI(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153, T=1.0, forward=100.0)
    k = np.linspace(-1.5, 1.5, 601)
    assert bad.durrleman_g(k).min() < 0
    good = _svi_smile(1.0, 100.0)
    assert good.durrleman_g(k).min() > 0


def test_calendar_arbitrage_is_detected_only_when_variance_falls(make_snapshot):
    near, _ = _chain(make_snapshot, date(2025, 5, 23))
    far, _ = _chain(make_snapshot, date(2025, 6, 20))
    fits = [fit_smile(near, min_bid=0.0), fit_smile(far, min_bid=0.0)]
    assert calendar_arbitrage(fits) == []
    # a "far" smile with less total variance than the near one is an arbitrage
    cheap, _ = _chain(make_snapshot, date(2025, 5, 30), a_frac=0.05, b=0.02)
    found = calendar_arbitrage([fits[0], fit_smile(cheap, min_bid=0.0)])
    assert found and found[0]["far_w"] < found[0]["near_w"]


def test_expected_move_is_the_atm_straddle(make_snapshot):
    ch, _ = _chain(make_snapshot, date(2025, 5, 16))
    em = expected_move(ch)
    i = ch.by_any_strike(ch.atm_strike())
    assert em["straddle"] == pytest.approx(ch.calls.mid[i] + ch.puts.mid[i])
    assert em["one_sd"] == pytest.approx(ch.spot * em["atm_iv"] * math.sqrt(ch.T))
    # the straddle is about 0.8 standard deviations (√(2/π)) of the move
    assert em["straddle"] / em["one_sd"] == pytest.approx(math.sqrt(2 / math.pi), rel=0.05)
    assert em["low"] < ch.spot < em["high"]


def test_term_structure_rows_in_expiry_order(make_snapshot):
    chains = [_chain(make_snapshot, d)[0] for d in (date(2025, 6, 20), date(2025, 5, 16), date(2025, 5, 23))]
    rows = term_structure(chains, min_bid=0.0)
    assert [r["expiry"] for r in rows] == ["2025-05-16", "2025-05-23", "2025-06-20"]
    assert all(0.1 < r["atm_iv"] < 0.2 and r["rr25"] < 0 for r in rows)


def test_expired_or_thin_chains_raise_no_data(make_snapshot):
    ch, _ = _chain(make_snapshot, date(2025, 5, 16))
    expired = Chain.from_snapshot(make_snapshot(ts=TS, expiry=date(2025, 5, 16)),
                                  datetime(2025, 5, 16, 16, 5, tzinfo=NY), 0.04)
    with pytest.raises(NoData):
        fit_smile(expired)
    with pytest.raises(NoData, match="at least 5"):
        fit_svi([590.0, 591.0], [0.2, 0.2], 590.0, 0.01)


def test_iv_rank_and_percentile():
    hist = np.array([10.0, 20.0, 30.0, 40.0, np.nan, 50.0])
    r = iv_rank(hist, current=30.0)
    assert r["rank"] == pytest.approx(0.5) and r["percentile"] == pytest.approx(0.4) and r["n"] == 5
    assert iv_rank(hist)["rank"] == 1.0  # the last value is the high
    assert iv_rank(hist, current=5.0)["rank"] == 0.0
    with pytest.raises(NoData):
        iv_rank([np.nan])


def test_iv_rank_on_real_vix_history(shared_data):
    import csv

    with open(os.path.join(shared_data, "vix", "vix-daily-1990-2023.csv")) as fh:
        closes = np.array([float(r["CLOSE"]) for r in csv.DictReader(fh)])
    r = iv_rank(closes, lookback=252)
    assert r["n"] == 252 and 0.0 <= r["rank"] <= 1.0 and 0.0 <= r["percentile"] <= 1.0
    assert r["low"] < 13 < 20 < r["high"]  # 2023: VIX between ~12 and ~26
    assert iv_rank(closes, current=80.0)["rank"] == 1.0 and iv_rank(closes, current=80.0)["percentile"] == 1.0


def test_real_cboe_surface_is_skewed_and_arbitrage_free():
    from tests.conftest import SHARED_DATA
    from tests.unit.options.test_cboe_chain import CLOSE, DIV, FILE, RATE, _spot, read_cboe, snapshot

    cboe = read_cboe(os.path.join(SHARED_DATA, *FILE))
    chains = [Chain.from_snapshot(snapshot(d, cboe[d], _spot(d, cboe[d])), CLOSE, RATE, DIV)
              for d in sorted(cboe) if d > date(2025, 5, 16)]
    fits = [fit_smile(c) for c in chains]
    for f in fits:
        assert f.rmse < 0.005 and f.butterfly_ok, f.expiry
        assert 0.07 < f.atm_iv < 0.2 and f.rr25 < 0  # SPY: puts over calls
    assert calendar_arbitrage(fits) == []
    assert fits[-1].atm_iv > fits[0].atm_iv  # weekend-heavy Monday expiry is the cheapest


def test_vol_surface_interpolates_total_variance_between_expiries(make_snapshot):
    from engine.options.surface import VolSurface

    near, _ = _chain(make_snapshot, date(2025, 5, 23))
    far, _ = _chain(make_snapshot, date(2025, 6, 20))
    fits = [fit_smile(far, min_bid=0.0), fit_smile(near, min_bid=0.0)]
    surf = VolSurface(fits)
    assert [f.expiry for f in surf.fits] == [date(2025, 5, 23), date(2025, 6, 20)]  # sorted
    # on an expiry it reproduces that smile
    K = np.array([570.0, 590.0, 610.0])
    assert np.allclose(surf.iv(K, near.T), fits[1].iv(K * surf.forward(near.T) / fits[1].forward), atol=1e-9)
    # halfway in T, total variance is halfway (at the same forward moneyness)
    T_mid = 0.5 * (near.T + far.T)
    F_mid = surf.forward(T_mid)
    w_mid = surf.iv(F_mid, T_mid) ** 2 * T_mid
    w_near = fits[1].svi.total_variance(0.0)
    w_far = fits[0].svi.total_variance(0.0)
    assert w_mid == pytest.approx(0.5 * (w_near + w_far), rel=1e-9)
    # before the first expiry: that smile's vol at the same forward moneyness
    k = np.array([-0.02, 0.0, 0.02])
    T_half = near.T / 2
    assert np.allclose(surf.iv(surf.forward(T_half) * np.exp(k), T_half),
                       fits[1].iv(fits[1].forward * np.exp(k)), rtol=1e-12)
    assert [e for e, _, _ in surf.atm_term()] == [date(2025, 5, 23), date(2025, 6, 20)]
    with pytest.raises(NoData):
        VolSurface([])
