"""Simulated option chains: listings, strikes, smile, quotes, volume and open interest."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market import calendar
from engine.market.sim import SimMarket
from engine.market.sim.listing import listed_expiries

M = SimMarket(7)
FRI = date(2026, 11, 20)


def ny(*a):
    return datetime(*a, tzinfo=NY)


def sides(snap):
    calls, puts = snap.is_call, ~snap.is_call
    return snap.strikes[calls], snap.strikes[puts], calls, puts


def test_daily_expiries_for_every_session_and_monthlies():
    for u in ("SPY", "QQQ", "IWM"):
        exps = M.expirations(u, ny(2026, 11, 20, 11))
        sessions = calendar.sessions_between(FRI, FRI + timedelta(days=40))
        assert exps[: len(sessions)] == sessions
        assert date(2027, 1, 15) in exps and date(2027, 12, 17) in exps
    assert date(2026, 11, 26) not in M.expirations("SPY", ny(2026, 11, 20, 11))  # Thanksgiving
    # a monthly whose third Friday is a holiday (Good Friday 2025-04-18) moves to the session before
    assert date(2025, 4, 17) in listed_expiries("SPY", date(2025, 3, 20))


def test_vix_expiries_are_wednesdays_and_drop_at_the_open():
    before = listed_expiries("VIX", date(2026, 11, 24))
    assert all(d.weekday() == 2 or not calendar.is_session(d + timedelta(days=1)) for d in before)
    assert date(2026, 11, 25) in before
    wed_open = M.expirations("VIX", ny(2026, 11, 25, 10, 0))
    assert date(2026, 11, 25) not in wed_open and wed_open[0] == date(2026, 12, 2)
    with pytest.raises(InvalidInput, match="AM-settled"):
        M.chain("VIX", date(2026, 11, 25), ny(2026, 11, 25, 10, 0))
    # the afternoon before, the contract still trades (last day) and is priced off the VIX forward
    snap = M.chain("VIX", date(2026, 11, 25), ny(2026, 11, 24, 15, 0)).snapshot
    assert len(snap) > 40 and np.all(snap.ask > 0)


def test_strikes_are_one_dollar_and_cover_fifteen_percent():
    snap = M.chain("SPY", FRI, ny(2026, 11, 20, 11)).snapshot
    k_call, k_put, _, _ = sides(snap)
    assert np.array_equal(k_call, k_put)
    assert np.all(np.diff(k_call) == 1.0)
    assert k_call[0] <= snap.spot * 0.86 and k_call[-1] >= snap.spot * 1.14
    assert all(s.startswith("SPY261120") for s in snap.symbols)
    far = M.chain("SPY", date(2027, 6, 17), ny(2026, 11, 20, 11)).snapshot
    assert far.strikes.min() < snap.spot * 0.7 and 5.0 in np.diff(np.unique(far.strikes))


def test_quotes_are_pennies_two_sided_and_arbitrage_free():
    for u in ("SPY", "QQQ", "IWM"):
        snap = M.chain(u, FRI, ny(2026, 11, 20, 11)).snapshot
        assert np.all(snap.ask > snap.bid) and np.all(snap.bid >= 0)
        assert np.allclose(np.round(snap.bid * 100), snap.bid * 100)
        assert np.allclose(np.round(snap.ask * 100), snap.ask * 100)
        _, _, c, p = sides(snap)
        call_mid = (snap.bid[c] + snap.ask[c]) / 2
        put_mid = (snap.bid[p] + snap.ask[p]) / 2
        assert np.all(np.diff(call_mid) <= 0.011) and np.all(np.diff(put_mid) >= -0.011)
        k = snap.strikes[c]
        itm_call = k < snap.spot
        assert np.all(snap.ask[c][itm_call] >= snap.spot - k[itm_call])
        atm = np.argmin(np.abs(k - snap.spot))
        parity = call_mid[atm] - put_mid[atm] - (snap.spot - k[atm])
        assert abs(parity) < 0.1
        assert snap.bid_size[c][atm] > 0 and snap.volume[c][atm] > 0 and snap.open_interest[c][atm] > 0


def test_skewed_smile_puts_rich():
    snap = M.chain("SPY", date(2026, 12, 18), ny(2026, 11, 20, 11)).snapshot
    _, _, c, p = sides(snap)
    iv, k, s = snap.vendor_iv, snap.strikes, snap.spot
    def at(mask, strike):
        j = np.where(mask & (k == strike))[0][0]
        return iv[j]
    down, up = round(s * 0.95), round(s * 1.05)
    assert at(p, down) > at(c, round(s)) > at(c, up)


def test_iv_lifts_with_vix():
    """Across sessions, 30-day ATM IV tracks the VIX level (ratio ~0.8)."""
    ratios, vix = [], []
    for d in calendar.sessions_between(date(2026, 1, 5), date(2026, 12, 31))[::15]:
        t = calendar.session_open(d) + timedelta(hours=2)
        exps = M.expirations("SPY", t)
        e = min(exps, key=lambda x: abs((x - d).days - 30))
        snap = M.chain("SPY", e, t).snapshot
        c = snap.is_call
        j = np.argmin(np.abs(snap.strikes[c] - snap.spot))
        atm_iv = snap.vendor_iv[c][j]
        v = M.quote("VIX", t).last
        ratios.append(atm_iv / (v / 100))
        vix.append((v, atm_iv))
    assert 0.6 < np.median(ratios) < 1.0
    v, iv = np.array(vix).T
    assert np.corrcoef(v, iv)[0, 1] > 0.8


def test_spreads_widen_out_of_the_money_and_into_the_close():
    def rel_spread(snap, moneyness):
        c = snap.is_call if moneyness >= 1 else ~snap.is_call
        j = np.argmin(np.abs(snap.strikes[c] - snap.spot * moneyness))
        b, a = snap.bid[c][j], snap.ask[c][j]
        return (a - b), (a - b) / ((a + b) / 2)

    noon = M.chain("SPY", date(2026, 12, 18), ny(2026, 11, 20, 12)).snapshot
    late = M.chain("SPY", date(2026, 12, 18), ny(2026, 11, 20, 15, 58)).snapshot
    assert rel_spread(noon, 0.9)[1] > rel_spread(noon, 1.0)[1]
    assert rel_spread(late, 1.0)[0] > rel_spread(noon, 1.0)[0]


def test_volume_accumulates_through_the_day():
    v = [M.chain("SPY", FRI, ny(2026, 11, 20, h, m)).snapshot.volume.sum()
         for h, m in ((9, 45), (12, 0), (15, 59))]
    assert 0 < v[0] < v[1] < v[2]


def test_expiring_contracts_stop_at_1600_others_trade_to_1615():
    at_close = M.chain("SPY", FRI, ny(2026, 11, 20, 16, 0)).snapshot
    later = M.chain("SPY", FRI, ny(2026, 11, 20, 16, 10)).snapshot
    assert np.array_equal(at_close.bid, later.bid) and later.ts == ny(2026, 11, 20, 16, 0)
    mon_1605 = M.chain("SPY", date(2026, 11, 23), ny(2026, 11, 20, 16, 5)).snapshot
    mon_1614 = M.chain("SPY", date(2026, 11, 23), ny(2026, 11, 20, 16, 14)).snapshot
    assert mon_1614.ts == ny(2026, 11, 20, 16, 14) and mon_1605.ts < mon_1614.ts
    assert M.chain("SPY", date(2026, 11, 23), ny(2026, 11, 20, 18)).snapshot.ts == ny(2026, 11, 20, 16, 15)
    # at the close a 0DTE option is worth its intrinsic value
    c = at_close.is_call
    j = np.argmin(np.abs(at_close.strikes[c] - (at_close.spot - 5)))
    mid = (at_close.bid[c][j] + at_close.ask[c][j]) / 2
    assert mid == pytest.approx(at_close.spot - at_close.strikes[c][j], abs=0.03)


def test_option_quote_by_occ_symbol():
    q = M.quote("SPY261120C00640000", ny(2026, 11, 20, 11))
    assert q.symbol == "SPY261120C00640000" and q.ask > q.bid > 0 and q.session == FRI
    padded = M.quote("SPY   261120C00640000", ny(2026, 11, 20, 11))
    assert padded.bid == q.bid
    with pytest.raises(InvalidInput, match="not listed"):
        M.quote("SPY261120C00640500", ny(2026, 11, 20, 11))
    with pytest.raises(InvalidInput, match="no expiry on 2026-11-21"):
        M.quote("SPY261121C00640000", ny(2026, 11, 20, 11))
    # VIX weeklies trade under root VIXW, monthlies (Dec 16 2026) under VIX
    weekly = M.quote("VIXW261125C00020000", ny(2026, 11, 20, 11))
    monthly = M.quote("VIX261216C00020000", ny(2026, 11, 20, 11))
    assert weekly.ask > 0 and monthly.ask > weekly.ask
    with pytest.raises(InvalidInput, match="root VIXW, not VIX"):
        M.quote("VIX261125C00020000", ny(2026, 11, 20, 11))


def _cboe_smile(path: str, expiry: str, years: float) -> tuple[np.ndarray, np.ndarray]:
    """(z, IV/ATM IV) of the out-of-the-money side of one expiry of the Cboe SPY download."""
    import csv

    with open(path, newline="") as fh:
        rows = [r for r in list(csv.reader(fh))[4:] if r and r[0] == expiry]
    k = np.array([float(r[11]) for r in rows])
    call_mid = np.array([(float(r[4]) + float(r[5])) / 2 for r in rows])
    put_mid = np.array([(float(r[15]) + float(r[16])) / 2 for r in rows])
    i = np.argmin(np.abs(call_mid - put_mid))
    fwd = k[i] + call_mid[i] - put_mid[i]  # spot from parity (the header's spot is stale)
    iv = np.where(k < fwd, [float(r[18]) for r in rows], [float(r[7]) for r in rows])
    ok = iv > 0
    atm = np.interp(fwd, k[ok], iv[ok])
    return np.log(k[ok] / fwd) / (atm * np.sqrt(years)), iv[ok] / atm


@pytest.mark.parametrize(("expiry", "days"), [("Fri May 23 2025", 6.86), ("Fri May 30 2025", 13.86)])
def test_smile_shape_follows_the_real_cboe_spy_chain(shared_data, expiry, days):
    from engine.market.sim.options import smile_factor
    from engine.market.sim.params import DEFAULT_PARAMS as P

    z, real = _cboe_smile(f"{shared_data}/cboe-spy-chain/spy_quotedata_2025-05-16.csv", expiry, days / 365)
    grid = np.array([-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    ours = smile_factor(grid, P.skew, P.smile, P.smile3)
    assert np.max(np.abs(ours - np.interp(grid, z, real))) < 0.1
