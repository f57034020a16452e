"""Time to expiry, in years, from an exchange instant to a contract's expiry moment.

One function, :func:`time_to_expiry`, used by the chain, the backtester and the risk guard, so
every part prices a 0DTE option with the same clock.

- **Expiry moment.** PM-settled contracts (SPY/QQQ/IWM, SPXW) expire at the close of the expiry
  session: 16:00 ET, or the early close (13:00 ET on the day after Thanksgiving, Christmas Eve…).
  AM-settled contracts (SPX, VIX) stop trading the day before and settle on the opening prints of
  the expiry day; their moment is that session's open, 09:30 ET.
- **Calendar time** (default): calendar minutes to that moment divided by 525 600 (ACT/365 in
  minutes), so one minute is ``1/525600`` and an overnight counts fully. This is the convention
  of the BSM functions and of the vendor IVs we compare with.
- **Trading time** (``trading_time=True``): only minutes when the exchange is open count, and a
  year is 252 sessions × 390 minutes = 98 280 minutes. Overnight and weekends then carry no decay;
  an IV measured in trading time is therefore on the same annual scale as a calendar IV only
  within a session.

The result is 0.0 at or after the expiry moment (BSM functions then answer NaN; the chain shows
contracts at expiry with intrinsic-value Greeks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.instruments import SettleTime
from engine.market import calendar
from engine.options.bsm import MINUTES_PER_YEAR

__all__ = ["MINUTES_PER_YEAR", "TRADING_MINUTES_PER_YEAR", "expiry_moment", "open_minutes_between",
           "session_bounds", "time_to_expiry"]

TRADING_MINUTES_PER_YEAR = 252.0 * 390.0
_REGULAR_OPEN = time(9, 30)
_REGULAR_CLOSE = time(16, 0)


@lru_cache(maxsize=4096)
def session_bounds(day: date) -> tuple[datetime, datetime] | None:
    """(open, close) of the XNYS session on ``day`` as aware NY datetimes, or None if no session."""
    if not calendar.is_session(day):
        return None
    return calendar.session_open(day), calendar.session_close(day)


def expiry_moment(expiry: date, settle_time: SettleTime | str = SettleTime.PM) -> datetime:
    """The instant a contract expiring on ``expiry`` stops carrying time value (aware, NY).

    PM: the close of the expiry session (early closes honoured); AM: the open of the expiry
    session. A date that is not a session (a listed expiry never is one) falls back to 16:00/09:30.
    """
    st = _settle(settle_time)
    bounds = session_bounds(expiry)
    if bounds is None:
        return datetime.combine(expiry, _REGULAR_CLOSE if st is SettleTime.PM else _REGULAR_OPEN, NY)
    return bounds[1] if st is SettleTime.PM else bounds[0]


def open_minutes_between(t0: datetime, t1: datetime) -> float:
    """Minutes in ``[t0, t1)`` during which the exchange is open (regular sessions only)."""
    return calendar.open_minutes_between(t0.astimezone(UTC), t1.astimezone(UTC))


def time_to_expiry(now: datetime, expiry: date, settle_time: SettleTime | str = SettleTime.PM,
                   trading_time: bool = False) -> float:
    """Years from ``now`` (aware) to the expiry moment of a contract expiring on ``expiry``.

    Calendar minutes / 525 600 by default; with ``trading_time`` open-market minutes / 98 280.
    0.0 at or after expiry. A naive ``now`` or an unknown ``settle_time`` raises
    :class:`~engine.core.errors.InvalidInput`.
    """
    if now.tzinfo is None:
        raise InvalidInput("time_to_expiry needs a timezone-aware 'now'", field="now")
    # In UTC: Python subtracts two datetimes sharing one tzinfo on their wall clocks, which
    # would make a DST weekend an hour too long or short.
    now = now.astimezone(UTC)
    end = expiry_moment(expiry, settle_time).astimezone(UTC)
    if now >= end:
        return 0.0
    if trading_time:
        return open_minutes_between(now, end) / TRADING_MINUTES_PER_YEAR
    return (end - now).total_seconds() / 60.0 / MINUTES_PER_YEAR


def _settle(value: SettleTime | str) -> SettleTime:
    try:
        return value if isinstance(value, SettleTime) else SettleTime(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(f"settle_time must be 'am' or 'pm', not {value!r}", field="settle_time") from None
