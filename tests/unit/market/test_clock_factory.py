import time as _time
from datetime import UTC, datetime

from engine.core.clock import NY, SimClock
from engine.market.clock_factory import SessionMirrorClock, build_clock, mirror_instant
from engine.settings import load_settings


def ny(*a):
    return datetime(*a, tzinfo=NY)


class Fixed:
    def __init__(self, ts):
        self.ts = ts

    def now(self):
        return self.ts


def test_mirror_clock_is_wall_time_while_open():
    assert mirror_instant(ny(2026, 11, 20, 11, 0)) == ny(2026, 11, 20, 11, 0)
    assert not SessionMirrorClock(Fixed(ny(2026, 11, 20, 11, 0))).mirroring


def test_mirror_clock_replays_last_session_when_closed():
    sat = SessionMirrorClock(Fixed(ny(2026, 11, 21, 11, 15, 30)))
    assert sat.now() == ny(2026, 11, 20, 11, 15, 30)
    assert sat.mirroring
    # Thanksgiving at noon mirrors Wednesday at noon
    assert mirror_instant(ny(2026, 11, 26, 12, 0)) == ny(2026, 11, 25, 12, 0)
    # outside session hours: the close of the most recent session
    assert mirror_instant(ny(2026, 11, 20, 20, 0)) == ny(2026, 11, 20, 16, 0)
    assert mirror_instant(ny(2026, 11, 23, 8, 0)) == ny(2026, 11, 20, 16, 0)
    # the day after Thanksgiving closes at 13:00; 14:00 shows that close
    assert mirror_instant(ny(2026, 11, 27, 14, 0)) == ny(2026, 11, 27, 13, 0)
    assert mirror_instant(ny(2026, 11, 21, 11, 0)).tzinfo is UTC


def test_build_clock_pins_sim_start_and_runs_at_speed():
    s = load_settings(sim_start="2026-11-20T10:30:00-05:00", sim_speed=600)
    clock = build_clock(s)
    assert isinstance(clock, SimClock)
    t0 = clock.now()
    assert abs((t0 - ny(2026, 11, 20, 10, 30)).total_seconds()) < 60
    _time.sleep(0.05)
    assert (clock.now() - t0).total_seconds() > 20  # 600× wall time


def test_build_clock_without_start_mirrors(monkeypatch):
    monkeypatch.delenv("SMART0DTE_SIM_START", raising=False)
    assert isinstance(build_clock(load_settings()), SessionMirrorClock)
