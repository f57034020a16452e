"""Property tests: any instant from 2000 to 2035 gives a sane, repeatable market."""

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.market import calendar
from engine.market.sim import SimMarket

M = SimMarket(11)
instants = st.datetimes(min_value=datetime(2000, 1, 4), max_value=datetime(2035, 12, 28),
                        timezones=st.just(UTC))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(ts=instants)
def test_any_instant_quotes_are_sane_and_repeatable(ts):
    session = calendar.session_of(ts)
    for sym in ("SPY", "QQQ", "IWM", "VIX"):
        q = M.quote(sym, ts)
        assert q == M.quote(sym, ts + timedelta(microseconds=1 if ts.microsecond < 999_999 else 0))
        assert q.session == session and q.ts <= ts and np.isfinite(q.bid) and q.bid > 0
        assert q.ask >= q.bid and (sym == "VIX" or round(q.ask - q.bid, 2) >= 0.01)
        assert calendar.session_open(session) <= q.ts <= calendar.session_close(session)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(ts=instants, which=st.integers(0, 5), underlying=st.sampled_from(["SPY", "QQQ", "IWM", "VIX"]))
def test_any_listed_chain_is_two_sided_and_monotone(ts, which, underlying):
    exps = M.expirations(underlying, ts)
    expiry = exps[min(which, len(exps) - 1)]
    snap = M.chain(underlying, expiry, ts).snapshot
    c = snap.is_call
    assert np.all(snap.ask >= snap.bid) and np.all(snap.ask >= 0.01) and np.all(snap.bid >= 0)
    call_mid = (snap.bid[c] + snap.ask[c]) / 2
    put_mid = (snap.bid[~c] + snap.ask[~c]) / 2
    assert np.all(np.diff(call_mid) <= 0.015) and np.all(np.diff(put_mid) >= -0.015)
    assert snap.session == calendar.session_of(ts)
