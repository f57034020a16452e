"""Dates in trading language, resolved against the engine's "today" (exchange date).

Days: ``2026-11-18``, ``11/18``, ``11/18/26``, ``nov 18``, ``18 november 2026``, ``today``,
``yesterday`` (the previous *session*), ``tomorrow`` (the next session), ``friday``/``last friday``/
``next friday``. Ranges: ``last 60 days``, ``past 3 months``, ``last week``, ``ytd``/``this year``,
``last year`` (the calendar year), ``in 2025``, ``in october``, ``since october``, ``from X to Y``,
``between X and Y``. Text is already normalised (:func:`agent.router.text.normalize`).
"""

from __future__ import annotations

import calendar as _cal
import re
from datetime import date, timedelta

from engine.market import calendar as xnys

MONTHS = {name: i for i, names in enumerate(
    [(), ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")]) for name in names}
WEEKDAYS = {name: i for i, names in enumerate(
    [("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"), ("thu", "thur", "thurs", "thursday"),
     ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday")]) for name in names}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))

_ISO = r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
_MDY = r"(?P<mdy>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
_MON_D = rf"(?P<mon_d>(?:{_MONTH_RE})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s+\d{{4}})?)"
_D_MON = rf"(?P<d_mon>\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_RE})(?:\s+\d{{4}})?)"
_REL = rf"(?P<rel>today|yesterday|tomorrow|(?:last|next|this)?\s*(?:{_WEEKDAY_RE}))"
DAY_RE = re.compile(rf"\b(?:{_ISO}|{_MDY}|{_MON_D}|{_D_MON}|{_REL})\b")

def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def _year_for(month: int, dom: int, today: date, future: bool) -> date:
    day = date(today.year, month, min(dom, _cal.monthrange(today.year, month)[1]))
    if future and day < today:
        return date(today.year + 1, month, dom)
    if not future and day > today:
        return date(today.year - 1, month, dom)
    return day


def parse_day(m: re.Match, today: date, *, future: bool = False) -> date | None:
    """The date one :data:`DAY_RE` match names (``future``: a bare month/day or weekday lies ahead)."""
    try:
        if m.group("iso"):
            y, mo, d = (int(x) for x in m.group("iso").split("-"))
            return date(y, mo, d)
        if m.group("mdy"):
            parts = [int(x) for x in m.group("mdy").split("/")]
            if len(parts) == 3:
                y = parts[2] + (2000 if parts[2] < 100 else 0)
                return date(y, parts[0], parts[1])
            return _year_for(parts[0], parts[1], today, future)
        text = m.group("mon_d") or m.group("d_mon")
        if text:
            words = re.findall(r"[a-z]+|\d+", text)
            mon = next(MONTHS[w] for w in words if w in MONTHS)
            nums = [int(w) for w in words if w.isdigit()]
            if len(nums) == 2:
                return date(nums[1], mon, nums[0])
            return _year_for(mon, nums[0], today, future)
    except ValueError:
        return None
    rel = m.group("rel").split()
    return _relative_day(rel, today, future)


def _relative_day(words: list[str], today: date, future: bool) -> date:
    word = words[-1]
    if word == "today":
        return today
    if word == "yesterday":
        return xnys.previous_session(today)
    if word == "tomorrow":
        return xnys.next_session(today)
    target = WEEKDAYS[word]
    qualifier = words[0] if len(words) > 1 else ""
    if qualifier == "next" or (not qualifier and future):
        delta = (target - today.weekday()) % 7 or 7
        return today + timedelta(days=delta)
    if qualifier == "this":
        return today + timedelta(days=(target - today.weekday()) % 7)
    back = (today.weekday() - target) % 7 or 7
    return today - timedelta(days=back)


def find_day(text: str, today: date, *, future: bool = False) -> date | None:
    for m in DAY_RE.finditer(text):
        day = parse_day(m, today, future=future)
        if day is not None:
            return day
    return None


_LAST_N = re.compile(r"\b(?:last|past|previous|prior|trailing)\s+(\d+)\s*(days?|d|sessions?|weeks?|w|months?|m|years?|y)\b")
_LAST_ONE = re.compile(r"\b(?:the\s+)?(?:last|past|previous|prior)\s+(week|month|quarter|year)\b")
_N_AGO = re.compile(r"\b(\d+)\s*(days?|weeks?|months?|years?)\s+ago\b")
_YEAR = re.compile(r"\b(?:in|for|during|of|year)?\s*(20\d{2}|19\d{2})\b")
_MONTH_ONLY = re.compile(rf"\b(?:in|during|for|of|since)\s+({_MONTH_RE})(?:\s+(\d{{4}}))?\b(?!\s*\d)")
_SINCE = re.compile(r"\bsince\b")


def _back(today: date, n: int, unit: str) -> date:
    """``n`` units before ``today``; units by first letter: d/s days, w weeks, m months, y years."""
    kind = unit[0]
    if kind == "m":
        return add_months(today, -n)
    if kind == "y":
        return add_months(today, -12 * n)
    return today - timedelta(days=(7 if kind == "w" else 1) * n)


def find_range(text: str, today: date) -> tuple[date, date] | None:
    """A ``(start, end)`` range named in ``text``, both ends included, or ``None``."""
    m = _LAST_N.search(text)
    if m:
        return _back(today, int(m.group(1)), m.group(2)), today
    m = _LAST_ONE.search(text)
    if m:
        unit = m.group(1)
        if unit == "year" and not m.group(0).startswith(("the", "past")) and "past" not in m.group(0):
            return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
        if unit == "quarter":
            return add_months(today, -3), today
        return _back(today, 1, unit), today
    if re.search(r"\b(?:ytd|this year)\b", text):
        return date(today.year, 1, 1), today
    if re.search(r"\bthis month\b", text):
        return today.replace(day=1), today
    days = [(m.start(), parse_day(m, today)) for m in DAY_RE.finditer(text)
            if not m.group("rel") or m.group("rel").strip() not in ("today",)]
    days = [(pos, d) for pos, d in days if d is not None]
    if len(days) >= 2 and re.search(r"\b(?:from|between|to|through|thru|until|till|and|-)\b", text):
        (_, a), (_, b) = days[0], days[1]
        if b < a and a.year == b.year and a.month > b.month:  # "nov 20 to jan 15": the first is last year
            a = a.replace(year=a.year - 1)
        return (a, b) if a <= b else (b, a)
    m = _MONTH_ONLY.search(text)
    if m:
        month = MONTHS[m.group(1)]
        year = int(m.group(2)) if m.group(2) else (today.year if month <= today.month else today.year - 1)
        first = date(year, month, 1)
        if m.group(0).startswith("since"):
            return first, today
        return first, min(today, date(year, month, _cal.monthrange(year, month)[1]))
    if days and _SINCE.search(text):
        return days[0][1], today
    if len(days) == 1 and re.search(r"\b(?:from|starting)\b", text):
        return days[0][1], today
    m = _N_AGO.search(text)
    if m:
        return _back(today, int(m.group(1)), m.group(2)), today
    years = [int(y) for y in _YEAR.findall(text)]
    if years:
        y0, y1 = min(years), max(years)
        return date(y0, 1, 1), min(today, date(y1, 12, 31))
    return None


def find_year(text: str, today: date) -> int | None:
    """A tax/calendar year: ``2025``, ``this year``, ``last year``, ``ytd``."""
    m = re.search(r"\b(20\d{2})\b", text)
    if m:
        return int(m.group(1))
    if re.search(r"\b(?:last|previous|prior)\s+year\b", text):
        return today.year - 1
    if re.search(r"\b(?:this year|ytd|current year|so far)\b", text):
        return today.year
    return None
