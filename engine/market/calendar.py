"""The XNYS trading calendar: sessions, holidays, early closes, open minutes.

Source of truth is ``exchange_calendars`` (XNYS). Its answers for 2000–2035 are kept in
``xnys_sessions.json`` (built by :mod:`engine.market.xnys_build`, checked against the library by
a test) so a question costs microseconds and no pandas import; days outside that table are asked
of ``exchange_calendars`` itself.

Every datetime in and out is timezone-aware; session opens and closes come back in
America/New_York. ``day`` arguments are ``date`` objects (a ``datetime`` is reduced to its NY
date). Product trading hours (option closes at 16:15, expiring contracts at 16:00, …) live in
:mod:`engine.market.hours`.
"""

from __future__ import annotations

import bisect
import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market.xnys_build import TABLE_PATH


class _Table:
    """Sessions of the JSON table as sorted ordinals, plus the non-regular opens/closes."""

    def __init__(self) -> None:
        raw = json.loads(TABLE_PATH.read_text())
        self.first = date.fromisoformat(raw["first"])
        self.last = date.fromisoformat(raw["last"])
        self.source = raw["source"]
        holidays = {date.fromisoformat(d).toordinal() for d in raw["holidays"]}
        # (o - 1) % 7 is the weekday of ordinal o (0001-01-01 was a Monday): no date objects needed
        self.ordinals = [o for o in range(self.first.toordinal(), self.last.toordinal() + 1)
                         if (o - 1) % 7 < 5 and o not in holidays]
        self.ordinal_set = frozenset(self.ordinals)
        self.closes = {date.fromisoformat(d): time.fromisoformat(t) for d, t in raw["early_closes"].items()}
        self.opens = {date.fromisoformat(d): time.fromisoformat(t) for d, t in raw["special_opens"].items()}
        self.regular_open = time.fromisoformat(raw["regular_open"])
        self.regular_close = time.fromisoformat(raw["regular_close"])

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@lru_cache(maxsize=1)
def _table() -> _Table:
    return _Table()


@lru_cache(maxsize=1)
def _xcal():
    import exchange_calendars as xcals  # only for days outside the table

    return xcals.get_calendar("XNYS", start="1990-01-01", end="2060-12-31")


def _day(day: date | datetime) -> date:
    if isinstance(day, datetime):
        if day.tzinfo is None:
            raise InvalidInput("naive datetime: give a timezone-aware instant", field="day")
        return day.astimezone(NY).date()
    if not isinstance(day, date):
        raise InvalidInput(f"{day!r} is not a date", field="day")
    return day


def parse_day(text: str | date, *, field: str = "date") -> date:
    """A date from ``YYYY-MM-DD`` (or a ``date``); :class:`InvalidInput` naming ``field`` if not one."""
    if isinstance(text, datetime):
        return _day(text)
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidInput(f"{field} {text!r} is not a date (YYYY-MM-DD)", field=field) from None


def is_session(day: date | datetime) -> bool:
    """True if the NYSE holds a regular session on ``day``."""
    d = _day(day)
    t = _table()
    if t.covers(d):
        return d.toordinal() in t.ordinal_set
    import pandas as pd

    return bool(_xcal().is_session(pd.Timestamp(d)))


def _require_session(day: date) -> None:
    if not is_session(day):
        raise InvalidInput(f"{day.isoformat()} is not an NYSE trading session", field="day")


def _bound(day: date | datetime, which: str) -> datetime:
    d = _day(day)
    _require_session(d)
    t = _table()
    if t.covers(d):
        if which == "open":
            return datetime.combine(d, t.opens.get(d, t.regular_open), NY)
        return datetime.combine(d, t.closes.get(d, t.regular_close), NY)
    import pandas as pd

    getter = _xcal().session_open if which == "open" else _xcal().session_close
    return getter(pd.Timestamp(d)).to_pydatetime().astimezone(NY)


def session_open(day: date | datetime) -> datetime:
    """Opening instant (aware, NY) of the session on ``day``; :class:`InvalidInput` if none."""
    return _bound(day, "open")


def session_close(day: date | datetime) -> datetime:
    """Closing instant (aware, NY) of the session on ``day``, early closes (13:00) honoured."""
    return _bound(day, "close")


def is_early_close(day: date | datetime) -> bool:
    d = _day(day)
    return is_session(d) and session_close(d).time() != time(16, 0)


def is_open(ts: datetime) -> bool:
    """True while the regular session is in progress: ``open <= ts < close``."""
    d = _day(ts)
    return is_session(d) and session_open(d) <= ts < session_close(d)


def _step(day: date, direction: int) -> date:
    t = _table()
    o = day.toordinal()
    if t.covers(day):
        i = bisect.bisect_left(t.ordinals, o)
        j = i - 1 if direction < 0 else (i + 1 if i < len(t.ordinals) and t.ordinals[i] == o else i)
        if 0 <= j < len(t.ordinals):
            return date.fromordinal(t.ordinals[j])
    d = day + timedelta(days=direction)
    for _ in range(15):  # outside the table (or at its edge): walk; no gap is longer than a week
        if is_session(d):
            return d
        d += timedelta(days=direction)
    raise InvalidInput(f"no NYSE session near {day.isoformat()}", field="day")


def previous_session(day: date | datetime) -> date:
    """The last session strictly before ``day``."""
    return _step(_day(day), -1)


def next_session(day: date | datetime) -> date:
    """The first session strictly after ``day``."""
    return _step(_day(day), +1)


def sessions_between(a: date | datetime, b: date | datetime) -> list[date]:
    """Sessions in ``[a, b]`` (both ends included), oldest first."""
    lo, hi = _day(a), _day(b)
    if hi < lo:
        return []
    t = _table()
    if t.covers(lo) and t.covers(hi):
        i = bisect.bisect_left(t.ordinals, lo.toordinal())
        j = bisect.bisect_right(t.ordinals, hi.toordinal())
        return [date.fromordinal(o) for o in t.ordinals[i:j]]
    out, d = [], lo
    while d <= hi:
        if is_session(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def session_index(day: date | datetime) -> int:
    """Ordinal position of a session in the table (sessions since 2000-01-03); for sim seeding."""
    d = _day(day)
    _require_session(d)
    t = _table()
    if not t.covers(d):
        raise InvalidInput(f"{d.isoformat()} is outside the calendar table {t.first}..{t.last}", field="day")
    return bisect.bisect_left(t.ordinals, d.toordinal())


def session_of(ts: datetime) -> date:
    """The session an instant belongs to: today's if it has opened, else the previous one.

    That is the session whose state a quote at ``ts`` shows: before the open the previous
    close, after the close today's close.
    """
    d = _day(ts)
    if is_session(d) and ts >= session_open(d):
        return d
    return previous_session(d)


def last_open_instant(ts: datetime) -> datetime:
    """``ts`` itself while the market is open, else the close of :func:`session_of` ``(ts)``."""
    s = session_of(ts)
    close = session_close(s)
    return ts if ts < close else close


def open_minutes_between(t0: datetime, t1: datetime) -> float:
    """Minutes in ``[t0, t1)`` during which the regular session is open (fractions kept)."""
    if t0.tzinfo is None or t1.tzinfo is None:
        raise InvalidInput("open_minutes_between needs timezone-aware instants")
    if t1 <= t0:
        return 0.0
    total = 0.0
    for d in sessions_between(t0, t1):
        lo, hi = max(t0, session_open(d)), min(t1, session_close(d))
        if hi > lo:
            total += (hi - lo).total_seconds() / 60.0
    return total


def table_source() -> str:
    """Which ``exchange_calendars`` version built the table (for diagnostics)."""
    return _table().source
