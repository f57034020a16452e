"""Polygon/Massive REST through the official ``massive`` client, async and with typed errors.

``massive.RESTClient`` is synchronous (urllib3); every call here runs in a worker thread so the
event loop never blocks. What this layer adds:

* **429 and 5xx**: the client's urllib3 ``Retry`` is replaced (through the client's own
  ``connection_pool_kw``) by one that honours ``Retry-After`` (capped, so a hostile header cannot
  park a thread for an hour), backs off exponentially with jitter otherwise, and logs each wait.
  Still throttled after the retries → :class:`FeedError` saying so.
* **Bad key** → one :class:`AuthError` naming ``SMART0DTE_POLYGON_API_KEY`` (the key itself is
  never logged: the client sends it as a Bearer header, not in URLs).
* Vendor records become ours: minute aggregates → :class:`Bar` (aware NY starts), last NBBO /
  trade → :class:`Quote`/:class:`Trade`, option chain snapshots (paginated) →
  :class:`ChainSnapshot` with the vendor's IV and delta in ``vendor_iv``/``vendor_delta``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import numpy as np
from urllib3.util.retry import Retry

from engine.core.clock import NY
from engine.core.errors import AuthError, FeedError, NoData, UnknownSymbol
from engine.core.instruments import parse_occ
from engine.core.marketdata import Bar, ChainSnapshot, Quote, Trade
from engine.market.polygon.messages import SOURCE, our_symbol, ts_ms, ts_ns, vendor_topic

log = logging.getLogger("smart0dte.polygon.rest")
T = TypeVar("T")

KEY_HINT = "Polygon/Massive refused the API key: check SMART0DTE_POLYGON_API_KEY"


def route_vendor_logs() -> None:
    """Send the ``massive`` client's log records through our logging, not its stdout handlers.

    The client attaches a stdout ``StreamHandler`` to its loggers; a warning printed there would
    corrupt ``--json`` output of the command line. Records still propagate to the root logger.
    """
    for name in ("RESTClient", "WebSocketClient"):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (sys.stdout, sys.stderr):
                lg.removeHandler(h)


class PoliteRetry(Retry):
    """urllib3 retry that caps ``Retry-After`` and logs every throttled wait."""

    max_retry_after: float = 30.0

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self.max_retry_after)

    def sleep_for_retry(self, response: Any) -> bool:
        if response is not None and response.status == 429:
            log.warning("polygon REST rate limited (429); retrying after %s s",
                        response.headers.get("Retry-After", "backoff"))
        return super().sleep_for_retry(response)


def make_retry(retries: int, max_retry_after: float) -> Retry:
    cls = type("BoundRetry", (PoliteRetry,), {"max_retry_after": max_retry_after})
    return cls(total=retries, connect=retries, read=1, status=retries,
               status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",),
               backoff_factor=0.25, backoff_max=8.0, backoff_jitter=0.25,
               respect_retry_after_header=True, raise_on_status=True)


def _error_from_body(body: str, what: str) -> Exception:
    """Map a non-200 body (``massive.exceptions.BadResponse``) to our typed error."""
    try:
        obj = json.loads(body)
    except ValueError:
        obj = {}
    status = str(obj.get("status", "")).upper() if isinstance(obj, dict) else ""
    text = str(obj.get("error") or obj.get("message") or body)[:200] if isinstance(obj, dict) else body[:200]
    low = text.lower()
    if any(k in low for k in ("api key", "apikey", "unauthorized", "unknown key")):
        return AuthError(KEY_HINT)
    if status == "NOT_AUTHORIZED" or "not entitled" in low:
        return FeedError(f"Polygon plan not entitled to {what}: {text}")
    if status == "NOT_FOUND" or "not found" in low:
        return NoData(f"Polygon has no data for {what}")
    return FeedError(f"Polygon error for {what}: {text}")


class PolygonRest:
    """Async facade over ``massive.RESTClient`` for what the feed needs.

    ``PolygonRest(api_key, base_url)``; ``base_url`` is any server speaking Polygon's REST API
    (the vendor, a proxy, our loopback test server). ``retries``/``max_retry_after`` tune 429
    handling; ``timeout`` is per request (connect and read).
    """

    def __init__(self, api_key: str, base_url: str = "https://api.massive.com", *, retries: int = 4,
                 max_retry_after: float = 30.0, timeout: float = 10.0) -> None:
        from massive import RESTClient

        route_vendor_logs()
        self.base_url = base_url.rstrip("/")
        self.client = RESTClient(api_key=api_key, base=self.base_url, connect_timeout=timeout,
                                 read_timeout=timeout, retries=retries, pagination=True,
                                 connection_pool_kw={"retries": make_retry(retries, max_retry_after)})

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        from massive.exceptions import AuthError as MassiveAuthError
        from massive.exceptions import BadResponse
        from urllib3.exceptions import HTTPError, MaxRetryError

        try:
            return await asyncio.to_thread(fn)
        except BadResponse as err:
            raise _error_from_body(str(err), what) from None
        except MassiveAuthError:
            raise AuthError(KEY_HINT) from None
        except MaxRetryError as err:
            reason = str(err.reason or "")
            if "429" in reason:
                raise FeedError(f"Polygon rate limit: {what} still throttled (429) after retries") from None
            raise FeedError(f"Polygon unreachable for {what}: {reason[:160]}") from None
        except HTTPError as err:
            raise FeedError(f"Polygon request for {what} failed: {type(err).__name__}") from None

    # --- bars -------------------------------------------------------------------------------------
    async def bars(self, symbol: str, start: datetime, end: datetime, interval_s: int = 60) -> list[Bar]:
        """Aggregates of ``symbol`` with ``start <= bar start < end`` (aware NY starts).

        ``interval_s`` must be whole minutes (1, 5, 60…) or whole days (86400).
        """
        _, ticker = vendor_topic(symbol)
        mult, span = (interval_s // 86400, "day") if interval_s % 86400 == 0 else (interval_s // 60, "minute")
        if mult < 1 or (span == "minute" and interval_s % 60):
            raise FeedError(f"Polygon aggregates need whole minutes or days, not {interval_s} s")
        lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)

        def fetch() -> list:
            return list(self.client.list_aggs(ticker, mult, span, lo, hi - 1, adjusted=True, sort="asc",
                                              limit=50000))

        sym = our_symbol(ticker)
        out = []
        for a in await self._call(f"{symbol} aggregates", fetch):
            if a.timestamp is None or a.open is None or a.close is None:
                continue
            if not lo <= a.timestamp < hi:
                continue
            out.append(Bar(sym, ts_ms(a.timestamp).astimezone(NY), float(a.open), float(a.high), float(a.low),
                           float(a.close), int(a.volume or 0), interval_s,
                           float(a.vwap) if a.vwap is not None else None))
        return out

    # --- last quote / trade -----------------------------------------------------------------------
    async def quote(self, symbol: str) -> Quote:
        """Latest quote: NBBO for stocks/ETFs, the index value for indices, snapshot for options."""
        market, ticker = vendor_topic(symbol)
        if market == "indices":
            return await self._index_quote(ticker)
        if market == "options":
            return await self._option_quote(ticker)
        q = await self._call(f"{symbol} last quote", lambda: self.client.get_last_quote(ticker))
        if not q or q.bid_price is None or q.ask_price is None or q.sip_timestamp is None:
            raise NoData(f"Polygon has no quote for {symbol}")
        ts = ts_ns(q.sip_timestamp).astimezone(NY)
        last = None
        try:
            last = (await self.trade(symbol)).price
        except (NoData, FeedError):
            pass
        return Quote(our_symbol(ticker), float(q.bid_price), float(q.ask_price), ts,
                     int(q.bid_size or 0) * 100, int(q.ask_size or 0) * 100, last, SOURCE, ts.date())

    async def trade(self, symbol: str) -> Trade:
        _, ticker = vendor_topic(symbol)
        t = await self._call(f"{symbol} last trade", lambda: self.client.get_last_trade(ticker))
        if not t or t.price is None or t.sip_timestamp is None:
            raise NoData(f"Polygon has no trade for {symbol}")
        return Trade(our_symbol(ticker), float(t.price), int(t.size or 0), ts_ns(t.sip_timestamp).astimezone(NY), SOURCE)

    async def _index_quote(self, ticker: str) -> Quote:
        snaps = await self._call(f"{ticker} snapshot", lambda: self.client.get_snapshot_indices(ticker))
        for s in snaps or []:
            if s.ticker in (ticker, our_symbol(ticker)):
                if s.error or s.value is None:
                    raise UnknownSymbol(f"Polygon: {ticker}: {s.message or s.error or 'no value'}")
                ts = ts_ns(s.last_updated).astimezone(NY) if s.last_updated else datetime.now(NY)
                v = float(s.value)
                return Quote(our_symbol(ticker), v, v, ts, 0, 0, v, SOURCE, ts.date())
        raise NoData(f"Polygon has no snapshot for {ticker}")

    async def _option_quote(self, ticker: str) -> Quote:
        c = parse_occ(ticker)
        _, under = vendor_topic(c.underlying)
        snap = await self._call(f"{ticker} snapshot",
                                lambda: self.client.get_snapshot_option(under, ticker))
        lq = snap.last_quote
        if lq is None or lq.bid is None or lq.ask is None:
            raise NoData(f"Polygon has no quote for {c.occ}")
        ts = ts_ns(lq.last_updated).astimezone(NY) if lq.last_updated else datetime.now(NY)
        last = snap.last_trade.price if snap.last_trade and snap.last_trade.price else None
        return Quote(c.occ, float(lq.bid), float(lq.ask), ts, int(lq.bid_size or 0), int(lq.ask_size or 0),
                     last, SOURCE, ts.date())

    # --- options ----------------------------------------------------------------------------------
    async def expirations(self, underlying: str, on_or_after: date) -> list[date]:
        """Listed expiries of ``underlying`` from ``on_or_after`` (reference contracts, paginated)."""
        _, ticker = vendor_topic(underlying)

        def fetch() -> set[str]:
            seen: set[str] = set()
            for c in self.client.list_options_contracts(underlying_ticker=ticker,
                                                        expiration_date_gte=on_or_after.isoformat(),
                                                        limit=1000, sort="expiration_date", order="asc"):
                if c.expiration_date:
                    seen.add(c.expiration_date)
            return seen

        days = await self._call(f"{underlying} option expirations", fetch)
        return sorted(date.fromisoformat(d) for d in days)

    async def chain(self, underlying: str, expiry: date) -> ChainSnapshot:
        """Snapshot of every contract of one expiry: quotes, volume, OI, vendor IV and delta."""
        _, ticker = vendor_topic(underlying)

        def fetch() -> list:
            return list(self.client.list_snapshot_options_chain(
                ticker, params={"expiration_date": expiry.isoformat(), "limit": 250}))

        snaps = await self._call(f"{underlying} {expiry} chain", fetch)
        return chain_from_snapshots(underlying, expiry, snaps)


def _f(v: Any) -> float:
    return float(v) if v is not None else math.nan


def chain_from_snapshots(underlying: str, expiry: date, snaps: list) -> ChainSnapshot:
    """``OptionContractSnapshot`` records of one expiry → :class:`ChainSnapshot` (by strike, call first)."""
    rows = []
    spots, stamps = [], []
    for s in snaps:
        d = s.details
        if d is None or d.ticker is None or d.strike_price is None or d.contract_type not in ("call", "put"):
            continue
        if d.expiration_date and date.fromisoformat(d.expiration_date) != expiry:
            continue
        lq, lt, day, g = s.last_quote, s.last_trade, s.day, s.greeks
        if s.underlying_asset is not None and (s.underlying_asset.price or s.underlying_asset.value):
            spots.append(float(s.underlying_asset.price or s.underlying_asset.value))
        if lq is not None and lq.last_updated:
            stamps.append(int(lq.last_updated))
        last = lt.price if lt is not None and lt.price is not None else (day.close if day is not None else None)
        rows.append((float(d.strike_price), d.contract_type == "call", our_symbol(d.ticker),
                     _f(lq.bid if lq else None), _f(lq.ask if lq else None),
                     (lq.bid_size or 0) if lq else 0, (lq.ask_size or 0) if lq else 0, _f(last),
                     (day.volume or 0) if day else 0, s.open_interest or 0,
                     _f(s.implied_volatility), _f(g.delta if g else None)))
    if not rows:
        raise NoData(f"Polygon lists no {underlying} options expiring {expiry}")
    rows.sort(key=lambda r: (r[0], not r[1]))
    cols = list(zip(*rows, strict=True))
    ts = ts_ns(max(stamps)).astimezone(NY) if stamps else datetime.now(NY)
    spot = float(np.median(spots)) if spots else math.nan
    return ChainSnapshot(
        underlying=our_symbol(vendor_topic(underlying)[1]), expiry=expiry, ts=ts, spot=spot,
        symbols=tuple(cols[2]), strikes=np.array(cols[0], dtype=float), is_call=np.array(cols[1], dtype=bool),
        bid=np.array(cols[3], dtype=float), ask=np.array(cols[4], dtype=float),
        bid_size=np.array(cols[5], dtype=np.int64), ask_size=np.array(cols[6], dtype=np.int64),
        last=np.array(cols[7], dtype=float), volume=np.array(cols[8], dtype=np.int64),
        open_interest=np.array(cols[9], dtype=np.int64), vendor_iv=np.array(cols[10], dtype=float),
        vendor_delta=np.array(cols[11], dtype=float), source=SOURCE, session=ts.date())
