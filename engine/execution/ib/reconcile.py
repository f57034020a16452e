"""Reconciliation of Interactive Brokers' view with our ledger, on every (re)connect.

After a disconnect (or a restart of the engine) the broker may have done things we did not hear
about: fills while the socket was down, orders cancelled at the close, an order placed by hand in
TWS. On every connect the adapter asks IB for its open orders, today's executions and positions,
reads the same from the ledger (:class:`LedgerSnapshot`, through a :class:`LedgerView`), and
reports every difference as a typed :class:`ReconcileReport` — which also goes to the audit log.

The report is the *diff*; acting on it is the OMS's job: the adapter emits the missing fills and
the broker's order states on its event stream, and the ledger books them (fills are keyed by
``exec_id``, so booking is idempotent). A position difference that the missing fills fully
explain is marked ``explained``; one they do not explain needs a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from engine.execution.broker import (
    TERMINAL_STATUSES,
    BrokerOrder,
    BrokerPosition,
    Fill,
    OrderLeg,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    client_order_id: str
    status: OrderStatus
    filled_quantity: int
    broker_order_id: str | None = None
    order: BrokerOrder | None = None      # what was sent (to rebuild fills after a restart)


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """What our ledger believes about the orders this broker handles."""

    orders: dict[str, LedgerOrder]          # every order of this broker (any status)
    exec_ids: frozenset[str]                # fills already booked
    positions: dict[str, int]               # symbol → signed quantity (non-zero only)

    @property
    def open_orders(self) -> dict[str, LedgerOrder]:
        return {k: v for k, v in self.orders.items() if v.status not in TERMINAL_STATUSES}


class LedgerView(Protocol):
    """Read-only access to the ledger for reconciliation."""

    def snapshot(self) -> LedgerSnapshot: ...


class DbLedgerView:
    """The ledger tables of :mod:`engine.execution.models`, read for one broker in one ledger."""

    def __init__(self, db, ledger: str, broker: str = "ib") -> None:
        self.db, self.ledger, self.broker = db, ledger, broker

    def snapshot(self) -> LedgerSnapshot:
        from engine.execution.models import FillRow, OrderRow, PositionRow

        with self.db.session(self.ledger) as s:
            rows = s.execute(select(OrderRow).where(OrderRow.broker == self.broker)).scalars().all()
            orders = {r.id: LedgerOrder(r.id, OrderStatus(r.status), int(r.filled_quantity or 0),
                                        r.broker_order_id, _order_of(r)) for r in rows}
            exec_ids = frozenset(s.execute(select(FillRow.exec_id)).scalars().all())
            positions = {p.symbol: int(p.quantity) for p in s.execute(select(PositionRow)).scalars().all()
                         if p.quantity}
        return LedgerSnapshot(orders, exec_ids, positions)


def _order_of(row) -> BrokerOrder | None:
    """The order a ledger row describes (``None`` if the row cannot form a valid order)."""
    try:
        return BrokerOrder(row.id, row.account, row.underlying, tuple(OrderLeg.from_dict(x) for x in row.legs),
                           int(row.quantity), OrderType(row.order_type), row.limit_price, row.stop_price,
                           TimeInForce(row.tif or "day"))
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class OrderDiff:
    """One order on which the broker and the ledger disagree.

    ``kind``: ``unknown_in_ledger`` (open at IB, not ours — placed by hand or by another
    program), ``not_open_at_broker`` (open in our ledger, unknown to IB's open orders and not
    filled by today's executions), ``filled_while_away`` (open in our ledger, filled at IB),
    ``closed_in_ledger`` (finished in our ledger, still working at IB: it can still trade!),
    ``closed_while_away`` (open in our ledger; IB canceled, expired or refused it meanwhile),
    ``status`` (both open, states differ), ``filled`` (both open, filled quantities differ).
    """

    client_order_id: str
    kind: str
    ledger_status: str | None
    broker_status: str | None
    ledger_filled: int = 0
    broker_filled: int = 0


@dataclass(frozen=True, slots=True)
class PositionDiff:
    symbol: str
    ledger_quantity: int
    broker_quantity: int
    explained: bool          # the missing fills account for the whole difference

    @property
    def difference(self) -> int:
        return self.broker_quantity - self.ledger_quantity


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Differences between Interactive Brokers and our ledger at one (re)connect."""

    ledger: str
    account: str
    ts: datetime
    reason: str                                   # "connect" | "reconnect"
    missing_fills: tuple[Fill, ...] = ()          # executed at IB, not in the ledger
    order_diffs: tuple[OrderDiff, ...] = ()
    position_diffs: tuple[PositionDiff, ...] = ()
    broker_open_orders: int = 0
    broker_executions: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        return not (self.missing_fills or self.order_diffs or self.position_diffs)

    @property
    def needs_attention(self) -> bool:
        """Differences the missing fills do not explain (a person should look)."""
        return any(not p.explained for p in self.position_diffs) or any(
            d.kind in ("unknown_in_ledger", "not_open_at_broker", "closed_in_ledger") for d in self.order_diffs)

    def to_dict(self) -> dict:
        return {
            "ledger": self.ledger, "account": self.account, "ts": self.ts.isoformat(), "reason": self.reason,
            "clean": self.clean, "needs_attention": self.needs_attention,
            "broker_open_orders": self.broker_open_orders, "broker_executions": self.broker_executions,
            "missing_fills": [{"exec_id": f.exec_id, "client_order_id": f.client_order_id,
                               "quantity": f.quantity, "net_price": str(f.net_price),
                               "ts": f.ts.isoformat(), "commission": str(f.commission),
                               "legs": [{"symbol": x.symbol, "side": x.side.value, "quantity": x.quantity,
                                         "price": str(x.price)} for x in f.legs]}
                              for f in self.missing_fills],
            "order_diffs": [{"client_order_id": d.client_order_id, "kind": d.kind,
                             "ledger_status": d.ledger_status, "broker_status": d.broker_status,
                             "ledger_filled": d.ledger_filled, "broker_filled": d.broker_filled}
                            for d in self.order_diffs],
            "position_diffs": [{"symbol": p.symbol, "ledger": p.ledger_quantity, "broker": p.broker_quantity,
                                "difference": p.difference, "explained": p.explained}
                               for p in self.position_diffs],
            "notes": list(self.notes),
        }


def _leg_deltas(fills: Iterable[Fill]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in fills:
        for leg in f.legs:
            out[leg.symbol] = out.get(leg.symbol, 0) + leg.side.sign * leg.quantity
    return out


def reconcile(snapshot: LedgerSnapshot, *, ledger: str, account: str, ts: datetime, reason: str,
              open_orders: list[OrderUpdate], executions: list[Fill], positions: list[BrokerPosition],
              closed: dict[str, OrderUpdate] | None = None) -> ReconcileReport:
    """The diff between the broker's state (``open_orders``, today's ``executions``,
    ``positions``, and the final states of orders ``closed`` while we were away) and the ledger's
    ``snapshot``. Pure: no I/O."""
    closed = closed or {}
    missing = tuple(f for f in executions if f.exec_id not in snapshot.exec_ids)
    filled_at_broker: dict[str, int] = {}
    for f in executions:
        filled_at_broker[f.client_order_id] = filled_at_broker.get(f.client_order_id, 0) + f.quantity

    diffs: list[OrderDiff] = []
    broker_open = {u.client_order_id: u for u in open_orders}
    for coid, u in sorted(broker_open.items()):
        ours = snapshot.orders.get(coid)
        if ours is None:
            diffs.append(OrderDiff(coid, "unknown_in_ledger", None, u.status.value, 0, u.filled_quantity))
        elif ours.status.is_terminal:
            diffs.append(OrderDiff(coid, "closed_in_ledger", ours.status.value, u.status.value,
                                   ours.filled_quantity, u.filled_quantity))
        elif ours.filled_quantity != u.filled_quantity:
            diffs.append(OrderDiff(coid, "filled", ours.status.value, u.status.value,
                                   ours.filled_quantity, u.filled_quantity))
        elif _working(ours.status) != _working(u.status):
            diffs.append(OrderDiff(coid, "status", ours.status.value, u.status.value,
                                   ours.filled_quantity, u.filled_quantity))
    for coid, ours in sorted(snapshot.open_orders.items()):
        if coid in broker_open:
            continue
        done = filled_at_broker.get(coid, 0)
        final = closed.get(coid)
        if final is not None and final.status is not OrderStatus.FILLED:
            diffs.append(OrderDiff(coid, "closed_while_away", ours.status.value, final.status.value,
                                   ours.filled_quantity, done))
            continue
        kind = "filled_while_away" if done else "not_open_at_broker"
        diffs.append(OrderDiff(coid, kind, ours.status.value, "filled" if done else None,
                               ours.filled_quantity, done))

    expected = dict(snapshot.positions)
    for sym, d in _leg_deltas(missing).items():
        expected[sym] = expected.get(sym, 0) + d
    broker_pos = {p.symbol: p.quantity for p in positions if p.quantity}
    pos_diffs = []
    for sym in sorted(set(broker_pos) | set(snapshot.positions)):
        theirs, ours_q = broker_pos.get(sym, 0), snapshot.positions.get(sym, 0)
        if theirs != ours_q:
            pos_diffs.append(PositionDiff(sym, ours_q, theirs, explained=expected.get(sym, 0) == theirs))
    return ReconcileReport(ledger, account, ts, reason, missing, tuple(diffs), tuple(pos_diffs),
                           len(open_orders), len(executions))


def _working(status: OrderStatus) -> str:
    """Coarse state for comparing: a SUBMITTED order IB has accepted is not a disagreement."""
    if status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED,
                  OrderStatus.PENDING_REPLACE, OrderStatus.INITIALIZED):
        return "working"
    return status.value
