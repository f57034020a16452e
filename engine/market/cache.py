"""Latest-quote cache: the newest quote per symbol, in-process or in Redis, with staleness.

Every quote the market service hands out is written here, so other parts (the risk guard's
stale-data check, a dashboard in another process) can read the latest quote without asking the
feed. Two implementations behind one interface:

- :class:`MemoryQuoteCache` — a dict; the default (no set-up).
- :class:`RedisQuoteCache` — one Redis hash (``<prefix>latest``: symbol → packed quote), used
  when ``SMART0DTE_REDIS_URL`` is set, so every process on the machine shares it. ``put_many``
  is one ``HSET`` round trip however many quotes it carries.

Staleness: a quote is stale when ``now - quote.ts`` exceeds ``stale_after`` seconds
(``SMART0DTE_STALE_QUOTE_SECONDS``), with ``now`` from the feed's clock (simulated time for the
simulator), never the machine's wall clock behind its back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Protocol

from engine.core.clock import NY, Clock
from engine.core.errors import NoData, StaleData
from engine.core.marketdata import Quote

_SEP = "|"


def pack(q: Quote) -> str:
    """Quote → compact text (microsecond UTC epoch; empty field for a missing last/session)."""
    ts_us = int(round(q.ts.timestamp() * 1_000_000))
    last = "" if q.last is None else repr(float(q.last))
    session = "" if q.session is None else q.session.isoformat()
    return _SEP.join((q.symbol, repr(float(q.bid)), repr(float(q.ask)), last, str(int(q.bid_size)),
                      str(int(q.ask_size)), str(ts_us), q.source, session))


def unpack(text: str | bytes) -> Quote:
    if isinstance(text, bytes):
        text = text.decode()
    sym, bid, ask, last, bs, as_, ts_us, source, session = text.split(_SEP)
    ts = datetime.fromtimestamp(int(ts_us) / 1_000_000, UTC).astimezone(NY)
    return Quote(sym, float(bid), float(ask), ts, int(bs), int(as_), float(last) if last else None,
                 source, date.fromisoformat(session) if session else None)


class QuoteCache(Protocol):
    stale_after: float

    def put(self, quote: Quote) -> None: ...

    def put_many(self, quotes: Iterable[Quote]) -> int: ...

    def get(self, symbol: str) -> Quote | None: ...

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]: ...

    def symbols(self) -> list[str]: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class _Staleness:
    """Shared staleness logic (needs ``get``, ``stale_after`` and ``clock``)."""

    stale_after: float
    clock: Clock | None

    def get(self, symbol: str) -> Quote | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _now(self, now: datetime | None) -> datetime:
        if now is not None:
            return now
        if self.clock is None:
            raise ValueError("staleness needs 'now' or a cache clock")
        return self.clock.now()

    def age(self, symbol: str, now: datetime | None = None) -> float | None:
        """Seconds since the cached quote of ``symbol`` (None if none is cached)."""
        q = self.get(symbol)
        return None if q is None else (self._now(now) - q.ts).total_seconds()

    def is_stale(self, symbol: str, now: datetime | None = None) -> bool:
        """True if no quote is cached or the cached one is older than ``stale_after``."""
        a = self.age(symbol, now)
        return a is None or a > self.stale_after

    def fresh(self, symbol: str, now: datetime | None = None) -> Quote:
        """The cached quote if fresh; :class:`NoData` if none, :class:`StaleData` if too old."""
        q = self.get(symbol)
        if q is None:
            raise NoData(f"no quote cached for {symbol}")
        age = (self._now(now) - q.ts).total_seconds()
        if age > self.stale_after:
            raise StaleData(f"{symbol} quote is {age:.1f} s old (limit {self.stale_after:g} s)")
        return q


class MemoryQuoteCache(_Staleness):
    """In-process cache: a dict of the newest quote per symbol (older quotes never overwrite)."""

    def __init__(self, stale_after: float = 10.0, clock: Clock | None = None) -> None:
        self.stale_after = float(stale_after)
        self.clock = clock
        self._data: dict[str, Quote] = {}

    def put(self, quote: Quote) -> None:
        old = self._data.get(quote.symbol)
        if old is None or quote.ts >= old.ts:
            self._data[quote.symbol] = quote

    def put_many(self, quotes: Iterable[Quote]) -> int:
        data, n = self._data, 0
        for q in quotes:  # inlined put(): this loop is on the feed's hot path
            old = data.get(q.symbol)
            if old is None or q.ts >= old.ts:
                data[q.symbol] = q
            n += 1
        return n

    def get(self, symbol: str) -> Quote | None:
        return self._data.get(symbol.upper())

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {s.upper(): self._data[s.upper()] for s in symbols if s.upper() in self._data}

    def symbols(self) -> list[str]:
        return sorted(self._data)

    def clear(self) -> None:
        self._data.clear()

    def close(self) -> None:
        pass


#: Newest-wins write of many quotes in one round trip: a quote older than the cached one of its
#: symbol (field 7 of the packed text is the microsecond timestamp) is dropped, as in memory.
_PUT_NEWER = """
local written = 0
for i = 1, #ARGV, 3 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  local old_ts = old and tonumber(string.match(old, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|(%d+)|'))
  if not old_ts or old_ts <= tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    written = written + 1
  end
end
return written
"""


class RedisQuoteCache(_Staleness):
    """Redis-backed cache shared by every process pointing at the same URL and prefix.

    Newest wins, as in :class:`MemoryQuoteCache`: a Lua script compares timestamps inside Redis,
    so two processes writing the same symbol can never leave the older quote behind, and a batch
    is still one round trip.
    """

    def __init__(self, url: str, *, prefix: str = "smart0dte:", stale_after: float = 10.0,
                 clock: Clock | None = None, client=None) -> None:
        import redis

        self.url = url
        self.key = f"{prefix}latest"
        self.stale_after = float(stale_after)
        self.clock = clock
        self._r = client or redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._put_newer = self._r.register_script(_PUT_NEWER)

    def put(self, quote: Quote) -> None:
        self.put_many([quote])

    def put_many(self, quotes: Iterable[Quote]) -> int:
        """Write quotes (newest per symbol wins); returns how many were given."""
        args: list[str] = []
        n = 0
        for q in quotes:
            packed = pack(q)
            args += (q.symbol, packed, packed.split(_SEP, 7)[6])
            n += 1
        if args:
            self._put_newer(keys=[self.key], args=args)
        return n

    def get(self, symbol: str) -> Quote | None:
        raw = self._r.hget(self.key, symbol.upper())
        return None if raw is None else unpack(raw)

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        keys = [s.upper() for s in symbols]
        if not keys:
            return {}
        return {k: unpack(v) for k, v in zip(keys, self._r.hmget(self.key, keys), strict=True) if v is not None}

    def symbols(self) -> list[str]:
        return sorted(k.decode() if isinstance(k, bytes) else k for k in self._r.hkeys(self.key))

    def clear(self) -> None:
        self._r.delete(self.key)

    def close(self) -> None:
        self._r.close()


def build_cache(settings, clock: Clock | None = None) -> MemoryQuoteCache | RedisQuoteCache:
    """Redis when ``SMART0DTE_REDIS_URL`` is set, else in-process."""
    if settings.redis_url:
        return RedisQuoteCache(settings.redis_url, stale_after=settings.stale_quote_seconds, clock=clock)
    return MemoryQuoteCache(settings.stale_quote_seconds, clock)
