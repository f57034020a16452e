"""The feed's clock, built from settings.

- ``SMART0DTE_SIM_START`` set: simulated time starts there and runs with wall time ×
  ``SMART0DTE_SIM_SPEED`` (a :class:`~engine.core.clock.SimClock`); every process started with
  the same setting sees the same instants, so tests and demos are reproducible.
- unset, simulated feed: :class:`SessionMirrorClock` — wall time while the exchange is open;
  while it is closed, the same time of day on the most recent session (clamped to that session's
  close when the time of day falls outside its hours), so the product works at any hour and the
  quotes' ``session`` says which day is shown.
- real feeds (Polygon, replay) run on wall time or their own clock; they build their own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine.core.clock import NY, Clock, LiveClock, SimClock
from engine.market import calendar


class SessionMirrorClock:
    """Wall time while the market is open; otherwise the same time of day on the last session."""

    def __init__(self, wall: Clock | None = None) -> None:
        self._wall = wall or LiveClock()

    def now(self) -> datetime:
        return mirror_instant(self._wall.now())

    @property
    def mirroring(self) -> bool:
        """True while the clock shows a past session instead of the present."""
        return not calendar.is_open(self._wall.now())


def mirror_instant(wall: datetime) -> datetime:
    """The instant :class:`SessionMirrorClock` shows at wall time ``wall`` (aware)."""
    if calendar.is_open(wall):
        return wall
    ny = wall.astimezone(NY)
    day = calendar.session_of(ny)
    opening, closing = calendar.session_open(day), calendar.session_close(day)
    same_time = datetime.combine(day, ny.time().replace(tzinfo=None), NY)
    if opening <= same_time < closing:
        return same_time.astimezone(UTC)
    return closing.astimezone(UTC)


def build_clock(settings) -> Clock:
    """The clock of the configured feed (see module docstring)."""
    if settings.sim_start is not None:
        return SimClock(settings.sim_start, speed=settings.sim_speed, running=True)
    if settings.feed == "sim":
        return SessionMirrorClock()
    return LiveClock()
