"""What the IB adapter knows per order, and how it catches up with IB after being away.

:class:`Resync` holds the reconciliation half of :class:`~engine.execution.ib.broker.IBBroker`
(a mixin: it works on the broker's ``ib``, ``_orders``, ``_assembler``, ``_fills`` and event
publishing): today's executions into fills, IB's completed orders into final states, and the
typed report against the ledger (:mod:`engine.execution.ib.reconcile`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ib_async import ExecutionFilter, Trade
from ib_async import Fill as IBFill

from engine.core.money import ZERO
from engine.execution.broker import BrokerOrder, Fill, OrderStatus, OrderUpdate, Side
from engine.execution.ib.orders import closed_status, order_from_executions
from engine.execution.ib.reconcile import LedgerSnapshot, ReconcileReport, reconcile

log = logging.getLogger(__name__)

ACCEPTED_LIKE = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL,
                           OrderStatus.PENDING_REPLACE})


@dataclass
class Tracked:
    """One order this broker knows: ours, adopted from IB's open orders, or seen in executions."""

    order: BrokerOrder
    trade: Trade | None = None
    cancel_requested: bool = False
    last: OrderUpdate | None = None
    held: OrderUpdate | None = None          # a status waiting for its fills
    delivered_units: int = 0
    accepted: bool = False                   # IB took it once: a later refusal is a cancel
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def final(self, status: OrderStatus) -> OrderStatus:
        """REJECTED is for orders never accepted; an accepted order IB ends is CANCELED."""
        return OrderStatus.CANCELED if status is OrderStatus.REJECTED and self.accepted else status


class Resync:
    """Reconciliation methods of ``IBBroker`` (see module docstring)."""

    async def _fetch_executions(self, since: datetime | None, ledger_orders: dict[str, BrokerOrder]) -> list[Fill]:
        flt = ExecutionFilter(acctCode=self.ib_account or "",
                              time=since.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S") if since else "")
        raw: list[IBFill] = await asyncio.wait_for(self.ib.reqExecutionsAsync(flt), self.ack_timeout)
        await self._await_commissions({f.execution.execId for f in raw if f.contract.secType != "BAG"})
        stored = {f.execution.execId: f for f in self.ib.fills()}
        by_order: dict[str, list[IBFill]] = {}
        for f in raw:
            by_order.setdefault(f.execution.orderRef or f"ib-{f.execution.permId}", []).append(stored.get(
                f.execution.execId, f))
        for coid, group in by_order.items():
            if coid not in self._orders:
                order = ledger_orders.get(coid) or self._order_from_executions(coid, group)
                self._orders[coid] = Tracked(order)
            self._assembler.track(self._orders[coid].order, str(group[0].execution.permId))
            for f in group:
                self._feed(coid, f)
        self._emit_ready(force=True)
        reported = {f.execution.execId for f in raw}
        return [f for f in self._fills.values() if f.exec_id.removesuffix("+combo") in reported]

    async def _await_commissions(self, exec_ids: set[str]) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.commission_wait
        while loop.time() < end:
            have = {f.execution.execId for f in self.ib.fills() if f.commissionReport.execId}
            if exec_ids <= have:
                return
            await asyncio.sleep(0.02)

    def _order_from_executions(self, coid: str, group: list[IBFill]) -> BrokerOrder:
        """An order neither we nor the ledger know (placed by hand in TWS), from its executions."""
        legs = [(self.contracts.remember(f.contract) or str(f.contract.conId),
                 Side.BUY if f.execution.side == "BOT" else Side.SELL, int(round(f.execution.shares)))
                for f in group if f.contract.secType != "BAG"]
        return order_from_executions(coid, self.account, group[0].contract.symbol, legs)

    async def reconcile(self, reason: str = "manual") -> ReconcileReport:
        """Compare IB's open orders, today's executions and positions with the ledger; emit what
        the ledger is missing; audit and return the typed report."""
        snapshot = (await asyncio.to_thread(self.ledger_view.snapshot) if self.ledger_view is not None
                    else LedgerSnapshot({}, frozenset(), {}))
        open_updates = await self._fetch_open_orders()
        completed = await self._fetch_completed()
        ledger_orders = {k: v.order for k, v in snapshot.orders.items() if v.order is not None}
        fills = await self._fetch_executions(None, ledger_orders)
        positions = await self._fetch_positions()
        for coid in completed:  # finished at IB while we were away, never seen by this process
            if coid not in self._orders and coid in snapshot.open_orders and coid in ledger_orders:
                self._orders[coid] = Tracked(ledger_orders[coid],
                                              accepted=snapshot.orders[coid].status in ACCEPTED_LIKE)
        closed = self._settle_closed({u.client_order_id for u in open_updates}, completed)
        report = reconcile(snapshot, ledger=self.account, account=self.ib_account or "", ts=datetime.now(UTC),
                           reason=reason, open_orders=open_updates, executions=fills, positions=positions,
                           closed=closed)
        self.reports.append(report)
        self._audit("broker.reconcile", report.to_dict())
        if not report.clean:
            log.warning("IB reconciliation (%s): %d missing fills, %d order and %d position differences",
                        reason, len(report.missing_fills), len(report.order_diffs), len(report.position_diffs))
        return report

    async def _fetch_completed(self) -> dict[str, Trade]:
        """Today's finished orders by client order id (``reqCompletedOrders``; empty if IB is
        silent, which an old gateway may be)."""
        try:
            trades = await asyncio.wait_for(self.ib.reqCompletedOrdersAsync(True), self.ack_timeout)
        except TimeoutError:
            return {}
        return {t.order.orderRef: t for t in trades if t.order.orderRef}

    def _settle_closed(self, open_ids: set[str], completed: dict[str, Trade]) -> dict[str, OrderUpdate]:
        """Orders we knew as working that IB no longer lists as open finished while we were away:
        their final state from IB's completed orders and today's executions
        (:func:`~engine.execution.ib.orders.closed_status`). Returns them, by client order id."""
        settled: dict[str, OrderUpdate] = {}
        for coid, t in self._orders.items():
            seen = t.trade is not None or t.delivered_units or coid in completed
            if coid in open_ids or not seen or (t.trade is None and t.last is not None):
                continue  # open, never at IB, or already settled
            current = self._update_of(t)
            if current is not None and current.status.is_terminal:
                continue
            done = completed.get(coid)
            status, reason = closed_status(done.orderStatus.status if done else None,
                                           fully_filled=t.delivered_units >= t.order.quantity,
                                           cancel_requested=t.cancel_requested, tif=t.order.tif,
                                           acknowledged=t.accepted or t.delivered_units > 0 or done is not None
                                           or bool(current and current.broker_order_id))
            status = t.final(status)
            perm = current.broker_order_id if current else (str(done.order.permId) if done else None)
            t.trade = None
            t.held = None
            t.last = OrderUpdate(coid, status, datetime.now(UTC), broker_order_id=perm or self._perm_of(coid),
                                 filled_quantity=t.delivered_units, avg_fill_price=self._avg_price(coid),
                                 reason=reason, order=t.order)
            settled[coid] = t.last
            self._publish(t.last)
            t.changed.set()
        return settled

    def _perm_of(self, coid: str) -> str | None:
        return next((f.broker_order_id for f in self._fills.values() if f.client_order_id == coid), None)

    def _avg_price(self, coid: str) -> Decimal | None:
        mine = [f for f in self._fills.values() if f.client_order_id == coid]
        n = sum(f.quantity for f in mine)
        return (sum((f.net_price * f.quantity for f in mine), ZERO) / n).quantize(Decimal("0.0001")) if n else None
