"""Which option expiries and strikes the simulated exchange lists, as of an instant.

SPY/QQQ/IWM: a daily expiry on every session for the next ~6 weeks, the monthly (third Friday,
or the session before it when that Friday is a holiday) for a year, and December LEAPS for two
years. VIX: weekly expiries on Wednesdays (the session before when Wednesday is a holiday) for
six weeks plus the monthly cycle for six months; VIX contracts are AM-settled, so on an expiry
Wednesday that expiry is gone from the listing once the market opens.

Strikes are fixed for the session (from the previous close, as exchanges list them overnight):
$1 within ±15 % of that close for every expiry (wider with time to expiry, in $5 steps beyond);
VIX from 9 to 80 in 1, 2.5 and 5 point steps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from engine.core.errors import UnknownSymbol
from engine.market import calendar

SIM_OPTION_UNDERLYINGS = ("SPY", "QQQ", "IWM", "VIX")
OPTION_ROOT = {"SPY": "SPY", "QQQ": "QQQ", "IWM": "IWM", "VIX": "VIX"}
DAILY_HORIZON_DAYS = 45
VIX_WEEKLY_HORIZON_DAYS = 42


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _on_or_before_session(d: date) -> date:
    return d if calendar.is_session(d) else calendar.previous_session(d)


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    m = month - 1 + k
    return year + m // 12, m % 12 + 1


def vix_monthly_expiry(year: int, month: int) -> date:
    """The VIX monthly expiry: the Wednesday 30 days before the next month's third Friday."""
    ny, nm = _add_months(year, month, 1)
    return _on_or_before_session(_third_friday(ny, nm) - timedelta(days=30))


def option_root(underlying: str, expiry: date) -> str:
    """OCC root of a listed contract: VIX monthlies trade as ``VIX``, VIX weeklies as ``VIXW``."""
    u = underlying.upper()
    if u == "VIX" and expiry != vix_monthly_expiry(expiry.year, expiry.month):
        return "VIXW"
    return OPTION_ROOT[u]


@lru_cache(maxsize=64)
def listed_expiries(underlying: str, session: date) -> tuple[date, ...]:
    """Expiries listed during ``session`` (including one expiring that day), oldest first."""
    u = underlying.upper()
    if u not in SIM_OPTION_UNDERLYINGS:
        raise UnknownSymbol(f"no simulated options on {underlying!r}: listed are {', '.join(SIM_OPTION_UNDERLYINGS)}")
    out: set[date] = set()
    if u == "VIX":
        horizon = session + timedelta(days=VIX_WEEKLY_HORIZON_DAYS)
        d = session + timedelta(days=(2 - session.weekday()) % 7)
        while d <= horizon:
            out.add(_on_or_before_session(d))
            d += timedelta(days=7)
        for k in range(7):
            out.add(vix_monthly_expiry(*_add_months(session.year, session.month, k)))
    else:
        out.update(calendar.sessions_between(session, session + timedelta(days=DAILY_HORIZON_DAYS)))
        for k in range(13):
            out.add(_on_or_before_session(_third_friday(*_add_months(session.year, session.month, k))))
        for y in (session.year + 1, session.year + 2):
            out.add(_on_or_before_session(_third_friday(y, 12)))
    return tuple(sorted(d for d in out if d >= session))


def expiries_at(underlying: str, ts: datetime, session: date) -> list[date]:
    """Expiries still alive at ``ts``: AM-settled VIX drops its same-day expiry at the open."""
    alive = list(listed_expiries(underlying, session))
    if underlying.upper() == "VIX" and alive and alive[0] == session and ts >= calendar.session_open(session):
        alive = alive[1:]
    return alive


@lru_cache(maxsize=256)
def listed_strikes(underlying: str, reference: float, days_to_expiry: int) -> np.ndarray:
    """Strikes of one expiry, listed around ``reference`` (the previous close)."""
    if underlying.upper() == "VIX":
        return np.concatenate([np.arange(9.0, 30.0, 1.0), np.arange(30.0, 50.0, 2.5), np.arange(50.0, 85.0, 5.0)])
    ref = float(reference)
    inner = 0.15
    lo1, hi1 = np.floor(ref * (1 - inner)), np.ceil(ref * (1 + inner))
    ones = np.arange(lo1, hi1 + 1.0, 1.0)
    outer = min(0.15 + 0.6 * np.sqrt(max(days_to_expiry, 0) / 365.0), 0.6)
    if outer <= inner + 1e-9:
        return ones
    lo5, hi5 = 5.0 * np.floor(ref * (1 - outer) / 5.0), 5.0 * np.ceil(ref * (1 + outer) / 5.0)
    fives = np.arange(lo5, hi5 + 5.0, 5.0)
    fives = fives[(fives < lo1) | (fives > hi1)]
    return np.unique(np.concatenate([ones, fives[fives > 0]]))
