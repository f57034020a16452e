"""The simulated market's paths: determinism, continuity, correlation, vol shape, levels."""

import json
import subprocess
import sys
from datetime import date, datetime

import numpy as np
import pytest

from engine.core.clock import NY
from engine.market import calendar
from engine.market.sim import SimMarket, synthetic_minute_bars
from engine.market.sim.daily import ar1_filter, daily_paths
from engine.market.sim.intraday import session_path
from engine.market.sim.params import DEFAULT_PARAMS, params_for

TS = datetime(2026, 11, 20, 10, 30, 15, 250000, tzinfo=NY)


def ny(*a):
    return datetime(*a, tzinfo=NY)


def test_ar1_filter_matches_the_recursion():
    x = np.random.default_rng(3).standard_normal((700, 2))
    y = ar1_filter(x, 0.93, y0=np.array([1.0, -2.0]))
    prev = np.array([1.0, -2.0])
    for t in range(700):
        prev = 0.93 * prev + x[t]
        assert np.allclose(y[t], prev)


def _snapshot_in_subprocess(seed: int) -> dict:
    code = (
        "import json; from datetime import datetime; from engine.core.clock import NY;"
        "from engine.market.sim import SimMarket;"
        f"m = SimMarket({seed}); ts = datetime(2026, 11, 20, 10, 30, 15, 250000, tzinfo=NY);"
        "q = [m.quote(s, ts) for s in ('SPY','QQQ','IWM','VIX','SPY261120P00640000')];"
        "c = m.chain('QQQ', ts.date(), ts).snapshot;"
        "print(json.dumps({'q': [[x.bid, x.ask, x.last, x.bid_size, x.ask_size] for x in q],"
        "'c': [c.bid.tolist(), c.ask.tolist(), c.volume.tolist(), c.open_interest.tolist()]}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_pure_function_of_seed_and_instant_across_processes():
    other = _snapshot_in_subprocess(7)
    m = SimMarket(7)
    # warm unrelated days first: earlier calls must not change the answer
    m.quote("SPY", ny(2026, 11, 19, 15, 0))
    m.chain("SPY", date(2026, 11, 23), ny(2026, 11, 19, 15, 0))
    q = [m.quote(s, TS) for s in ("SPY", "QQQ", "IWM", "VIX", "SPY261120P00640000")]
    c = m.chain("QQQ", TS.date(), TS).snapshot
    assert other["q"] == [[x.bid, x.ask, x.last, x.bid_size, x.ask_size] for x in q]
    assert other["c"] == [c.bid.tolist(), c.ask.tolist(), c.volume.tolist(), c.open_interest.tolist()]


def test_seeds_differ():
    a, b = SimMarket(7).quote("SPY", TS), SimMarket(8).quote("SPY", TS)
    assert a.bid != b.bid


def test_sessions_chain_open_is_previous_close_plus_gap():
    dp = daily_paths(7)
    i = dp.index(date(2026, 11, 20))
    gaps = np.log(dp.open[1:, :3] / dp.close[:-1, :3])
    assert np.all(np.abs(gaps) < 0.08)
    assert 0.001 < gaps[-2000:, 0].std() < 0.01
    p_today, p_prev = session_path(7, date(2026, 11, 20)), session_path(7, date(2026, 11, 19))
    assert np.allclose(p_today.prices[0], dp.open[i]) and np.allclose(p_today.prices[-1], dp.close[i])
    assert np.allclose(p_prev.prices[-1], dp.close[i - 1])
    m = SimMarket(7)
    before_open = m.quote("SPY", ny(2026, 11, 20, 8, 0))
    assert before_open.session == date(2026, 11, 19)
    assert abs(before_open.bid - p_prev.prices[-1, 0]) < 0.02


def test_levels_are_realistic():
    dp = daily_paths(7)
    lo, mid, hi = np.quantile(dp.close, [0.02, 0.5, 0.98], axis=0)
    assert lo[0] > 530 and hi[0] < 720 and 600 < mid[0] < 660
    assert lo[1] > 450 and hi[1] < 640 and 510 < mid[1] < 580
    assert lo[2] > 170 and hi[2] < 260 and 200 < mid[2] < 235
    assert lo[3] > 9 and hi[3] < 45 and 12 < mid[3] < 25
    ann = np.diff(np.log(dp.close[:, :3]), axis=0).std(axis=0) * np.sqrt(252)
    assert 0.09 < ann[0] < 0.2 and ann[0] < ann[1] < ann[2]  # QQQ and IWM move more than SPY


def test_correlations_and_inverse_vix():
    r = []
    for d in calendar.sessions_between(date(2026, 9, 1), date(2026, 9, 30)):
        px = session_path(7, d).prices[::60]
        r.append(np.diff(np.log(px), axis=0))
    r = np.vstack(r)
    c = np.corrcoef(r.T)
    assert 0.8 < c[0, 1] < 0.93 and 0.8 < c[0, 2] < 0.93
    assert c[0, 3] < -0.6
    daily = np.diff(np.log(daily_paths(7).close), axis=0)
    assert np.corrcoef(daily[:, 0], daily[:, 3])[0, 1] < -0.6


def test_correlation_setting_is_used():
    low = params_for(0.3)
    assert low.correlation == 0.3 and params_for(None) is DEFAULT_PARAMS
    dp = daily_paths(7, low)
    r = np.diff(np.log(dp.close[:, :3]), axis=0)
    assert np.corrcoef(r.T)[0, 1] < 0.5


def _u_shape(days) -> np.ndarray:
    """Median over days of (vol first 20 min, vol last 15 min, volume first 15, volume last 10)
    relative to midday (minutes 150-250); ``days`` yields (minute closes, minute volumes)."""
    out = []
    for closes, volumes in days:
        r = np.diff(np.log(closes))
        mid_r, mid_v = r[150:250].std(), volumes[150:250].mean()
        out.append((r[:20].std() / mid_r, r[-15:].std() / mid_r, volumes[:15].mean() / mid_v,
                    volumes[-10:].mean() / mid_v))
    return np.median(np.array(out), axis=0)


def test_u_shaped_intraday_volatility_and_volume_like_real_spy(shared_data):
    import pandas as pd

    real = pd.read_csv(f"{shared_data}/eqker/SPY_1min.csv", parse_dates=["datetime"]).sort_values("datetime")
    real_shape = _u_shape((g["close"].to_numpy(), g["volume"].to_numpy())
                          for _, g in real.groupby(real["datetime"].dt.date))
    sim_days = []
    for d in calendar.sessions_between(date(2026, 6, 1), date(2026, 7, 31)):
        p = session_path(7, d)
        if p.seconds == 23400:
            sim_days.append((p.prices[60::60, 0], p.minute_volume[:, 0]))
    sim_shape = _u_shape(sim_days)
    assert np.all(sim_shape > 1.5)  # busy open and close, quiet lunch
    assert np.all(np.abs(np.log(sim_shape / real_shape)) < np.log(1.5)), (sim_shape, real_shape)


def test_jumps_exist():
    dp = daily_paths(7)
    assert (dp.jump[:, 0] < -0.01).sum() > 20
    i = int(np.argmax(dp.jump[:, 0] < -0.01))
    day = date.fromordinal(int(dp.sessions[i]))
    r = np.diff(np.log(session_path(7, day).prices[:, 0]))
    assert r.min() < -0.009  # the crash lands inside the session as one jump


def test_quotes_penny_ticks_and_sizes():
    m = SimMarket(7)
    for s in ("SPY", "QQQ", "IWM"):
        q = m.quote(s, TS)
        assert q.ask > q.bid > 0 and round(q.ask - q.bid, 2) in (0.01, 0.02)
        assert round(q.bid * 100) == pytest.approx(q.bid * 100, abs=1e-6)
        assert q.bid_size % 100 == 0 and q.bid_size > 0
        assert q.last in (q.bid, q.ask) and q.session == TS.date() and q.source == "sim"
    vix = m.quote("VIX", TS)
    assert vix.bid == vix.ask == vix.last and 9 < vix.last < 60


def test_after_close_shows_the_close_and_names_the_session():
    m = SimMarket(7)
    late = m.quote("SPY", ny(2026, 11, 21, 12, 0))
    assert late.session == date(2026, 11, 20) and late.ts == ny(2026, 11, 20, 16, 0)
    assert late.bid == m.quote("SPY", ny(2026, 11, 20, 16, 0)).bid


def test_minute_bars_and_synthetic_history_agree():
    m = SimMarket(7)
    bars = m.session_minute_bars("SPY", date(2026, 11, 20))
    assert len(bars) == 390 and bars[0].start == ny(2026, 11, 20, 9, 30)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert all(a.close == b.open for a, b in zip(bars, bars[1:], strict=False))
    df = synthetic_minute_bars("SPY", date(2026, 11, 21), 3, seed=7)  # Saturday → Monday onward
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index.tz) == "America/New_York"
    days = sorted({ts.date() for ts in df.index})
    assert days == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    monday = m.session_minute_bars("SPY", date(2026, 11, 23))
    assert df.loc[df.index.date == date(2026, 11, 23), "close"].tolist() == [b.close for b in monday]
    half = synthetic_minute_bars("SPY", date(2026, 11, 27), 1)
    assert len(half) == 210  # 13:00 close
    five = m.history("QQQ", ny(2026, 11, 20, 9, 30), ny(2026, 11, 20, 11, 0), 300)
    minutes = m.session_minute_bars("QQQ", date(2026, 11, 20))
    assert len(five) == 18 and five[0].volume == sum(b.volume for b in minutes[:5])
    assert five[0].high == max(b.high for b in minutes[:5]) and five[0].close == minutes[4].close
    seconds = m.history("QQQ", ny(2026, 11, 20, 9, 31), ny(2026, 11, 20, 9, 32), 1)
    assert len(seconds) == 60 and seconds[0].open == minutes[1].open and seconds[-1].close == minutes[1].close
    assert max(b.high for b in seconds) == minutes[1].high and min(b.low for b in seconds) == minutes[1].low
    hourly = m.session_bars("SPY", date(2026, 11, 20), 3600)
    assert len(hourly) == 7 and hourly[-1].start == ny(2026, 11, 20, 15, 30)


def test_vix_parameters_follow_the_cboe_history(shared_data):
    """The VIX constants are held to an AR(1) fit of the real 1990–2023 daily closes."""
    import pandas as pd

    v = pd.read_csv(f"{shared_data}/vix/vix-daily-1990-2023.csv")
    x = np.log(v["CLOSE"].to_numpy())
    a, b = np.polyfit(x[:-1], x[1:], 1)
    resid = x[1:] - (a * x[:-1] + b)
    p = DEFAULT_PARAMS
    assert abs(p.vix_ar - a) < 0.02
    assert abs(p.vix_sd - resid.std()) < 0.015
    sim = np.log(daily_paths(7).close[:, 3])
    assert abs(np.median(np.exp(sim)) - np.median(v["CLOSE"])) < 3.0
    sim_resid = np.diff(sim)
    assert 0.04 < sim_resid.std() < 0.09


def test_outside_the_simulated_years_is_no_data():
    from engine.core.errors import NoData

    with pytest.raises(NoData, match="covers the sessions from 2000-01-01 to 2035-12-31"):
        SimMarket(7).quote("SPY", ny(2040, 1, 3, 10, 30))
