"""Time to expiry: PM close (early closes), AM opening settlement, calendar vs trading time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.options.expiry import (
    MINUTES_PER_YEAR,
    TRADING_MINUTES_PER_YEAR,
    expiry_moment,
    open_minutes_between,
    time_to_expiry,
)


def ny(*args):
    return datetime(*args, tzinfo=NY)


def test_pm_settled_0dte_counts_calendar_minutes_to_the_close():
    assert time_to_expiry(ny(2025, 5, 16, 15, 59), date(2025, 5, 16)) == pytest.approx(1 / MINUTES_PER_YEAR)
    assert time_to_expiry(ny(2025, 5, 16, 9, 30), date(2025, 5, 16), "pm") == pytest.approx(390 / MINUTES_PER_YEAR)
    # the same instant given in UTC gives the same answer
    t_utc = ny(2025, 5, 16, 12, 0).astimezone(UTC)
    assert time_to_expiry(t_utc, date(2025, 5, 16)) == pytest.approx(240 / MINUTES_PER_YEAR)


def test_early_close_day_expires_at_13_00():
    assert expiry_moment(date(2025, 11, 28)) == ny(2025, 11, 28, 13, 0)
    assert expiry_moment(date(2025, 12, 24), "pm") == ny(2025, 12, 24, 13, 0)
    assert time_to_expiry(ny(2025, 11, 28, 12, 0), date(2025, 11, 28)) == pytest.approx(60 / MINUTES_PER_YEAR)


def test_am_settled_expires_at_the_open_of_expiry_day():
    assert expiry_moment(date(2025, 5, 16), "am") == ny(2025, 5, 16, 9, 30)
    # Thursday 16:00 to Friday 09:30 is 17.5 hours of calendar time
    assert time_to_expiry(ny(2025, 5, 15, 16, 0), date(2025, 5, 16), "am") == pytest.approx(
        17.5 * 60 / MINUTES_PER_YEAR)
    assert time_to_expiry(ny(2025, 5, 16, 10, 0), date(2025, 5, 16), "am") == 0.0


def test_after_expiry_is_zero_and_dst_is_respected():
    assert time_to_expiry(ny(2025, 5, 16, 16, 0), date(2025, 5, 16)) == 0.0
    assert time_to_expiry(ny(2025, 5, 16, 17, 0), date(2025, 5, 16)) == 0.0
    # over the March 2025 DST change (Sunday 9th) a calendar day has 23 hours
    t = time_to_expiry(ny(2025, 3, 7, 16, 0), date(2025, 3, 10))
    assert t == pytest.approx((3 * 24 - 1) * 60 / MINUTES_PER_YEAR)


def test_trading_time_counts_only_open_minutes():
    # Friday 15:00 → Monday 10:00: 60 minutes Friday and 30 on Monday
    assert open_minutes_between(ny(2025, 5, 16, 15, 0), ny(2025, 5, 19, 10, 0)) == pytest.approx(90)
    t = time_to_expiry(ny(2025, 5, 16, 15, 0), date(2025, 5, 19), trading_time=True)
    assert t == pytest.approx((60 + 390) / TRADING_MINUTES_PER_YEAR)
    # a holiday (Good Friday 2025-04-18) contributes nothing
    assert open_minutes_between(ny(2025, 4, 17, 16, 0), ny(2025, 4, 21, 9, 30)) == 0.0
    # within a session both clocks advance together (scaled by their year lengths)
    cal = time_to_expiry(ny(2025, 5, 16, 14, 0), date(2025, 5, 16))
    trd = time_to_expiry(ny(2025, 5, 16, 14, 0), date(2025, 5, 16), trading_time=True)
    assert cal * MINUTES_PER_YEAR == pytest.approx(trd * TRADING_MINUTES_PER_YEAR)


def test_bad_arguments_raise_invalid_input():
    with pytest.raises(InvalidInput):
        time_to_expiry(datetime(2025, 5, 16, 10, 0), date(2025, 5, 16))
    with pytest.raises(InvalidInput, match="settle_time"):
        time_to_expiry(ny(2025, 5, 16, 10, 0), date(2025, 5, 16), "noon")
