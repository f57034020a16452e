"""A loopback Polygon/Massive server: REST (aiohttp) + WebSocket (websockets), real payload shapes.

Shapes come from ``../shared/data/polygon``: every recorded REST body under ``rest/`` is served
at its path and query (``rest/v3/snapshot/options/AAPL.json`` answers
``GET /v3/snapshot/options/AAPL``); payloads the recordings lack (SPY option chain, SPY minute
aggregates, SPY NBBO, VIX index value, SPY contract references) are built by filling the
recorded AAPL/SPX records — or, for WebSocket events, the examples of ``websocket-spec.json`` —
with other values, so keys and nesting are exactly the vendor's.

The server behaves like the vendor where the client can tell: Bearer-key auth (401 with the
vendor's error body on a bad key), cursor pagination through ``next_url``, the WebSocket
handshake (``connected`` status → ``auth`` → ``auth_success``/``auth_failed`` →
``subscribe``/``unsubscribe`` with ``success`` statuses). Test controls: :meth:`throttle`
(next N requests answer 429 with ``Retry-After``), ``reject_handshakes`` (next N WebSocket
handshakes answer HTTP 503), :meth:`push` (send a frame to every open
connection of a market), :meth:`drop` (abort the TCP connection mid-stream, no close frame),
:meth:`kick` (a disconnect status such as ``max_connections``, then a clean close),
and records of requests, connections and subscriptions.

Usage::

    async with PolygonLoopback(data_dir, api_key="k") as srv:
        settings = load_settings(polygon_api_key="k", polygon_base_url=srv.rest_url,
                                 polygon_ws_url=srv.ws_url)
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve

NY = ZoneInfo("America/New_York")
PAGE = 250


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


@dataclass
class WsConn:
    market: str
    conn: ServerConnection
    authed: bool = False
    topics: set[str] = field(default_factory=set)
    actions: list[dict] = field(default_factory=list)
    closed: bool = False


class PolygonLoopback:
    """See the module docstring. ``spot`` sets the SPY price the synthetic payloads use."""

    def __init__(self, data_dir: str | Path, *, api_key: str = "test-key", spot: float = 600.0) -> None:
        self.data = Path(data_dir) / "polygon"
        self.api_key = api_key
        self.spot = spot
        self.requests: list[tuple[str, dict]] = []
        self.throttled = 0
        self._throttle_left = 0
        self._retry_after = "0"
        self.conns: list[WsConn] = []
        self.reject_handshakes = 0  # the next N WebSocket handshakes get HTTP 503
        self.rejected = 0
        self._static = self._index_static()
        self._ws_examples = self._ws_templates()
        self._runner: web.AppRunner | None = None
        self._ws_server = None
        self.rest_url = ""
        self.ws_url = ""

    # --- templates from the recorded payloads -----------------------------------------------------
    def _load(self, rel: str) -> dict:
        return json.loads((self.data / "rest" / rel).read_text())

    def _index_static(self) -> dict[tuple[str, frozenset], Path]:
        out = {}
        root = self.data / "rest"
        for f in root.rglob("*.json"):
            rel = str(f.relative_to(root))[:-5].replace(";", ":")
            path, _, query = rel.partition("&")
            params = frozenset(urllib.parse.parse_qsl(query, keep_blank_values=True))
            out[("/" + path, params)] = f
        return out

    def _ws_templates(self) -> dict[str, dict]:
        spec = json.loads((self.data / "websocket-spec.json").read_text())
        out = {}
        for p in ("/stocks/Q", "/stocks/T", "/stocks/AM", "/options/Q", "/indices/V"):
            resp = spec["paths"][p]["get"]["responses"]["200"]["content"]["application/json"]
            out[p] = resp["example"]
        return out

    def ws_event(self, kind: str, **values) -> dict:
        """A WebSocket event shaped like the spec's example of ``kind`` (``/stocks/Q``…)."""
        ev = copy.deepcopy(self._ws_examples[kind])
        for k, v in values.items():
            ev[k] = v
        return ev

    def stock_quote(self, sym: str, bid: float, ask: float, t_ms: int, **kw) -> dict:
        return self.ws_event("/stocks/Q", sym=sym, bp=bid, ap=ask, t=t_ms, **kw)

    def option_quote(self, sym: str, bid: float, ask: float, t_ms: int) -> dict:
        return self.ws_event("/options/Q", sym=sym, bp=bid, ap=ask, t=t_ms)

    def trade(self, sym: str, price: float, size: int, t_ms: int) -> dict:
        return self.ws_event("/stocks/T", sym=sym, p=price, s=size, t=t_ms)

    def minute_agg(self, sym: str, start: datetime, o: float, h: float, lo: float, c: float, v: int) -> dict:
        s = _ms(start)
        return self.ws_event("/stocks/AM", sym=sym, o=o, h=h, l=lo, c=c, v=v, vw=(h + lo + c) / 3,
                             s=s, e=s + 60_000)

    def index_value(self, ticker: str, value: float, t_ms: int) -> dict:
        return self.ws_event("/indices/V", T=ticker, val=value, t=t_ms)

    # --- synthetic REST bodies ------------------------------------------------------------------
    def _option_record(self, under: str, expiry: date, right: str, strike: float, now_ns: int) -> dict:
        rec = copy.deepcopy(self._load("v3/snapshot/options/AAPL.json")["results"][0])
        spot = self.spot
        intrinsic = max(0.0, spot - strike) if right == "call" else max(0.0, strike - spot)
        extrinsic = 2.0 * math.exp(-(((strike - spot) / 8.0) ** 2))
        mid = round(intrinsic + extrinsic + 0.01, 2)
        bid, ask = max(0.0, round(mid - 0.02, 2)), round(mid + 0.02, 2)
        z = (spot - strike) / 8.0
        call_delta = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        occ = f"{under}{expiry:%y%m%d}{'C' if right == 'call' else 'P'}{int(round(strike * 1000)):08d}"
        rec["details"].update(contract_type=right, expiration_date=expiry.isoformat(), strike_price=strike,
                              ticker="O:" + occ, exercise_style="american")
        rec["last_quote"].update(bid=bid, ask=ask, midpoint=round((bid + ask) / 2, 3), bid_size=10, ask_size=12,
                                 last_updated=now_ns)
        rec["last_trade"].update(price=mid, sip_timestamp=now_ns, size=1)
        rec["day"].update(close=mid, volume=int(1000 * math.exp(-abs(z))), last_updated=now_ns)
        rec["implied_volatility"] = round(0.12 + 0.02 * abs(z), 4)
        rec["greeks"].update(delta=call_delta if right == "call" else call_delta - 1.0)
        rec["open_interest"] = 5000
        rec["break_even_price"] = strike + mid if right == "call" else strike - mid
        rec["underlying_asset"].update(price=spot, ticker=under, last_updated=now_ns)
        return rec

    def chain_records(self, under: str, expiry: date, width: int = 150) -> list[dict]:
        now_ns = int(datetime.now(UTC).timestamp() * 1e9)
        centre = round(self.spot)
        recs = []
        for k in range(centre - width, centre + width + 1):
            for right in ("call", "put"):
                recs.append(self._option_record(under, expiry, right, float(k), now_ns))
        return recs

    def expiries(self, start: date, n: int = 5) -> list[date]:
        out, d = [], start
        while len(out) < n:
            if d.weekday() < 5:
                out.append(d)
            d += timedelta(days=1)
        return out

    def minute_bars(self, ticker: str, lo_ms: int, hi_ms: int) -> list[dict]:
        """Regular-session minute aggregates of every weekday in [lo, hi], a deterministic walk."""
        tmpl = self._load("v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04.json")["results"][0]
        out = []
        day = datetime.fromtimestamp(lo_ms / 1000, NY).date()
        last = datetime.fromtimestamp(hi_ms / 1000, NY).date()
        price = self.spot if ticker == "SPY" else 100.0
        i = 0
        while day <= last:
            if day.weekday() < 5:
                t0 = datetime(day.year, day.month, day.day, 9, 30, tzinfo=NY)
                for m in range(390):
                    ts = _ms(t0 + timedelta(minutes=m))
                    if not lo_ms <= ts <= hi_ms:
                        continue
                    i += 1
                    step = 0.05 * math.sin(i / 7.0)
                    o, c = price, round(price + step, 4)
                    bar = dict(tmpl)
                    bar.update(o=o, c=c, h=max(o, c) + 0.02, l=min(o, c) - 0.02, v=1000.0 + i % 500,
                               vw=(o + c) / 2, t=ts, n=10)
                    out.append(bar)
                    price = c
            day += timedelta(days=1)
        return out

    # --- REST -------------------------------------------------------------------------------------
    def throttle(self, n: int, retry_after: float | int = 0) -> None:
        """The next ``n`` REST requests answer 429 with ``Retry-After: retry_after``."""
        self._throttle_left = n
        self._retry_after = str(retry_after)

    @staticmethod
    def _json(obj: object, status: int = 200, headers: dict | None = None) -> web.Response:
        return web.Response(text=json.dumps(obj), status=status, content_type="application/json",
                            headers=headers)

    def _page(self, request: web.Request, results: list, base: dict, limit: int) -> web.Response:
        cursor = int(request.query.get("cursor", "0"))
        page = results[cursor:cursor + limit]
        body = dict(base, results=page, status="OK", request_id=f"loop{len(self.requests)}")
        if cursor + limit < len(results):
            q = dict(request.query)
            q["cursor"] = str(cursor + limit)
            body["next_url"] = f"https://api.massive.com{request.path}?{urllib.parse.urlencode(q)}"
        return self._json(body)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._json({"status": "ERROR", "request_id": "x", "error": "Unknown API Key"}, 401)
        if self._throttle_left > 0:
            self._throttle_left -= 1
            self.throttled += 1
            return self._json({"status": "ERROR", "request_id": "x",
                               "error": "You've exceeded the maximum requests per minute."}, 429,
                              {"Retry-After": self._retry_after})
        path, q = request.path, request.query
        parts = path.strip("/").split("/")
        if path.startswith("/v3/snapshot/options/") and len(parts) == 4 and parts[3] != "AAPL":
            exp = date.fromisoformat(q["expiration_date"]) if "expiration_date" in q else date.today()
            return self._page(request, self.chain_records(parts[3], exp), {}, int(q.get("limit", PAGE)))
        if path.startswith("/v3/snapshot/options/") and len(parts) == 5 and parts[3] != "AAPL":
            occ = parts[4].removeprefix("O:")
            exp = datetime.strptime(occ[len(parts[3]):len(parts[3]) + 6], "%y%m%d").date()
            right = "call" if occ[len(parts[3]) + 6] == "C" else "put"
            rec = self._option_record(parts[3], exp, right, int(occ[-8:]) / 1000,
                                      int(datetime.now(UTC).timestamp() * 1e9))
            return self._json({"request_id": "x", "results": rec, "status": "OK"})
        if path == "/v3/reference/options/contracts" and q.get("underlying_ticker") not in (None, "A"):
            start = date.fromisoformat(q.get("expiration_date.gte", date.today().isoformat()))
            tmpl = self._load("v3/reference/options/contracts.json")["results"][0]
            recs = []
            for exp in self.expiries(start):
                for k in range(int(self.spot) - 3, int(self.spot) + 4):
                    r = dict(tmpl, expiration_date=exp.isoformat(), strike_price=k,
                             underlying_ticker=q["underlying_ticker"],
                             ticker=f"O:{q['underlying_ticker']}{exp:%y%m%d}C{k * 1000:08d}")
                    recs.append(r)
            return self._page(request, recs, {}, int(q.get("limit", 10)))
        if len(parts) == 9 and parts[:3] == ["v2", "aggs", "ticker"] and parts[6] == "minute" \
                and parts[3] != "AAPL":
            tmpl = self._load("v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04.json")
            bars = self.minute_bars(parts[3], int(parts[7]), int(parts[8]))
            body = dict(tmpl, ticker=parts[3], results=bars, queryCount=len(bars), resultsCount=len(bars),
                        count=len(bars), request_id="x")
            return self._json(body)
        if path in ("/v2/last/nbbo/SPY", "/v2/last/trade/SPY"):
            body = self._load(path.lstrip("/").replace("SPY", "AAPL") + ".json")
            now_ns = int(datetime.now(UTC).timestamp() * 1e9)
            r = body["results"]
            r.update(T="SPY", t=now_ns, y=now_ns)
            if "P" in r:
                r.update(p=self.spot - 0.01, P=self.spot + 0.01)
            else:
                r.update(p=self.spot)
            return self._json(body)
        if path == "/v3/snapshot/indices" and "I:VIX" in q.get("ticker.any_of", ""):
            body = self._load("v3/snapshot/indices&ticker.any_of=SPX%2CAPx%2CAPy.json")
            rec = dict(body["results"][0], ticker="I:VIX", name="CBOE Volatility Index", value=17.25)
            return self._json(dict(body, results=[rec]))
        f = self._static.get((path, frozenset(q.items())))
        if f is None:
            return self._json({"status": "NOT_FOUND", "request_id": "x", "message": "Data not found."}, 404)
        return web.Response(body=f.read_bytes(), content_type="application/json")

    # --- WebSocket --------------------------------------------------------------------------------
    async def _ws(self, conn: ServerConnection) -> None:
        market = conn.request.path.strip("/") if conn.request else ""
        rec = WsConn(market, conn)
        self.conns.append(rec)
        try:
            await conn.send(json.dumps([{"ev": "status", "status": "connected",
                                         "message": "Connected Successfully"}]))
            async for raw in conn:
                msg = json.loads(raw)
                rec.actions.append(msg)
                action, params = msg.get("action"), str(msg.get("params", ""))
                if action == "auth":
                    if params != self.api_key:
                        await conn.send(json.dumps([{"ev": "status", "status": "auth_failed",
                                                     "message": "authentication failed"}]))
                        await conn.close()
                        return
                    rec.authed = True
                    await conn.send(json.dumps([{"ev": "status", "status": "auth_success",
                                                 "message": "authenticated"}]))
                elif action in ("subscribe", "unsubscribe") and rec.authed:
                    topics = {t.strip() for t in params.split(",") if t.strip()}
                    if action == "subscribe":
                        rec.topics |= topics
                    else:
                        rec.topics -= topics
                    await conn.send(json.dumps([{"ev": "status", "status": "success",
                                                 "message": f"{action}d to: {t}"} for t in sorted(topics)]))
        except Exception:  # noqa: BLE001 - a dropped client is normal here
            pass
        finally:
            rec.closed = True

    def _process_request(self, conn: ServerConnection, request):
        if self.reject_handshakes > 0:
            self.reject_handshakes -= 1
            self.rejected += 1
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "busy, try later\n")
        return None

    def open_conns(self, market: str) -> list[WsConn]:
        return [c for c in self.conns if c.market == market and not c.closed and c.authed]

    async def wait_subscribed(self, market: str, topics: set[str], timeout: float = 5.0,
                              after: int = 0) -> WsConn:
        """Wait for an open connection (the ``after``-th or later) of ``market`` holding ``topics``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            for c in self.conns[after:]:
                if c.market == market and not c.closed and topics <= c.topics:
                    return c
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no {market} connection subscribed to {sorted(topics)}; "
                           f"have {[(c.market, sorted(c.topics), c.closed) for c in self.conns]}")

    async def push(self, market: str, frame: list | dict | str) -> int:
        """Send one frame (a list of events, or raw text) to every open connection of ``market``."""
        text = frame if isinstance(frame, str) else json.dumps(frame)
        n = 0
        for c in self.open_conns(market):
            await c.conn.send(text)
            n += 1
        return n

    async def kick(self, market: str, status: str = "force_disconnect",
                   message: str = "Disconnected by the server.") -> int:
        """Send a disconnect status (``max_connections``, ``slow_consumer``…) then close cleanly."""
        n = 0
        for c in self.open_conns(market):
            await c.conn.send(json.dumps([{"ev": "status", "status": status, "message": message}]))
            await c.conn.close()
            n += 1
        return n

    def drop(self, market: str) -> int:
        """Abort the TCP connections of ``market`` (no close frame: a network failure)."""
        n = 0
        for c in self.open_conns(market):
            c.conn.transport.abort()
            c.closed = True
            n += 1
        return n

    # --- life cycle -------------------------------------------------------------------------------
    async def start(self) -> PolygonLoopback:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.rest_url = f"http://127.0.0.1:{port}"
        self._ws_server = await serve(self._ws, "127.0.0.1", 0, process_request=self._process_request)
        ws_port = next(iter(self._ws_server.sockets)).getsockname()[1]
        self.ws_url = f"ws://127.0.0.1:{ws_port}"
        return self

    async def stop(self) -> None:
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> PolygonLoopback:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()
