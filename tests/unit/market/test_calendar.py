from datetime import date, datetime, time

import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market import calendar
from engine.market.xnys_build import TABLE_PATH, derive_table


def ny(*a):
    return datetime(*a, tzinfo=NY)


def test_table_matches_exchange_calendars():
    import json

    stored = json.loads(TABLE_PATH.read_text())
    fresh = derive_table()
    for key in ("holidays", "early_closes", "special_opens", "first", "last"):
        assert stored[key] == fresh[key], key


def test_holidays_and_early_closes_2026():
    assert not calendar.is_session(date(2026, 11, 26))  # Thanksgiving
    assert not calendar.is_session(date(2026, 12, 25))
    assert not calendar.is_session(date(2026, 11, 21))  # Saturday
    assert calendar.session_close(date(2026, 11, 27)) == ny(2026, 11, 27, 13, 0)
    assert calendar.is_early_close(date(2026, 12, 24))
    assert calendar.session_open(date(2026, 11, 20)) == ny(2026, 11, 20, 9, 30)
    assert calendar.session_close(date(2026, 11, 20)).time() == time(16, 0)
    with pytest.raises(InvalidInput, match="2026-11-26 is not an NYSE trading session"):
        calendar.session_open(date(2026, 11, 26))


def test_previous_next_and_between():
    assert calendar.previous_session(date(2026, 11, 27)) == date(2026, 11, 25)
    assert calendar.next_session(date(2026, 11, 25)) == date(2026, 11, 27)
    assert calendar.next_session(date(2026, 11, 21)) == date(2026, 11, 23)
    assert calendar.previous_session(date(2026, 11, 23)) == date(2026, 11, 20)
    got = calendar.sessions_between(date(2026, 11, 20), date(2026, 11, 30))
    assert got == [date(2026, 11, d) for d in (20, 23, 24, 25, 27, 30)]
    assert calendar.sessions_between(date(2026, 12, 1), date(2026, 11, 1)) == []


def test_outside_table_falls_back_to_exchange_calendars():
    assert calendar.is_session(date(2040, 1, 2)) is False  # New Year observed on Monday
    assert calendar.session_close(date(2040, 11, 23)) == ny(2040, 11, 23, 13, 0)
    assert calendar.next_session(date(2035, 12, 31)) == date(2036, 1, 2)


def test_is_open_and_session_of():
    assert calendar.is_open(ny(2026, 11, 20, 9, 30))
    assert not calendar.is_open(ny(2026, 11, 20, 16, 0))
    assert not calendar.is_open(ny(2026, 11, 27, 13, 30))
    assert calendar.session_of(ny(2026, 11, 23, 8, 0)) == date(2026, 11, 20)
    assert calendar.session_of(ny(2026, 11, 22, 12, 0)) == date(2026, 11, 20)
    assert calendar.session_of(ny(2026, 11, 20, 20, 0)) == date(2026, 11, 20)
    assert calendar.last_open_instant(ny(2026, 11, 20, 20, 0)) == ny(2026, 11, 20, 16, 0)


def test_open_minutes_between_counts_only_open_market():
    # Wed 15:00 → Mon 10:00 across Thanksgiving and a 13:00 close: 60 + 210 + 30
    assert calendar.open_minutes_between(ny(2026, 11, 25, 15, 0), ny(2026, 11, 30, 10, 0)) == 300.0
    assert calendar.open_minutes_between(ny(2026, 11, 21, 10), ny(2026, 11, 22, 10)) == 0.0
    assert calendar.open_minutes_between(ny(2026, 11, 20, 10), ny(2026, 11, 20, 9)) == 0.0
    with pytest.raises(InvalidInput):
        calendar.open_minutes_between(datetime(2026, 11, 20, 10), ny(2026, 11, 20, 11))


def test_parse_day_names_the_field():
    assert calendar.parse_day("2026-11-20") == date(2026, 11, 20)
    with pytest.raises(InvalidInput, match="expiry '2026-13-01' is not a date") as e:
        calendar.parse_day("2026-13-01", field="expiry")
    assert e.value.field == "expiry"
