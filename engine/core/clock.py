"""Clocks. Exchange time is America/New_York; storage is UTC. Every datetime is timezone-aware.

``LiveClock`` is wall time. ``SimClock`` is time that someone else drives: the backtester steps it
minute by minute, the replay feed moves it with the file, and the simulated market runs it from a
pinned start (``SMART0DTE_SIM_START``) at a chosen speed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")


def to_ny(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone first")
    return ts.astimezone(NY)


def to_utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone first")
    return ts.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class LiveClock:
    """Wall time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """Time driven by its owner.

    ``SimClock(start)`` is frozen at ``start`` until :meth:`advance` or :meth:`set`;
    ``SimClock(start, speed=s, running=True)`` runs from ``start`` at ``s`` simulated seconds per
    wall second (monotonic wall clock, so system clock jumps do not move it).
    """

    def __init__(self, start: datetime, *, speed: float = 1.0, running: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware")
        self._anchor = start.astimezone(UTC)
        self._speed = float(speed)
        self._running = running
        self._wall0 = time.monotonic()

    def now(self) -> datetime:
        if not self._running:
            return self._anchor
        return self._anchor + timedelta(seconds=(time.monotonic() - self._wall0) * self._speed)

    def set(self, ts: datetime) -> None:
        if ts.tzinfo is None:
            raise ValueError("SimClock.set needs a timezone-aware datetime")
        self._anchor = ts.astimezone(UTC)
        self._wall0 = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        self.set(self.now() + delta)
        return self.now()
