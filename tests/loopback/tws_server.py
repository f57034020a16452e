"""A loopback TWS / IB Gateway: a small exchange and account behind the TWS API socket protocol.

No IB Gateway is reachable in tests, so this server stands in for one on 127.0.0.1. It speaks the
real protocol (see :mod:`tests.loopback.tws_wire`) well enough for the unmodified ``ib_async``
client: the ``API\\0`` handshake and version negotiation, ``startApi`` → ``nextValidId`` +
``managedAccounts`` (+ the farm-status notices TWS sends), contract details, ``placeOrder`` →
``openOrder``/``orderStatus``/``execDetails``/``commissionReport``, what-if orders (an
``openOrder`` whose ``OrderState`` carries margin numbers), cancels and modifications, open
orders, executions, positions (streamed after ``reqPositions``), account values and summary,
error messages and rejections, duplicate client ids, and server-side disconnects.

What it simulates:

* Listings with a bid/ask each (``list_option``); a BAG order's legs reference listings by conId.
* Orders fill all-or-none per combo unit at the far side of the legs' quotes when marketable
  (``fill_mode="immediate"``), or rest until :meth:`LoopbackTWS.fill` is called — also while no
  client is connected, which is how a test makes a fill happen "behind the adapter's back".
* A margin model (:mod:`tests.loopback.tws_margin`): defined-risk structures need their maximum
  loss, naked short options 20 % of the strike notional plus premium. An order whose initial
  margin exceeds the equity is rejected with error 201, as IB does.
* Commissions: $0.65 per contract, $1.00 minimum per order.
* Trouble on demand: ``drop_clients`` (server-side disconnect), ``pause``/``resume`` (refuse
  connections), ``mute_acks``/``mute_reports``/``swallow_orders`` (acknowledgements, execution
  reports or the orders themselves lost), ``close_order`` (IB ends an order on its own),
  ``notify`` (system messages such as 1101), ``freeze`` (a hung gateway: the socket stays open,
  nothing comes back).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tests.loopback import tws_wire as w
from tests.loopback.tws_margin import COMMISSION_PER_CONTRACT, MIN_COMMISSION, order_margin
from tests.loopback.tws_wire import (
    ComboLegSpec,
    FieldReader,
    Listing,
    OrderContract,
    ServerExecution,
    ServerOrder,
)


class _Session(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: LoopbackTWS) -> None:
        self.server = server
        self.reader = w.FrameReader()
        self.transport: asyncio.Transport | None = None
        self.version = 0
        self.client_id: int | None = None
        self.wants_positions = False
        self.frozen = False  # a hung gateway: reads requests, answers nothing

    # --- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server._sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._sessions.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            if not self.version:
                rng = self.reader.greeting()
                if rng is None:
                    return
                self._negotiate(*rng)
            for fields in self.reader.messages():
                self.server.requests.append((self.client_id, fields))
                if not self.frozen:
                    self.server._dispatch(self, fields)
        except (ValueError, IndexError) as err:  # a malformed request ends the session, as TWS does
            self.send(w.encode_error(-1, 320, f"Error reading request: {err}"))
            self.close()

    # --- helpers ------------------------------------------------------------------------
    def _negotiate(self, lo: int, hi: int) -> None:
        if hi < w.SERVER_VERSION or lo > w.SERVER_VERSION:
            self.close()  # TWS drops clients whose range excludes its version
            return
        self.version = w.SERVER_VERSION
        now = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")
        self.send(w.frame(self.version, now))

    def send(self, *messages: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            for m in messages:
                self.transport.write(m)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class LoopbackTWS:
    """The server plus the state of one simulated IB account.

    Use ``await LoopbackTWS().start()``; ``port`` is then the listening port. ``requests`` logs
    every decoded request as ``(client_id, fields)``.
    """

    def __init__(self, *, accounts: tuple[str, ...] = ("DU7654321",), equity: float = 100_000.0,
                 fill_mode: str = "immediate") -> None:
        self.accounts = accounts
        self.equity = equity
        self.init_margin = 0.0
        self.fill_mode = fill_mode
        self.mute_acks = False      # orders are accepted but their acknowledgements never sent
        self.mute_reports = False   # executions happen but are not reported (until asked for)
        self.swallow_orders = False  # placeOrder requests vanish before reaching "IB"
        self.listings: dict[int, Listing] = {}
        self.orders: dict[tuple[int, int], ServerOrder] = {}
        self.executions: list[ServerExecution] = []
        self.positions: dict[tuple[str, int], list[float]] = {}  # → [qty, avg cost per contract]
        self.requests: list[tuple[int | None, list[str]]] = []
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._sessions: set[_Session] = set()
        self._next_con_id = 700_000_001
        self._next_perm = 1_900_000_001
        self._exec_seq = 0
        self._handlers: dict[int, Callable[[_Session, FieldReader], None]] = {
            w.START_API: self._start_api, w.PLACE_ORDER: self._place_order,
            w.CANCEL_ORDER: self._cancel_order, w.REQ_OPEN_ORDERS: self._open_orders,
            w.REQ_ALL_OPEN_ORDERS: self._all_open_orders, w.REQ_EXECUTIONS: self._req_executions,
            w.REQ_IDS: self._req_ids, w.REQ_CONTRACT_DETAILS: self._contract_details,
            w.REQ_POSITIONS: self._req_positions, w.CANCEL_POSITIONS: self._cancel_positions,
            w.REQ_ACCOUNT_UPDATES: self._account_updates, w.REQ_ACCOUNT_SUMMARY: self._account_summary,
            w.REQ_ACCOUNT_UPDATES_MULTI: self._account_updates_multi,
            w.REQ_COMPLETED_ORDERS: self._completed_orders,
            w.REQ_CURRENT_TIME: lambda s, r: s.send(w.frame(w.CURRENT_TIME, 1, int(time.time()))),
            w.REQ_MANAGED_ACCTS: lambda s, r: s.send(w.frame(w.MANAGED_ACCTS, 1, ",".join(self.accounts))),
            w.REQ_MKT_DATA: lambda s, r: s.send(w.encode_error(
                r.int(), 354, "Requested market data is not subscribed.")),
            w.REQ_AUTO_OPEN_ORDERS: lambda s, r: None, w.REQ_MARKET_DATA_TYPE: lambda s, r: None,
            w.CANCEL_ACCOUNT_SUMMARY: lambda s, r: None, w.CANCEL_ACCOUNT_UPDATES_MULTI: lambda s, r: None,
        }

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LoopbackTWS:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), host, port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def drop_clients(self) -> None:
        """Server-side disconnect of every client (as when TWS restarts or the network drops)."""
        for s in list(self._sessions):
            s.close()
        for _ in range(50):
            if not self._sessions:
                break
            await asyncio.sleep(0.01)

    def freeze(self) -> None:
        """The connected sessions hang: the sockets stay open, nothing is answered any more."""
        for s in self._sessions:
            s.frozen = True

    async def pause(self) -> None:
        """Stop listening and drop clients: reconnect attempts are refused until :meth:`resume`."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.drop_clients()

    async def resume(self) -> None:
        await self.start(port=self.port)

    async def stop(self) -> None:
        await self.pause()

    @property
    def connected_clients(self) -> list[int]:
        return sorted(s.client_id for s in self._sessions if s.client_id is not None)

    # --- the exchange -------------------------------------------------------------------
    def list_option(self, root: str, expiry: str, right: str, strike: float, *, bid: float,
                    ask: float, symbol: str | None = None, exchange: str | None = None) -> Listing:
        """List one option; ``root`` is the trading class (SPXW), ``symbol`` the underlying (SPX)."""
        symbol = symbol or {"SPXW": "SPX", "VIXW": "VIX", "NDXP": "NDX", "RUTW": "RUT"}.get(root, root)
        exchange = exchange or ("CBOE" if symbol in ("SPX", "VIX", "NDX", "RUT") else "SMART")
        local = f"{root:<6}{expiry[2:]}{right}{round(strike * 1000):08d}"
        li = Listing(self._next_con_id, symbol, "OPT", expiry, float(strike), right, "100", exchange,
                     "USD", local, root, 0.05 if symbol == "SPX" and ask >= 3 else 0.01, bid, ask)
        self.listings[li.con_id] = li
        self._next_con_id += 1
        return li

    def list_stock(self, symbol: str, *, bid: float, ask: float) -> Listing:
        li = Listing(self._next_con_id, symbol, "STK", exchange="SMART", local_symbol=symbol,
                     trading_class=symbol, bid=bid, ask=ask)
        self.listings[li.con_id] = li
        self._next_con_id += 1
        return li

    def notify(self, code: int, message: str) -> None:
        """A system message to every client (e.g. 1100/1102: IB's servers lost/restored)."""
        for s in self._sessions:
            s.send(w.encode_error(-1, code, message))

    def close_order(self, order_ref: str, status: str = "Cancelled", why: str = "Cancelled by System") -> None:
        """IB ends a working order on its own (end of day, a risk check, an exchange reject):
        ``status`` "Cancelled" or "Inactive"; a connected owner is told, others find out later."""
        o = self.order_by_ref(order_ref)
        _close(o, status, why)
        for s in self._sessions_of(o.client_id):
            s.send(w.encode_order_status(o))

    def set_quote(self, con_id: int, bid: float, ask: float) -> None:
        self.listings[con_id].bid, self.listings[con_id].ask = bid, ask

    def order_by_ref(self, order_ref: str) -> ServerOrder:
        for o in self.orders.values():
            if o.order_ref == order_ref:
                return o
        raise KeyError(f"no order with orderRef {order_ref!r}")

    def fill(self, order_ref: str, quantity: float | None = None) -> list[ServerExecution]:
        """Fill a resting order (or part of it) at the legs' far side, whether or not its client
        is connected; a connected owner is told at once, a disconnected one finds out by asking."""
        o = self.order_by_ref(order_ref)
        if o.done:
            raise ValueError(f"order {order_ref} is {o.status}")
        return self._execute(o, quantity or o.remaining, self._far_price(o))

    # --- dispatch -----------------------------------------------------------------------
    def _dispatch(self, s: _Session, fields: list[str]) -> None:
        msg_id = int(fields[0])
        if msg_id != w.START_API and s.client_id is None:
            s.send(w.encode_error(-1, 504, "Not connected"))
            return
        handler = self._handlers.get(msg_id)
        if handler is None:
            s.send(w.encode_error(-1, 321, f"Error validating request.-'message id {msg_id}' is not "
                                           "supported by the loopback TWS"))
            return
        handler(s, FieldReader(fields))

    def _start_api(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)  # version
        client_id = r.int()
        if client_id in self.connected_clients:
            s.send(w.encode_error(-1, 326, f"Unable to connect as the client id {client_id} is "
                                           "already in use. Retry with a unique client id."))
            s.close()
            return
        s.client_id = client_id
        mine = [oid for (cid, oid) in self.orders if cid == client_id]
        s.send(w.frame(w.NEXT_VALID_ID, 1, max(mine, default=0) + 1),
               w.frame(w.MANAGED_ACCTS, 1, ",".join(self.accounts)),
               w.encode_error(-1, 2104, "Market data farm connection is OK:usfarm"),
               w.encode_error(-1, 2106, "HMDS data farm connection is OK:ushmds"),
               w.encode_error(-1, 2158, "Sec-def data farm connection is OK:secdefnj"))

    def _req_ids(self, s: _Session, r: FieldReader) -> None:
        mine = [oid for (cid, oid) in self.orders if cid == s.client_id]
        s.send(w.frame(w.NEXT_VALID_ID, 1, max(mine, default=0) + 1))

    def _sessions_of(self, client_id: int) -> list[_Session]:
        return [s for s in self._sessions if s.client_id == client_id]

    # --- contracts ----------------------------------------------------------------------
    def _contract_details(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        req_id = r.int()
        q = self._read_contract(r)
        found = [li for li in self.listings.values() if _matches(q, li)]
        if not found:
            s.send(w.encode_error(req_id, 200, "No security definition has been found for the request"))
            return
        s.send(*(w.encode_contract_details(req_id, li) for li in found),
               w.frame(w.CONTRACT_DATA_END, 1, req_id))

    @staticmethod
    def _read_contract(r: FieldReader) -> OrderContract:
        """The 12 contract fields of a request (primaryExchange is read and dropped)."""
        con_id, symbol, sec_type, expiry = r.int(), r.str(), r.str(), r.str()
        strike, right, multiplier, exchange = r.float(0.0) or 0.0, r.str(), r.str(), r.str()
        r.skip(1)
        return OrderContract(con_id, symbol, sec_type, expiry, strike, right, multiplier, exchange,
                             r.str(), r.str(), r.str())

    # --- orders -------------------------------------------------------------------------
    def _place_order(self, s: _Session, r: FieldReader) -> None:
        if self.swallow_orders:  # lost on the way: IB never hears of it
            return
        order_id = r.int()
        c = self._read_contract(r)
        r.skip(2)  # secIdType, secId
        action, qty, otype = r.str(), r.float(0.0) or 0.0, r.str()
        lmt, aux, tif = r.float(), r.float(), r.str()
        r.skip(1)  # ocaGroup
        account = r.str()
        r.skip(2)  # openClose, origin
        order_ref = r.str()
        r.skip(8)  # transmit … hidden
        if c.sec_type == "BAG":
            for _ in range(r.int()):
                c.legs.append(ComboLegSpec(r.int(), r.int(), r.str(), r.str()))
                r.skip(4)
            r.skip(r.int())          # per-leg prices
            r.skip(2 * r.int())      # smart combo routing params
        what_if = _read_what_if(r)
        assert s.client_id is not None
        key = (s.client_id, order_id)
        existing = self.orders.get(key)
        if existing is not None and not what_if:
            self._modify(s, existing, qty, lmt, aux)
            return
        o = ServerOrder(order_id, s.client_id, 0, c, action, qty, otype, lmt, aux, tif,
                        account or self.accounts[0], order_ref, what_if)
        problem = self._validate(o)
        if problem:
            s.send(w.encode_error(order_id, *problem))
            return
        margin = order_margin(o, self._legs(o), self._far_price(o), self.init_margin, self.equity)
        if what_if:
            o.status = "PreSubmitted"
            s.send(w.encode_open_order(o, margin))
            return
        o.perm_id = self._next_perm
        self._next_perm += 1
        self.orders[key] = o
        if self.init_margin + margin.init_change > self.equity:
            _close(o, "Cancelled", "Rejected: margin")
            s.send(w.encode_error(order_id, 201, (
                "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
                f"POSITION YOUR EQUITY WITH LOAN VALUE [{self.equity:.2f} USD] MUST EXCEED THE INITIAL "
                f"MARGIN [{self.init_margin + margin.init_change:.2f} USD]")),
                   w.encode_order_status(o))
            return
        self.init_margin += margin.init_change
        if self.mute_acks:  # accepted, but the acknowledgement is lost on the way (network trouble)
            o.status = "Submitted"
            return
        for status in ("PreSubmitted", "Submitted"):
            o.status = status
            s.send(w.encode_open_order(o), w.encode_order_status(o))
        self._maybe_fill(o)

    def _validate(self, o: ServerOrder) -> tuple[int, str] | None:
        legs = o.contract.legs if o.contract.sec_type == "BAG" else [ComboLegSpec(o.contract.con_id, 1, "BUY")]
        if any(leg.con_id not in self.listings for leg in legs):
            return 200, "No security definition has been found for the request"
        if o.action not in ("BUY", "SELL") or o.quantity <= 0:
            return 434, "The order size cannot be zero."
        if o.order_type in ("LMT", "STP LMT") and o.lmt_price is None:
            return 387, "Unsupported order type: a limit order needs a limit price"
        tick = 0.01 if len(legs) > 1 else self.listings[legs[0].con_id].min_tick
        for price in (o.lmt_price, o.aux_price):
            if price is not None and abs(round(price / tick) * tick - price) > 1e-9:
                return 110, "The price does not conform to the minimum price variation for this contract."
        return None

    def _modify(self, s: _Session, o: ServerOrder, qty: float, lmt: float | None, aux: float | None) -> None:
        if o.done:
            s.send(w.encode_error(o.order_id, 104, "Cannot modify a filled order." if o.status == "Filled"
                                  else "Cannot modify a cancelled order."))
            return
        if qty < o.filled:
            s.send(w.encode_error(o.order_id, 461, "The quantity cannot be set below the filled quantity."))
            return
        o.quantity, o.lmt_price, o.aux_price = qty, lmt, aux
        s.send(w.encode_open_order(o), w.encode_order_status(o))
        self._maybe_fill(o)

    def _cancel_order(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        order_id = r.int()
        o = self.orders.get((s.client_id or 0, order_id))
        if o is None:
            s.send(w.encode_error(order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."))
            return
        if o.done:
            s.send(w.encode_error(order_id, 161, f"Cancel attempted when order is not in a cancellable "
                                                 f"state. Order permId ={o.perm_id}"))
            return
        _close(o, "Cancelled", "Cancelled by Trader")
        s.send(w.encode_order_status(o), w.encode_error(order_id, 202, "Order Canceled - reason:"))

    # --- fills --------------------------------------------------------------------------
    def _legs(self, o: ServerOrder) -> list[tuple[Listing, int, int]]:
        """(listing, ratio, direction) per leg; direction +1 buys, -1 sells."""
        sign = 1 if o.action == "BUY" else -1
        if o.contract.sec_type != "BAG":
            return [(self.listings[o.contract.con_id], 1, sign)]
        return [(self.listings[leg.con_id], leg.ratio, sign * (1 if leg.action == "BUY" else -1))
                for leg in o.contract.legs]

    @staticmethod
    def _weight(legs: list[tuple[Listing, int, int]], li: Listing) -> float:
        """Per-share price weight of a leg: options 1, a stock leg 1/100 of an option's."""
        base = max(x.mult for x, _, _ in legs)
        return li.mult / base

    def _far_price(self, o: ServerOrder) -> float:
        """Price per combo unit at the far side, in the order's own terms (what it pays/receives)."""
        legs = self._legs(o)
        total = sum(d * ratio * (li.ask if d > 0 else li.bid) * self._weight(legs, li)
                    for li, ratio, d in legs)
        return round(total if o.action == "BUY" else -total, 2)

    def _maybe_fill(self, o: ServerOrder) -> None:
        """Fill a marketable order at once; an IOC order's unfilled rest is cancelled right away."""
        if o.done:
            return
        if self.fill_mode == "immediate" and o.order_type not in ("STP", "STP LMT"):
            far = self._far_price(o)
            marketable = (o.order_type == "MKT" or o.lmt_price is None
                          or (far <= o.lmt_price + 1e-9 if o.action == "BUY" else far >= o.lmt_price - 1e-9))
            if marketable:
                self._execute(o, o.remaining, far)
        if o.tif == "IOC" and not o.done:
            _close(o, "Cancelled", "Cancelled: IOC remainder")
            for s in self._sessions_of(o.client_id):
                s.send(w.encode_order_status(o))

    def _execute(self, o: ServerOrder, qty: float, price: float) -> list[ServerExecution]:
        legs = self._legs(o)
        stamp = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")
        self._exec_seq += 1
        base = f"0000{self._exec_seq:04x}.{int(time.time()):08x}.01"
        contracts = sum(ratio * qty for li, ratio, _ in legs if li.sec_type == "OPT")
        commission_due = max(MIN_COMMISSION if o.filled == 0 else 0.0, COMMISSION_PER_CONTRACT * contracts)
        execs: list[ServerExecution] = []
        for k, (li, ratio, d) in enumerate(legs, start=1):
            leg_price = li.ask if d > 0 else li.bid
            if len(legs) == 1:
                leg_price = price
            shares = ratio * qty
            fee = round(COMMISSION_PER_CONTRACT * shares if li.sec_type == "OPT" else 0.0, 2)
            if k == 1:
                fee = round(fee + commission_due - COMMISSION_PER_CONTRACT * contracts, 2)
            prior = o.leg_filled.get(li.con_id, 0.0)
            o.leg_filled[li.con_id] = prior + ratio * qty
            execs.append(ServerExecution(f"{base}.{k:02d}", o, li.contract_fields(), stamp, o.account,
                                         "CBOE" if li.exchange == "SMART" else li.exchange,
                                         "BOT" if d > 0 else "SLD", shares, leg_price, prior + shares,
                                         leg_price, fee, li.sec_type, li.symbol))
            self._book_position(o.account, li, d * shares, leg_price)
        o.avg_fill_price = round((o.avg_fill_price * o.filled + price * qty) / (o.filled + qty), 6)
        o.filled += qty
        o.last_fill_price = price
        if o.remaining <= 0:
            _close(o, "Filled", f"Filled Size: {o.filled:g}")
        if o.contract.sec_type == "BAG":  # IB also reports the combo itself (no commission report)
            execs.append(ServerExecution(f"{base}.00", o, o.contract.contract_fields(), stamp, o.account,
                                         o.contract.exchange, "BOT" if o.action == "BUY" else "SLD", qty,
                                         price, o.filled, o.avg_fill_price, None, "BAG", o.contract.symbol))
        self.executions += execs
        for s in [] if self.mute_reports else self._sessions_of(o.client_id):
            s.send(*(w.encode_execution(-1, e) for e in execs),
                   *(w.encode_commission(e) for e in execs if e.commission is not None),
                   w.encode_open_order(o), w.encode_order_status(o))
        for li, _, _ in legs:
            self._stream_position(o.account, li)
        return execs

    def _book_position(self, account: str, li: Listing, delta: float, price: float) -> None:
        qty, avg = self.positions.get((account, li.con_id), [0.0, 0.0])
        cost = price * li.mult
        if qty == 0 or (qty > 0) == (delta > 0):
            avg = (avg * abs(qty) + cost * abs(delta)) / (abs(qty) + abs(delta))
        elif abs(delta) > abs(qty):
            avg = cost
        self.positions[(account, li.con_id)] = [qty + delta, avg if qty + delta else 0.0]

    def _stream_position(self, account: str, li: Listing) -> None:
        qty, avg = self.positions[(account, li.con_id)]
        for s in self._sessions:
            if s.wants_positions:
                s.send(w.encode_position(account, li, qty, avg))

    # --- snapshots ----------------------------------------------------------------------
    def _send_open_orders(self, s: _Session, everyone: bool) -> None:
        for o in self.orders.values():
            if not o.done and (everyone or o.client_id == s.client_id):
                s.send(w.encode_open_order(o), w.encode_order_status(o))
        s.send(w.frame(w.OPEN_ORDER_END, 1))

    def _open_orders(self, s: _Session, r: FieldReader) -> None:
        self._send_open_orders(s, everyone=s.client_id == 0)

    def _all_open_orders(self, s: _Session, r: FieldReader) -> None:
        self._send_open_orders(s, everyone=True)

    def _completed_orders(self, s: _Session, r: FieldReader) -> None:
        api_only = r.bool()  # every order here came through the API
        del api_only
        s.send(*(w.encode_completed_order(o) for o in self.orders.values() if o.done),
               w.frame(w.COMPLETED_ORDERS_END))

    def _req_executions(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        req_id, client_id, acct, since, symbol, sec_type, _exch, side = (
            r.int(), r.int(), r.str(), r.str(), r.str(), r.str(), r.str(), r.str())
        since_ts = since.replace("-", " ")[:17] if since else ""
        for e in self.executions:
            if ((s.client_id == 0 or e.order.client_id == s.client_id)
                    and (not client_id or e.order.client_id == client_id)
                    and (not acct or e.account == acct) and (not symbol or e.symbol == symbol)
                    and (not sec_type or e.sec_type == sec_type)
                    and (not side or e.side == {"BUY": "BOT", "SELL": "SLD"}.get(side, side))
                    and (not since_ts or e.time[:17] >= since_ts)):
                s.send(w.encode_execution(req_id, e))
                if e.commission is not None:
                    s.send(w.encode_commission(e))
        s.send(w.frame(w.EXECUTION_DATA_END, 1, req_id))

    def _req_positions(self, s: _Session, r: FieldReader) -> None:
        s.wants_positions = True
        for (account, con_id), (qty, avg) in self.positions.items():
            s.send(w.encode_position(account, self.listings[con_id], qty, avg))
        s.send(w.frame(w.POSITION_END, 1))

    def _cancel_positions(self, s: _Session, r: FieldReader) -> None:
        s.wants_positions = False

    def _account_values(self) -> list[tuple[str, str]]:
        cash = self.equity
        return [("NetLiquidation", f"{self.equity:.2f}"), ("TotalCashValue", f"{cash:.2f}"),
                ("EquityWithLoanValue", f"{self.equity:.2f}"), ("InitMarginReq", f"{self.init_margin:.2f}"),
                ("MaintMarginReq", f"{self.init_margin * 0.8:.2f}"),
                ("AvailableFunds", f"{self.equity - self.init_margin:.2f}"),
                ("BuyingPower", f"{(self.equity - self.init_margin) * 4:.2f}"),
                ("ExcessLiquidity", f"{self.equity - self.init_margin * 0.8:.2f}")]

    def _account_updates(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        subscribe, account = r.bool(), r.str() or self.accounts[0]
        if subscribe:
            s.send(*w.encode_account_values(account, self._account_values()),
                   w.frame(w.ACCT_UPDATE_TIME, 1, datetime.now(UTC).strftime("%H:%M")),
                   w.frame(w.ACCT_DOWNLOAD_END, 1, account))

    def _account_updates_multi(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        req_id, account, model = r.int(), r.str(), r.str()
        s.send(*(w.frame(w.ACCOUNT_UPDATE_MULTI, 1, req_id, account, model, tag, val, "USD")
                 for tag, val in self._account_values()),
               w.frame(w.ACCOUNT_UPDATE_MULTI_END, 1, req_id))

    def _account_summary(self, s: _Session, r: FieldReader) -> None:
        r.skip(1)
        req_id, _group, tags = r.int(), r.str(), r.str()
        wanted = set(tags.split(","))
        s.send(*(w.frame(w.ACCOUNT_SUMMARY, 1, req_id, acct, tag, val, "USD")
                 for acct in self.accounts for tag, val in self._account_values() if tag in wanted),
               w.frame(w.ACCOUNT_SUMMARY_END, 1, req_id))


def _close(o: ServerOrder, status: str, why: str) -> None:
    o.status = status
    o.completed_status = why
    o.completed_time = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")


def _matches(q: OrderContract, li: Listing) -> bool:
    """Does a contract-details query select this listing? (Empty query fields match anything.)"""
    if q.con_id:
        return q.con_id == li.con_id
    pairs = ((q.symbol, li.symbol), (q.sec_type, li.sec_type), (q.expiry, li.expiry), (q.right, li.right),
             (q.currency, li.currency), (q.trading_class, li.trading_class),
             (q.local_symbol, li.local_symbol), (q.multiplier, li.multiplier))
    if any(a and a != b for a, b in pairs):
        return False
    if q.exchange and q.exchange not in (li.exchange, "SMART") and li.exchange != "SMART":
        return False
    return not q.strike or abs(q.strike - li.strike) < 1e-9


def _read_what_if(r: FieldReader) -> bool:
    """Walk the placeOrder fields between the combo section and ``whatIf`` (version 178)."""
    r.skip(7 + 22)                 # "", discretionaryAmt … faPercentage; modelCode … volatilityType
    delta_neutral_type = r.str()
    r.skip(1)                      # deltaNeutralAuxPrice
    if delta_neutral_type:
        r.skip(8)
    r.skip(6)                      # continuousUpdate … scaleSubsLevelSize
    increment = r.float()
    if increment is not None and 0 < increment < w.UNSET_DOUBLE:
        r.skip(7)
    r.skip(3)                      # scaleTable, activeStartTime, activeStopTime
    if r.str():                    # hedgeType → hedgeParam
        r.skip(1)
    r.skip(4)                      # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    if r.bool():                   # delta-neutral contract
        r.skip(3)
    if r.str():                    # algo strategy and its parameters
        r.skip(2 * r.int())
    r.skip(1)                      # algoId
    return r.bool()
