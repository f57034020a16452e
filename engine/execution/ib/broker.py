"""``IBBroker``: the :class:`~engine.execution.broker.Broker` protocol over Interactive Brokers.

Talks to IB Gateway or TWS through ``ib_async`` (the TWS API socket protocol). One instance serves
one ledger: the paper ledger through the paper gateway port, the live ledger through the live one.

* **Orders** — legs are qualified (:class:`~engine.execution.ib.contracts.ContractBook`), a
  multi-leg order goes out as one BAG, ``orderRef`` carries our ``client_order_id`` (the
  idempotency key: a second ``submit`` of the same id returns the first order's state).
  ``submit`` waits for IB's acknowledgement (bounded by ``ack_timeout``) and returns it.
* **Events** — status changes become :class:`OrderUpdate` s, executions become :class:`Fill` s
  (:class:`~engine.execution.ib.fills.FillAssembler`): one per combo execution, with the legs'
  commissions. A status that reports filled quantity is published only after the fills that
  make it up, so the ledger never sees FILLED before the fill itself.
* **Reconnect** — when the socket drops (gateway restart, network, IB's nightly reset), the
  adapter reconnects with exponential backoff and jitter (:class:`Backoff`) until it succeeds or
  :meth:`IBBroker.disconnect` is called.
* **Reconcile** — after every (re)connect, and when IB reports its own connectivity restored
  (1101/1102): open orders (all clients'), completed orders, today's executions and positions from
  IB against the ledger (:mod:`engine.execution.ib.reconcile`); the report is kept (``reports``),
  audited (``broker.reconcile``); the missing fills and the final states of orders that ended
  while we were away are emitted as events (and readable through ``drain``/``order_status``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

from ib_async import IB, OrderState, StartupFetchNONE, Trade
from ib_async import Fill as IBFill

from engine.core.errors import BrokerError, InvalidInput, UnknownSymbol
from engine.execution.broker import (
    AccountSummary,
    BrokerEvent,
    BrokerOrder,
    BrokerPosition,
    Fill,
    OrderStatus,
    OrderUpdate,
    Side,
    WhatIf,
)
from engine.execution.ib import queries
from engine.execution.ib.contracts import ContractBook
from engine.execution.ib.fills import ComboExec, FillAssembler, LegExec
from engine.execution.ib.orders import (
    broker_order_from_ib,
    map_status,
    plain,
    to_ib_order,
    update_from_trade,
    with_changes,
)
from engine.execution.ib.reconcile import LedgerView, ReconcileReport
from engine.execution.ib.resync import ACCEPTED_LIKE, Resync, Tracked
from engine.execution.ib.streams import Backoff, EventStream

log = logging.getLogger(__name__)
ACTOR = "broker:ib"
#: 1101: connectivity between IB and the gateway restored, data lost; 1102: restored, data maintained.
RESTORED_CODES = frozenset({1101, 1102})


class IBBroker(Resync):
    """Interactive Brokers behind the async ``Broker`` protocol (see module docstring)."""

    name = "ib"

    def __init__(self, *, host: str, port: int, client_id: int, ledger: str, ib_account: str | None = None,
                 ledger_view: LedgerView | None = None, audit=None, backoff: Backoff | None = None,
                 connect_timeout: float = 4.0, ack_timeout: float = 10.0, commission_wait: float = 2.0,
                 heartbeat: float = 30.0) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.account = ledger
        self.configured_account = ib_account
        self.ib_account: str | None = None
        self.ledger_view = ledger_view
        self.audit = audit
        self.backoff = backoff or Backoff()
        self.connect_timeout, self.ack_timeout, self.commission_wait = connect_timeout, ack_timeout, commission_wait
        self.heartbeat = heartbeat
        self.ib = IB()
        self.contracts = ContractBook()
        self.reports: list[ReconcileReport] = []
        self.reconnects = 0
        self.last_error = ""
        self._assembler = FillAssembler()
        self._orders: dict[str, Tracked] = {}
        self._fills: dict[str, Fill] = {}
        self._subscribers: weakref.WeakSet[EventStream] = weakref.WeakSet()
        self._drained = EventStream(self._subscribers)
        self._submit_lock = asyncio.Lock()
        self._closing = False
        self._connecting = False
        self._synced = False
        self._reconnect_task: asyncio.Task | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._pending_reconcile: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self.ib.orderStatusEvent += self._on_status
        self.ib.execDetailsEvent += self._on_exec
        self.ib.commissionReportEvent += self._on_commission
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error

    # --- connection ---------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.ib.isConnected() and self._synced

    async def connect(self) -> None:
        """Connect and reconcile; :class:`BrokerError` when the gateway cannot be reached."""
        self._closing = False
        await self._connect_once("connect")

    async def disconnect(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            self._reconnect_task = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._synced = False
        self.ib.disconnect()

    async def _watch(self) -> None:
        """Heartbeat: a socket can stay open while nothing comes back (a half-open TCP connection
        after a network change, a hung gateway). Every ``heartbeat`` seconds ask IB the time; no
        answer within ``ack_timeout`` → drop the connection, which starts the reconnect loop."""
        while not self._closing:
            await asyncio.sleep(self.heartbeat)
            if not self.connected:
                continue
            try:
                await asyncio.wait_for(self.ib.reqCurrentTimeAsync(), self.ack_timeout)
            except TimeoutError:
                log.warning("Interactive Brokers did not answer for %.1f s; reconnecting", self.ack_timeout)
                self._audit("broker.stalled", {"host": self.host, "port": self.port, "silent_s": self.ack_timeout})
                self.ib.disconnect()  # emits disconnectedEvent → _on_disconnected → _reconnect
            except ConnectionError:
                continue

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until connected and reconciled (after a drop); ``False`` on timeout."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not self.connected and loop.time() < end:
            await asyncio.sleep(0.02)
        return self.connected

    async def _connect_once(self, reason: str) -> None:
        self._connecting = True
        self.last_error = ""
        try:
            await self.ib.connectAsync(self.host, self.port, clientId=self.client_id,
                                       timeout=self.connect_timeout, fetchFields=StartupFetchNONE)
            self.ib_account = queries.pick_account(self.configured_account, self.ib.managedAccounts(),
                                                  f"{self.host}:{self.port}")
        except (OSError, TimeoutError, ConnectionError) as err:
            self.ib.disconnect()
            said = self.last_error  # what IB answered before closing (e.g. 326: client id in use)
            self.last_error = f"cannot reach Interactive Brokers at {self.host}:{self.port}: {said or repr(err)}"
            raise BrokerError(self.last_error) from None
        except BrokerError:
            self.ib.disconnect()
            raise
        finally:
            self._connecting = False
        self._audit("broker.connected", {"host": self.host, "port": self.port, "client_id": self.client_id,
                                         "account": self.ib_account, "reason": reason,
                                         "server_version": self.ib.client.serverVersion()})
        try:
            await self.reconcile(reason)
        except (TimeoutError, ConnectionError) as err:  # half a sync is no sync: start over
            self._connecting = True
            self.ib.disconnect()
            self._connecting = False
            self.last_error = f"connected to {self.host}:{self.port} but could not reconcile: {err!r}"
            raise BrokerError(self.last_error) from None
        self._synced = True
        if self.heartbeat and (self._watchdog is None or self._watchdog.done()):
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    def _on_disconnected(self) -> None:
        if self._closing or self._connecting:
            return
        self._synced = False
        for t in self._orders.values():  # whoever waits on an order: stop waiting
            t.changed.set()
        log.warning("Interactive Brokers connection lost; reconnecting")
        self._audit("broker.disconnected", {"host": self.host, "port": self.port})
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        for attempt, delay in enumerate(self.backoff.delays(), start=1):
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await self._connect_once("reconnect")
            except BrokerError as err:
                log.info("reconnect attempt %d failed: %s", attempt, err)
                continue
            except Exception:  # a bug must not end the reconnect loop silently
                log.exception("reconnect attempt %d crashed", attempt)
                self.ib.disconnect()
                continue
            self.reconnects += 1
            return

    def _on_error(self, req_id: int, code: int, message: str, contract) -> None:
        if 2100 <= code < 2200:  # farm status notices
            return
        self.last_error = f"IB {code}: {message}"
        if code in RESTORED_CODES and self._synced:
            # the gateway lost IB's servers and got them back (the nightly reset, a network blip):
            # the socket stayed up, but reports may have been lost in between — look again
            log.warning("IB connectivity restored (%d); reconciling", code)
            self._pending_reconcile = asyncio.get_running_loop().create_task(self._reconcile_quietly(f"restored-{code}"))

    async def _reconcile_quietly(self, reason: str) -> None:
        try:
            await self.reconcile(reason)
        except (TimeoutError, ConnectionError, BrokerError) as err:
            log.warning("reconciliation after %s failed: %r", reason, err)

    # --- events -------------------------------------------------------------------------
    def events(self) -> AsyncIterator[BrokerEvent]:
        """A new stream of every event published from now on (each call: its own stream)."""
        return EventStream(self._subscribers)

    def drain(self) -> list[BrokerEvent]:
        """Events published since the last ``drain``, without waiting (the OMS's pump)."""
        out = []
        while not self._drained.queue.empty():
            out.append(self._drained.queue.get_nowait())
        return out

    async def order_status(self, client_order_id: str) -> OrderUpdate | None:
        """Our latest view of one order (``None``: IB never had it, as far as we know)."""
        t = self._orders.get(client_order_id)
        return None if t is None else self._update_of(t)

    def _publish(self, event: BrokerEvent) -> None:
        for sub in list(self._subscribers):
            sub.queue.put_nowait(event)

    def _update_of(self, t: Tracked) -> OrderUpdate | None:
        trade = t.trade
        if trade is None:
            return t.last
        mapped = map_status(trade, cancel_requested=t.cancel_requested, tif=t.order.tif)
        if mapped is None:
            return t.last
        status, reason = mapped
        return update_from_trade(t.order, trade, t.final(status), reason)

    def _refresh(self, t: Tracked, *, force: bool = False) -> None:
        """Publish ``t``'s state if it changed — held back while its fills are still coming."""
        new = self._update_of(t)
        if new is None:
            return
        old = t.held or t.last
        if not force and old is not None and (old.status, old.filled_quantity) == (new.status, new.filled_quantity):
            return
        if new.status in ACCEPTED_LIKE:
            t.accepted = True
        if new.filled_quantity > t.delivered_units:
            t.held = new
            return
        t.held, t.last = None, new
        self._publish(new)
        t.changed.set()

    def _on_status(self, trade: Trade) -> None:
        t = self._orders.get(trade.order.orderRef)
        if t is None:
            return
        t.trade = trade
        self._assembler.track(t.order, str(trade.order.permId) if trade.order.permId else None)
        self._refresh(t)
        t.changed.set()  # wake waiters even when nothing we publish changed (e.g. "Modified")

    def _on_exec(self, trade: Trade, fill: IBFill) -> None:
        coid = trade.order.orderRef or fill.execution.orderRef
        if coid not in self._orders:
            return
        self._assembler.track(self._orders[coid].order, str(fill.execution.permId))
        self._feed(coid, fill)
        if fill.contract.secType == "BAG" or self._assembler.has_commission(fill.execution.execId):
            self._emit_ready()  # else the commission report will complete it
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(self.commission_wait, self._flush)

    def _on_commission(self, trade: Trade, fill: IBFill, report) -> None:
        self._assembler.add_commission(report.execId, plain(report.commission))
        self._emit_ready()

    def _flush(self) -> None:
        self._flush_handle = None
        self._emit_ready(force=True)

    def _feed(self, coid: str, fill: IBFill) -> None:
        ex, c = fill.execution, fill.contract
        ts = ex.time if ex.time.tzinfo else ex.time.replace(tzinfo=UTC)
        if c.secType == "BAG":
            self._assembler.add_combo(coid, ComboExec(ex.execId, int(round(ex.shares)), ts))
            return
        symbol = self.contracts.remember(c)
        if symbol is None:
            return
        commission = fill.commissionReport.commission if fill.commissionReport.execId == ex.execId else None
        self._assembler.add_leg(coid, LegExec(
            ex.execId, symbol, Side.BUY if ex.side == "BOT" else Side.SELL, int(round(ex.shares)),
            plain(ex.price), ts, "add" if ex.lastLiquidity == 1 else "remove"))
        if commission is not None:
            self._assembler.add_commission(ex.execId, plain(commission))

    def _is_done(self, coid: str) -> bool:
        t = self._orders.get(coid)
        return t is not None and ((t.last is not None and t.last.status.is_terminal)
                                  or (t.held is not None and t.held.status.is_terminal)
                                  or (t.trade is not None and t.trade.isDone()))

    def _emit_ready(self, force: bool = False) -> list[Fill]:
        fills = self._assembler.ready(force=force, done=self._is_done)
        touched = set()
        for f in fills:
            self._fills[f.exec_id] = f
            t = self._orders.get(f.client_order_id)
            if t is not None:
                t.delivered_units += f.quantity
                touched.add(f.client_order_id)
            self._publish(f)
        for coid in touched:  # statuses that were waiting for these fills
            t = self._orders[coid]
            if t.held is not None and t.held.filled_quantity <= t.delivered_units:
                self._refresh(t, force=True)
        return fills

    # --- orders -------------------------------------------------------------------------
    def _require_connection(self) -> None:
        if not self.connected:
            raise BrokerError(f"not connected to Interactive Brokers at {self.host}:{self.port}"
                              + (f" ({self.last_error})" if self.last_error else ""))

    async def submit(self, order: BrokerOrder) -> OrderUpdate:
        async with self._submit_lock:
            known = self._orders.get(order.client_order_id)
            if known is not None:
                return self._update_of(known) or self._placeholder(known.order, OrderStatus.SUBMITTED)
            if not self.connected:
                return self._placeholder(order, OrderStatus.REJECTED, "not connected to Interactive Brokers"
                                         + (f": {self.last_error}" if self.last_error else ""))
            try:
                contract = await self.contracts.order_contract(self.ib, order.underlying, order.legs)
                ib_order = to_ib_order(order, self.ib_account or "")
            except UnknownSymbol as err:  # IB's answer to the order would be error 200
                return self._placeholder(order, OrderStatus.REJECTED, f"IB 200: {err.message}")
            except InvalidInput as err:   # not expressible as an IB order: nothing is sent
                return self._placeholder(order, OrderStatus.REJECTED, err.message)
            try:
                trade = self.ib.placeOrder(contract, ib_order)
            except ConnectionError:       # the socket went away while we qualified: nothing was sent
                return self._placeholder(order, OrderStatus.REJECTED, "connection to Interactive Brokers lost "
                                                                      "before the order was sent")
            t = self._orders[order.client_order_id] = Tracked(order, trade)
            self._assembler.track(order, None)
        await self._wait(t, lambda u: u is not None and u.status is not OrderStatus.SUBMITTED)
        return self._update_of(t) or self._placeholder(order, OrderStatus.SUBMITTED)

    @staticmethod
    def _placeholder(order: BrokerOrder, status: OrderStatus, reason: str = "") -> OrderUpdate:
        return OrderUpdate(order.client_order_id, status, datetime.now(UTC), reason=reason, order=order,
                           remaining=order.quantity if status.is_working else 0)

    async def _wait(self, t: Tracked, done, timeout: float | None = None) -> None:
        """Until ``done(update)``, the connection drops, or the timeout (``ack_timeout``) passes;
        woken by every change of ``t`` (and by a disconnect)."""
        try:
            async with asyncio.timeout(self.ack_timeout if timeout is None else timeout):
                while not done(self._update_of(t)) and self.ib.isConnected():
                    t.changed.clear()
                    await t.changed.wait()
        except TimeoutError:
            pass

    def _tracked(self, client_order_id: str) -> Tracked:
        t = self._orders.get(client_order_id)
        if t is None:
            raise BrokerError(f"Interactive Brokers has no order {client_order_id!r} from us")
        return t

    async def cancel(self, client_order_id: str) -> OrderUpdate:
        t = self._tracked(client_order_id)
        current = self._update_of(t)
        if current is not None and current.status.is_terminal:
            return current
        self._require_connection()
        if t.trade is None:
            raise BrokerError(f"order {client_order_id} was never placed at Interactive Brokers")
        t.cancel_requested = True
        self.ib.cancelOrder(t.trade.order)
        await self._wait(t, lambda u: u is not None and u.status.is_terminal)
        return self._update_of(t) or self._placeholder(t.order, OrderStatus.PENDING_CANCEL)

    async def replace(self, client_order_id: str, *, limit_price: Decimal | None = None,
                      quantity: int | None = None) -> OrderUpdate:
        t = self._tracked(client_order_id)
        self._require_connection()
        current = self._update_of(t)
        if t.trade is None or current is None or current.status.is_terminal:
            raise BrokerError(f"order {client_order_id} is not working at Interactive Brokers")
        new_order = t.order.with_price(limit_price, quantity)
        if quantity is not None and quantity < current.filled_quantity:
            raise BrokerError(f"cannot reduce {client_order_id} below its filled {current.filled_quantity}")
        with_changes(t.order, t.trade.order, limit_price, quantity)
        t.order = new_order
        marker = len(t.trade.log)
        self.ib.placeOrder(t.trade.contract, t.trade.order)
        await self._wait(t, lambda u: any(e.message in ("Modified", "") or e.errorCode
                                          for e in t.trade.log[marker + 1:]) or (u is not None and u.status.is_terminal))
        self._refresh(t, force=True)
        return self._update_of(t) or self._placeholder(new_order, OrderStatus.ACCEPTED)

    async def open_orders(self) -> list[OrderUpdate]:
        self._require_connection()
        return await self._fetch_open_orders()

    async def _fetch_open_orders(self) -> list[OrderUpdate]:
        # all clients' orders, not only ours: an order placed by hand in TWS (or by another
        # program) on this account is exactly what reconciliation must surface
        trades = await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), self.ack_timeout)
        out = []
        for trade in trades:
            t = await self._adopt(trade)
            self._refresh(t)
            u = self._update_of(t)
            if u is not None and u.status.is_working:
                out.append(u)
        return out

    async def _adopt(self, trade: Trade) -> Tracked:
        """Track an order IB reports (ours from before a restart, or one placed by hand)."""
        coid = trade.order.orderRef or f"ib-{trade.order.permId}"
        t = self._orders.get(coid)
        if t is None:
            c = trade.contract
            if c.secType == "BAG":
                symbols = [await self.contracts.symbol_of(self.ib, leg.conId) for leg in c.comboLegs]
            else:
                symbols = [self.contracts.remember(c) or await self.contracts.symbol_of(self.ib, c.conId)]
            t = self._orders[coid] = Tracked(broker_order_from_ib(trade, self.account, symbols), accepted=True)
        t.trade = trade
        self._assembler.track(t.order, str(trade.order.permId) if trade.order.permId else None)
        return t

    # --- executions ---------------------------------------------------------------------
    async def executions(self, since: datetime | None = None) -> list[Fill]:
        self._require_connection()
        return await self._fetch_executions(since, {})

    # --- positions, account, what-if -----------------------------------------------------
    async def positions(self) -> list[BrokerPosition]:
        self._require_connection()
        return await self._fetch_positions()

    async def _fetch_positions(self) -> list[BrokerPosition]:
        return await queries.positions(self.ib, self.contracts, self.ib_account, self.ack_timeout)

    async def account_summary(self) -> AccountSummary:
        self._require_connection()
        return await queries.account_summary(self.ib, self.ib_account or "", self.ack_timeout)

    async def what_if(self, order: BrokerOrder) -> WhatIf:
        """IB's margin and commission preview (``whatIfOrder``); nothing is placed."""
        self._require_connection()
        contract = await self.contracts.order_contract(self.ib, order.underlying, order.legs)
        self.last_error = ""
        state = await asyncio.wait_for(self.ib.whatIfOrderAsync(contract, to_ib_order(order, self.ib_account or "")),
                                       self.ack_timeout)
        if not isinstance(state, OrderState):
            raise BrokerError(f"Interactive Brokers gave no margin preview ({self.last_error or 'no answer'})")
        return queries.what_if_of(state)

    def _audit(self, kind: str, data: dict) -> None:
        if self.audit is None:
            return
        try:
            self.audit.append(kind, actor=ACTOR, data=data, ledger=self.account)
        except Exception:  # the broker must keep running; the failure itself is logged loudly
            log.exception("audit append of %s failed", kind)
