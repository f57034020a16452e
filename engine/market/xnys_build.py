"""Build ``xnys_sessions.json``: the XNYS holidays and early closes from ``exchange_calendars``.

``exchange_calendars`` is the source of truth for the trading calendar, but importing it (and
pandas) costs half a second, too much for a ``smart0dte quote`` call. So its answers for
2000–2035 are written once into a small JSON table that :mod:`engine.market.calendar` reads in
a millisecond; outside that range the calendar asks ``exchange_calendars`` directly, and a test
re-derives the table and fails if the library and the file ever disagree.

Regenerate after upgrading ``exchange_calendars``::

    python -m engine.market.xnys_build
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("xnys_sessions.json")
FIRST, LAST = date(2000, 1, 1), date(2035, 12, 31)


def derive_table(first: date = FIRST, last: date = LAST) -> dict:
    """Holidays (weekdays without a session) and non-regular opens/closes, as plain JSON data."""
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start=first.isoformat(), end=last.isoformat())
    sched = cal.schedule
    opens = sched["open"].dt.tz_convert("America/New_York")
    closes = sched["close"].dt.tz_convert("America/New_York")
    sessions = {ts.date() for ts in sched.index}
    holidays, d = [], first
    while d <= last:
        if d.weekday() < 5 and d not in sessions:
            holidays.append(d.isoformat())
        d += timedelta(days=1)
    early = {ts.date().isoformat(): c.strftime("%H:%M")
             for ts, c in zip(sched.index, closes, strict=True) if c.strftime("%H:%M") != "16:00"}
    late_open = {ts.date().isoformat(): o.strftime("%H:%M")
                 for ts, o in zip(sched.index, opens, strict=True) if o.strftime("%H:%M") != "09:30"}
    return {
        "source": f"exchange_calendars {xcals.__version__} XNYS",
        "first": first.isoformat(), "last": last.isoformat(),
        "regular_open": "09:30", "regular_close": "16:00",
        "holidays": holidays, "early_closes": early, "special_opens": late_open,
    }


def main() -> None:
    TABLE_PATH.write_text(json.dumps(derive_table(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {TABLE_PATH}")


if __name__ == "__main__":
    main()
