"""The order manager of one ledger: intent first, then the broker; broker events into the ledger;
reconciliation after a (re)start.

Crash safety, step by step:

1. ``place`` writes the order as INITIALIZED (the intent) and commits;
2. moves it to SUBMITTED and commits — only then calls ``broker.submit``;
3. applies the acknowledgement and every event (status changes, fills). A fill is booked
   (fill, trades, positions, cash, order quantities) in ONE ledger transaction, idempotent on the
   broker's ``exec_id``.

After a crash, :meth:`OrderManager.reconcile` asks the broker for its executions and the state of
every order we had not finished: missing fills are booked, statuses adopted; an intent the broker
never received is closed as REJECTED (never re-sent: a minutes-old order is not what the trader
confirmed). The broker dedups on ``client_order_id``, so no step can create a second order.
Every transition is persisted (``order_events``) and audited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.core.errors import BrokerError, IllegalTransition, NotFound
from engine.core.money import D
from engine.execution.broker import BrokerOrder, Fill, OrderStatus, OrderType, OrderUpdate, TimeInForce
from engine.execution.lifecycle import can_transition, status_after_fill
from engine.execution.models import OrderEventRow, OrderRow, aware, utcnow
from engine.portfolio.ledger import book_fill

log = logging.getLogger(__name__)

OPEN_STATUSES = tuple(s.value for s in OrderStatus if not s.is_terminal)


def order_dict(r: OrderRow) -> dict:
    return {"order_id": r.id, "ticket_id": r.ticket_id, "account": r.account, "underlying": r.underlying,
            "legs": r.legs, "quantity": r.quantity, "order_type": r.order_type, "tif": r.tif,
            "limit_price": r.limit_price, "stop_price": r.stop_price, "status": r.status,
            "filled_quantity": r.filled_quantity, "avg_fill_price": r.avg_fill_price,
            "broker": r.broker, "broker_order_id": r.broker_order_id, "reason": r.reason,
            "intent": r.intent, "parent_id": r.parent_id, "principal": r.principal,
            # created_at/updated_at are wall time (when it happened); market_ts is the market's clock
            # at entry (the simulated time under SMART0DTE_SIM_START), the frame fills are stamped in
            "created_at": aware(r.created_at), "updated_at": aware(r.updated_at),
            "market_ts": aware(r.market_ts) if r.market_ts else None}


class OrderManager:
    """Orders of one ledger through one broker."""

    def __init__(self, db: Any, audit: Any, broker: Any, ledger: str, *, market_now: Any = None,
                 settle_s: float = 2.0) -> None:
        self.db, self.audit, self.broker, self.ledger = db, audit, broker, ledger
        self.market_now = market_now
        self.settle_s = settle_s

    # --- transitions -----------------------------------------------------------------------------
    def _move(self, s: Any, row: OrderRow, new: OrderStatus, reason: str = "") -> bool:
        """Apply one transition inside session ``s``; ``False`` (and nothing changes) if illegal."""
        cur = OrderStatus(row.status)
        if cur is new and new is not OrderStatus.PARTIALLY_FILLED:
            return False
        if not can_transition(cur, new):
            return False
        row.status, row.updated_at = new.value, utcnow()
        if reason:
            row.reason = reason
        s.add(OrderEventRow(order_id=row.id, ts=row.updated_at, from_status=cur.value, to_status=new.value,
                            reason=reason))
        return True

    def _audit_move(self, order_id: str, old: str, new: str, reason: str, actor: str = "oms") -> None:
        self.audit.append("order.state", actor=actor, ledger=self.ledger,
                          data={"order_id": order_id, "from": old, "to": new, "reason": reason})

    def transition(self, order_id: str, new: OrderStatus, reason: str = "", *, actor: str = "oms",
                   strict: bool = True) -> bool:
        with self.db.session(self.ledger) as s:
            row = self._get(s, order_id, lock=True)
            old = row.status
            moved = self._move(s, row, new, reason)
            if not moved and strict and old != new.value:
                raise IllegalTransition(f"order {order_id} cannot go from {old} to {new.value}")
        if moved:
            self._audit_move(order_id, old, new.value, reason, actor)
        return moved

    def _get(self, s: Any, order_id: str, lock: bool = False) -> OrderRow:
        q = select(OrderRow).where(OrderRow.id == order_id)
        if lock and not self.db.is_sqlite:
            q = q.with_for_update()
        row = s.execute(q).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no order {order_id} in the {self.ledger} ledger")
        return row

    # --- placing -----------------------------------------------------------------------------------
    def write_intent(self, order: BrokerOrder, *, principal: str, ticket_id: str | None = None,
                     intent: str = "open", parent_id: str | None = None) -> bool:
        """Step 1: the INITIALIZED row. ``False`` if this client id already exists (idempotent)."""
        with self.db.session(self.ledger) as s:
            if s.get(OrderRow, order.client_order_id) is not None:
                return False
            now = utcnow()
            s.add(OrderRow(id=order.client_order_id, ticket_id=ticket_id, account=self.ledger,
                           underlying=order.underlying, legs=[leg.to_dict() for leg in order.legs],
                           quantity=order.quantity, order_type=order.order_type.value, tif=order.tif.value,
                           limit_price=order.limit_price, stop_price=order.stop_price,
                           status=OrderStatus.INITIALIZED.value, filled_quantity=0,
                           broker=getattr(self.broker, "name", "broker"), principal=principal, intent=intent,
                           parent_id=parent_id, created_at=now, updated_at=now,
                           market_ts=self.market_now() if self.market_now else None))
            s.flush()
            s.add(OrderEventRow(order_id=order.client_order_id, ts=now, from_status="",
                                to_status=OrderStatus.INITIALIZED.value, reason=intent))
        self.audit.append("order.intent", actor=principal, ledger=self.ledger,
                          data={"order_id": order.client_order_id, "order": order.to_dict(), "intent": intent})
        return True

    async def place(self, order: BrokerOrder, *, principal: str, ticket_id: str | None = None,
                    intent: str = "open", parent_id: str | None = None) -> dict:
        """Intent, SUBMITTED, send, apply the acknowledgement and any events; the order as a dict."""
        if not self.write_intent(order, principal=principal, ticket_id=ticket_id, intent=intent,
                                 parent_id=parent_id):
            return self.get(order.client_order_id)  # same client id: the one order we already have
        self.transition(order.client_order_id, OrderStatus.SUBMITTED, "sent to " + self.broker.name,
                        actor=principal)
        try:
            ack = await self.broker.submit(order)
        except BrokerError as err:
            self.transition(order.client_order_id, OrderStatus.REJECTED, f"broker error: {err}", actor="broker")
            return self.get(order.client_order_id)
        if ack.status is not OrderStatus.REJECTED:  # the broker took it: ACCEPTED before any fill
            await self.apply_update(replace(ack, status=OrderStatus.ACCEPTED, filled_quantity=0))
        await self.pump()  # then the fills it queued, so the final acknowledgement finds them booked
        await self.apply_update(ack)
        await self._settle(order)
        return self.get(order.client_order_id)

    async def _settle(self, order: BrokerOrder) -> None:
        """A real broker reports fills a moment after the acknowledgement: give an order that
        should trade at once (market, IOC) up to ``settle_s`` to report them, so the caller sees
        the outcome (the rest is booked whenever it arrives, or at the next reconciliation)."""
        if getattr(self.broker, "fills_on_submit", False) or self.settle_s <= 0:
            return
        immediate = order.order_type is OrderType.MARKET or order.tif is TimeInForce.IOC
        deadline = asyncio.get_running_loop().time() + (self.settle_s if immediate else self.settle_s / 4)
        while asyncio.get_running_loop().time() < deadline:
            if OrderStatus(self.get(order.client_order_id)["status"]).is_terminal:
                return
            await asyncio.sleep(0.05)
            await self.pump()

    async def pump(self) -> int:
        """Apply the events a broker has queued (paper: synchronous; IB: the service's consumer)."""
        drain = getattr(self.broker, "drain", None)
        if drain is None:
            return 0
        events = drain()
        for ev in events:
            await self.apply(ev)
        return len(events)

    async def apply(self, ev: Any) -> None:
        if isinstance(ev, Fill):
            await self.apply_fill(ev)
        elif isinstance(ev, OrderUpdate):
            await self.apply_update(ev)

    # --- broker events -----------------------------------------------------------------------------
    async def apply_update(self, up: OrderUpdate) -> None:
        """Adopt a broker status. Fill statuses are driven by fills (which carry the quantities)."""
        target = up.status
        with self.db.session(self.ledger) as s:
            row = s.get(OrderRow, up.client_order_id)
            if row is None:
                return
            if up.broker_order_id and not row.broker_order_id:
                row.broker_order_id = up.broker_order_id
            old = row.status
            if target in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
                target = OrderStatus.ACCEPTED if old == OrderStatus.SUBMITTED.value else None
            moved = target is not None and self._move(s, row, target, up.reason)
        if moved:
            self._audit_move(up.client_order_id, old, target.value, up.reason, "broker")
        if up.filled_quantity > self._filled(up.client_order_id):
            await self.catch_up_fills(up.client_order_id)

    def _filled(self, order_id: str) -> int:
        with self.db.session(self.ledger) as s:
            row = s.get(OrderRow, order_id)
            return 0 if row is None else row.filled_quantity

    async def catch_up_fills(self, order_id: str | None = None) -> int:
        """Book every broker execution the ledger lacks (of one order, or all)."""
        n = 0
        of_order = getattr(self.broker, "order_executions", None)
        fills = await of_order(order_id) if (order_id and of_order) else await self.broker.executions()
        for f in fills:
            if order_id is None or f.client_order_id == order_id:
                n += await self.apply_fill(f)
        return n

    async def apply_fill(self, fill: Fill) -> bool:
        """Book one execution and advance its order, in one transaction; ``False`` if known
        (also when another engine process booked it a moment earlier: the ``exec_id`` key wins)."""
        try:
            return await self._book(fill)
        except IntegrityError:
            return False

    async def _book(self, fill: Fill) -> bool:
        with self.db.session(self.ledger) as s:
            row = s.get(OrderRow, fill.client_order_id)
            if row is not None and not self.db.is_sqlite:
                row = self._get(s, fill.client_order_id, lock=True)
            if not book_fill(s, fill, fill.client_order_id):
                return False
            moved = None
            if row is not None:
                prev_qty, prev_avg = row.filled_quantity, D(row.avg_fill_price or 0)
                total = min(row.quantity, prev_qty + fill.quantity)
                row.avg_fill_price = ((prev_avg * prev_qty + D(fill.net_price) * fill.quantity)
                                      / max(total, 1)).quantize(Decimal("0.000001"))
                row.filled_quantity = total
                old = row.status
                target = status_after_fill(row.quantity, total)
                if old == OrderStatus.INITIALIZED.value:
                    self._move(s, row, OrderStatus.SUBMITTED, "found at the broker")
                if self._move(s, row, target, f"filled {total}/{row.quantity}"):
                    moved = (old, target.value)
        self.audit.append("order.fill", actor="broker", ledger=self.ledger, data={
            "order_id": fill.client_order_id, "exec_id": fill.exec_id, "quantity": fill.quantity,
            "net_price": fill.net_price, "commission": fill.commission, "fees": fill.fees,
            "legs": [{"symbol": x.symbol, "side": x.side.value, "quantity": x.quantity, "price": x.price}
                     for x in fill.legs], "matched": row is not None})
        if moved:
            self._audit_move(fill.client_order_id, moved[0], moved[1], "fill", "broker")
        return True

    # --- cancel / replace --------------------------------------------------------------------------
    async def cancel(self, order_id: str, *, actor: str, reason: str = "canceled") -> dict:
        order = self.get(order_id)
        status = OrderStatus(order["status"])
        if status.is_terminal:
            return order
        if status is OrderStatus.INITIALIZED:
            self.transition(order_id, OrderStatus.CANCELED, reason, actor=actor)
            return self.get(order_id)
        self.transition(order_id, OrderStatus.PENDING_CANCEL, reason, actor=actor, strict=False)
        try:
            up = await self.broker.cancel(order_id)
        except BrokerError as err:
            self.transition(order_id, OrderStatus.ACCEPTED, f"cancel refused: {err}", actor="broker", strict=False)
            return self.get(order_id)
        await self.pump()
        await self.apply_update(up)
        return self.get(order_id)

    async def replace(self, order_id: str, *, limit_price: Decimal | None = None, quantity: int | None = None,
                      actor: str) -> dict:
        self.transition(order_id, OrderStatus.PENDING_REPLACE, f"replace limit={limit_price}", actor=actor)
        try:
            up = await self.broker.replace(order_id, limit_price=limit_price, quantity=quantity)
        except BrokerError as err:
            self.transition(order_id, OrderStatus.ACCEPTED, f"replace refused: {err}", actor="broker", strict=False)
            raise
        with self.db.session(self.ledger) as s:
            row = s.get(OrderRow, order_id)
            if limit_price is not None:
                row.limit_price = limit_price
            if quantity is not None:
                row.quantity = quantity
        await self.pump()
        if up.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            target = OrderStatus.ACCEPTED if self._filled(order_id) == 0 else OrderStatus.PARTIALLY_FILLED
            self.transition(order_id, target, "replaced", actor="broker", strict=False)
        else:
            await self.apply_update(up)
        return self.get(order_id)

    # --- reading -----------------------------------------------------------------------------------
    def get(self, order_id: str) -> dict:
        with self.db.session(self.ledger) as s:
            return order_dict(self._get(s, order_id))

    def list(self, status: str | None = None, limit: int = 200) -> list[dict]:
        with self.db.session(self.ledger) as s:
            q = select(OrderRow).order_by(OrderRow.created_at.desc()).limit(limit)
            if status == "open":
                q = q.where(OrderRow.status.in_(OPEN_STATUSES))
            elif status:
                q = q.where(OrderRow.status == OrderStatus(status).value)
            return [order_dict(r) for r in s.execute(q).scalars()]

    def fills_of(self, order_id: str) -> list[dict]:
        from engine.execution.models import FillRow

        with self.db.session(self.ledger) as s:
            rows = s.execute(select(FillRow).where(FillRow.order_id == order_id).order_by(FillRow.ts)).scalars()
            return [{"exec_id": r.exec_id, "ts": aware(r.ts), "quantity": r.quantity, "net_price": r.net_price,
                     "commission": r.commission, "fees": r.fees, "liquidity": r.liquidity,
                     "legs": [_leg_numbers(leg) for leg in r.legs or []]}
                    for r in rows]

    # --- reconciliation ----------------------------------------------------------------------------
    async def reconcile(self) -> dict:
        """Bring the ledger in line with the broker after a (re)start; returns what changed."""
        report: dict[str, Any] = {"fills_booked": 0, "adopted": [], "closed": [], "position_diffs": []}
        report["fills_booked"] = await self.catch_up_fills()
        status_of = getattr(self.broker, "order_status", None)
        working = {u.client_order_id: u for u in await self.broker.open_orders()}
        for order in self.list(status="open", limit=10_000):
            oid, cur = order["order_id"], OrderStatus(order["status"])
            up = working.get(oid)
            if up is None and status_of is not None:
                up = await status_of(oid)
            if up is not None:
                before = self.get(oid)["status"]
                await self.apply_update(up)
                if up.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
                    self.transition(oid, up.status, up.reason or "reconciled", actor="reconcile", strict=False)
                after = self.get(oid)["status"]
                if after != before:
                    report["adopted"].append({"order_id": oid, "from": before, "to": after})
                continue
            if self.get(oid)["status"] in OPEN_STATUSES and oid not in working:
                reason = ("never sent: the engine stopped before sending" if cur is OrderStatus.INITIALIZED
                          else "not known to the broker after a restart")
                target = OrderStatus.REJECTED if cur in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED) \
                    else OrderStatus.CANCELED
                if self.transition(oid, target, reason, actor="reconcile", strict=False):
                    report["closed"].append({"order_id": oid, "status": target.value, "reason": reason})
        report["position_diffs"] = await self.position_diffs()
        if any(report[k] for k in ("fills_booked", "adopted", "closed", "position_diffs")):
            self.audit.append("reconcile", actor="oms", ledger=self.ledger, data=report)
        return report

    async def position_diffs(self) -> list[dict]:
        from engine.portfolio.ledger import open_positions

        theirs = {p.symbol: p.quantity for p in await self.broker.positions()}
        with self.db.session(self.ledger) as s:
            ours = {p.symbol: p.quantity for p in open_positions(s)}
        return [{"symbol": k, "ledger": ours.get(k, 0), "broker": theirs.get(k, 0)}
                for k in sorted(set(ours) | set(theirs)) if ours.get(k, 0) != theirs.get(k, 0)]



_LEG_MONEY = ("price", "commission", "fees", "net_price")


def _leg_numbers(leg: Any) -> Any:
    """Stored legs keep exact Decimal strings; callers get Decimals back (JSON numbers on output)."""
    if not isinstance(leg, dict):
        return leg
    out = dict(leg)
    for key in _LEG_MONEY:
        if isinstance(out.get(key), str):
            try:
                out[key] = Decimal(out[key])
            except ArithmeticError:
                pass
    return out
