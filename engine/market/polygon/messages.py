"""Fast decoding of Polygon/Massive WebSocket frames into our market records.

A frame is a JSON array of events (``[{"ev":"Q","sym":"SPY","bp":…}, …]``). The stream's hot path
is ``json.loads`` plus one pass over the events, so this module avoids per-event objects it does
not need:

* **Quotes are conflated per frame**: only the last quote of each symbol in a frame becomes a
  :class:`Quote` (the latest-quote cache and every consumer want the current top of book, and a
  frame spans milliseconds). Every quote event is still checked and counted.
* Trades (``T``), minute aggregates (``AM``/``A``) and index values (``V``) are never conflated.
* A malformed event (missing field, wrong type, non-positive price, unknown event) is counted in
  :attr:`ParseStats.malformed`, its first examples kept for the log, and skipped; the rest of the
  frame is used. A frame that is not JSON at all counts once and yields nothing.

Symbols are mapped to ours: ``O:SPY251121C00600000`` → ``SPY251121C00600000``, ``I:VIX`` →
``VIX``. Units follow the vendor's WebSocket spec: stock quote sizes are round lots (×100 to
shares), option sizes contracts, timestamps Unix milliseconds. Stock and option events share
event codes, so a parser is made per market (``stocks``, ``options``, ``indices``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.core.clock import NY
from engine.core.marketdata import Bar, Quote, Trade

try:  # optional: a faster decoder when present (not a declared dependency)
    import orjson as _orjson

    FAST_LOADS: Callable[[str | bytes], Any] = _orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    FAST_LOADS = json.loads

SOURCE = "polygon"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Hot path: a frozen dataclass's __init__ pays object.__setattr__ per field; filling the slots
# through their descriptors builds the same immutable, equal Quote in about half the time. Used
# only while Quote's fields are exactly these (checked here), else the constructor.
_QUOTE_FIELDS = ("symbol", "bid", "ask", "ts", "bid_size", "ask_size", "last", "source", "session")
_FAST_QUOTE = tuple(f.name for f in dataclass_fields(Quote)) == _QUOTE_FIELDS and not hasattr(Quote, "__post_init__")
(_q_sym, _q_bid, _q_ask, _q_ts, _q_bs, _q_as, _q_last, _q_src, _q_sess) = (
    getattr(Quote, f).__set__ for f in _QUOTE_FIELDS) if _FAST_QUOTE else (None,) * 9
_new = object.__new__
_NUM = (int, float)
_INF = float("inf")
_MS = timedelta(milliseconds=1)


def ts_ms(ms: int | float) -> datetime:
    """Unix milliseconds → aware UTC datetime (exact for integers)."""
    return _EPOCH + timedelta(milliseconds=ms)


def ts_ns(ns: int) -> datetime:
    """Unix nanoseconds (REST ``sip_timestamp``/``t``) → aware UTC datetime (µs precision)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def our_symbol(vendor: str) -> str:
    """``O:SPY…`` / ``I:VIX`` → ``SPY…`` / ``VIX``; stock tickers unchanged."""
    return vendor[2:] if len(vendor) > 2 and vendor[1] == ":" else vendor


def vendor_topic(symbol: str) -> tuple[str, str]:
    """Our symbol → (market, vendor ticker): ``SPY``→stocks, ``VIX``→indices ``I:VIX``, OCC→options."""
    from engine.core.instruments import AssetKind, parse_symbol

    inst = parse_symbol(symbol, known_only=False)
    if inst.kind is AssetKind.OPTION:
        return "options", "O:" + inst.occ  # type: ignore[union-attr]
    if inst.kind is AssetKind.INDEX:
        return "indices", "I:" + inst.symbol  # type: ignore[union-attr]
    return "stocks", inst.symbol  # type: ignore[union-attr]


@dataclass(slots=True)
class ParseStats:
    """Counters of one parser (one WebSocket connection)."""

    frames: int = 0
    events: int = 0
    quotes: int = 0
    trades: int = 0
    bars: int = 0
    values: int = 0
    statuses: int = 0
    malformed: int = 0
    examples: list[str] = field(default_factory=list)

    def bad(self, what: str, event: object) -> None:
        self.malformed += 1
        if len(self.examples) < 20:
            self.examples.append(f"{what}: {str(event)[:160]}")


@dataclass(slots=True)
class Frame:
    """What one WebSocket frame held, decoded."""

    quotes: dict[str, Quote] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)

    def events(self) -> list[Quote | Trade | Bar]:
        return [*self.trades, *self.bars, *self.quotes.values()]


class FrameParser:
    """Decode frames of one market (``stocks``, ``options`` or ``indices``); see module docstring.

    ``parse(raw)`` returns a :class:`Frame`; it never raises on bad data.
    """

    def __init__(self, market: str = "stocks", *, loads: Callable[[str | bytes], Any] = FAST_LOADS,
                 session_of: Callable[[datetime], date] | None = None) -> None:
        self.market = market
        self.lot = 100 if market == "stocks" else 1
        self.loads = loads
        self.stats = ParseStats()
        self._session_of = session_of or (lambda ts: ts.astimezone(NY).date())
        self._sessions: dict[int, date] = {}  # hour since epoch -> session day (cheap per quote)

    def session(self, t_ms: int, ts: datetime) -> date:
        hour = t_ms // 3_600_000
        day = self._sessions.get(hour)
        if day is None:
            if len(self._sessions) > 512:
                self._sessions.clear()
            day = self._sessions[hour] = self._session_of(ts)
        return day

    def parse(self, raw: str | bytes) -> Frame:
        st = self.stats
        st.frames += 1
        out = Frame()
        try:
            msgs = self.loads(raw)
        except (ValueError, TypeError):
            st.bad("not JSON", raw)
            return out
        if isinstance(msgs, dict):
            msgs = [msgs]
        elif not isinstance(msgs, list):
            st.bad("not an event array", raw)
            return out
        st.events += len(msgs)
        last_q: dict[str, tuple] = {}
        for m in msgs:
            try:
                ev = m["ev"]
                if ev == "Q":
                    sym, bp, ap, t, bs, as_ = m["sym"], m["bp"], m["ap"], m["t"], m.get("bs", 0), m.get("as", 0)
                    # the chained comparisons reject negatives, NaN and infinity, and raise TypeError
                    # (-> malformed) for strings or nulls: no separate type test per number
                    if not (0 <= bp < _INF and 0 <= ap < _INF and 0 <= bs < _INF and 0 <= as_ < _INF) \
                            or t.__class__ is not int or sym.__class__ is not str:
                        st.bad("bad quote", m)
                        continue
                    last_q[sym] = (bp, ap, t, bs, as_)
                elif ev == "T":
                    out.trades.append(self._trade(m))
                elif ev == "AM" or ev == "A":
                    out.bars.append(self._bar(m, 60 if ev == "AM" else 1))
                elif ev == "V":
                    out.quotes[our_symbol(m["T"])] = self._value(m)
                elif ev == "status":
                    st.statuses += 1
                    out.statuses.append(m)
                else:
                    st.bad(f"unknown event {ev!r}", m)
            except (KeyError, TypeError, ValueError, AttributeError):
                st.bad("malformed event", m)
        st.quotes += len(last_q)
        st.trades += len(out.trades)
        st.bars += len(out.bars)
        if last_q:
            self._quotes(last_q, out.quotes)
        return out

    def _quotes(self, last_q: dict[str, tuple], into: dict[str, Quote]) -> None:
        lot, sessions, session = self.lot, self._sessions, self.session
        for sym, (bp, ap, t, bs, as_) in last_q.items():
            ts = _EPOCH + _MS * t
            day = sessions.get(t // 3_600_000) or session(t, ts)
            ours = sym[2:] if sym[1:2] == ":" else sym
            if _FAST_QUOTE:
                q = _new(Quote)
                _q_sym(q, ours)
                _q_bid(q, float(bp))
                _q_ask(q, float(ap))
                _q_ts(q, ts)
                _q_bs(q, int(bs) * lot)
                _q_as(q, int(as_) * lot)
                _q_last(q, None)
                _q_src(q, SOURCE)
                _q_sess(q, day)
            else:  # pragma: no cover - only if Quote's fields change
                q = Quote(ours, float(bp), float(ap), ts, int(bs) * lot, int(as_) * lot, None, SOURCE, day)
            into[ours] = q

    def _trade(self, m: dict) -> Trade:
        p, s, t = m["p"], m["s"], m["t"]
        if p.__class__ not in _NUM or s.__class__ not in _NUM or t.__class__ is not int \
                or not (0 < p < _INF and 0 <= s < _INF):
            raise ValueError("bad trade")
        return Trade(our_symbol(m["sym"]), float(p), int(s), ts_ms(t), SOURCE)

    def _bar(self, m: dict, interval_s: int) -> Bar:
        o, h, lo, c, v = float(m["o"]), float(m["h"]), float(m["l"]), float(m["c"]), int(m["v"])
        if not (0 < lo <= min(o, c) and max(o, c) <= h < _INF) or v < 0:  # also rejects NaN
            raise ValueError("inconsistent bar")
        vw = m.get("vw")
        start = ts_ms(int(m["s"])).astimezone(NY)
        return Bar(our_symbol(m["sym"]), start, o, h, lo, c, v, interval_s, float(vw) if vw is not None else None)

    def _value(self, m: dict) -> Quote:
        val, t = m["val"], m["t"]
        if val.__class__ not in _NUM or t.__class__ is not int or not 0 < val < _INF:
            raise ValueError("bad index value")
        self.stats.values += 1
        ts = ts_ms(t)
        v = float(val)
        # an index has no bid/ask: the value is its last; bid = ask = value keeps mid() right
        return Quote(our_symbol(m["T"]), v, v, ts, 0, 0, v, SOURCE, self.session(t, ts))
