"""Entry filters: signals evaluated at the entry minute on bars up to that minute only.

A filter is ``f(session, i) -> bool``; it reads ``session.<array>[: i + 1]`` and nothing later.

- ``calm``: no opening-range breakout, |VWAP z| < 2 and no 30-minute momentum — the quiet tape
  premium sellers want for a neutral structure;
- ``trend_up`` / ``trend_down``: 30-minute momentum in that direction (directional spreads);
- ``no_breakout``: price still inside the 30-minute opening range;
- ``low_vix``: VIX below 20 at that minute (no VIX data → the filter says no).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.backtest.data import SessionBars
from engine.signals import indicators as ind

Filter = Callable[[SessionBars, int], bool]


def _orb(s: SessionBars, i: int):
    return ind.opening_range_breakout(s.day.isoformat(), s.ts(i), s.high[: i + 1], s.low[: i + 1], s.close[: i + 1])


def _mom(s: SessionBars, i: int):
    return ind.momentum("", s.ts(i), s.close[: i + 1])


def _calm(s: SessionBars, i: int) -> bool:
    orb, mom = _orb(s, i), _mom(s, i)
    vw = ind.vwap_deviation("", s.ts(i), s.high[: i + 1], s.low[: i + 1], s.close[: i + 1], s.volume[: i + 1])
    return all(x is None or x.direction == "neutral" for x in (orb, mom, vw))


def _trend(direction: str) -> Filter:
    def f(s: SessionBars, i: int) -> bool:
        m = _mom(s, i)
        return m is not None and m.direction == direction
    return f


def _no_breakout(s: SessionBars, i: int) -> bool:
    o = _orb(s, i)
    return o is None or o.direction == "neutral"


def _low_vix(s: SessionBars, i: int) -> bool:
    if s.vix is None:
        return False
    v = s.vix[: i + 1]
    v = v[np.isfinite(v)]
    return bool(v.size) and float(v[-1]) < 20.0


FILTERS: dict[str, Filter] = {"calm": _calm, "trend_up": _trend("long"), "trend_down": _trend("short"),
                              "no_breakout": _no_breakout, "low_vix": _low_vix}


def entry_filter(name: str | None) -> Filter | None:
    if name in (None, "none"):
        return None
    return FILTERS[name]
