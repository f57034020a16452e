"""IB executions → our :class:`~engine.execution.broker.Fill` s (one per combo execution).

IB reports an execution per leg (``execDetails`` with the leg's OPT/STK contract) and, for a
BAG, one more for the combo itself (secType ``BAG``, combo price, no commission); each leg's
commission arrives separately (``commissionReport``, keyed by ``execId``). Our ledger wants one
fill per combo execution with all its legs, the net price and the total commission.

:class:`FillAssembler` is pure bookkeeping (no I/O): executions and commissions go in, in any
order and any number of times (live, then again from ``reqExecutions`` after a reconnect), and
complete fills come out exactly once each. A combo execution is complete when its BAG record and
enough leg quantity (``units × ratio`` per leg) are in and every consumed leg's commission is
known; ``flush`` gives up waiting for commissions (they are then counted as zero) and, for an
order IB has finished, pairs leg executions into units even without BAG records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.core.money import ZERO, D
from engine.execution.broker import BrokerOrder, Fill, LegFill, Side


@dataclass
class LegExec:
    """One leg execution (or the part of it not yet assigned to a combo unit)."""

    exec_id: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    ts: datetime
    liquidity: str
    commission: Decimal | None = None
    original_quantity: int = 0

    def __post_init__(self) -> None:
        self.original_quantity = self.original_quantity or self.quantity


@dataclass
class ComboExec:
    exec_id: str
    quantity: int
    ts: datetime


@dataclass
class _OrderBook:
    order: BrokerOrder
    broker_order_id: str | None
    legs: dict[str, deque[LegExec]] = field(default_factory=dict)
    combos: deque[ComboExec] = field(default_factory=deque)


class FillAssembler:
    """Turns leg executions, combo executions and commission reports into :class:`Fill` s."""

    def __init__(self) -> None:
        self._books: dict[str, _OrderBook] = {}
        self._seen: set[str] = set()
        self._commissions: dict[str, Decimal] = {}
        self._execs: dict[str, LegExec] = {}
        self._pending: set[str] = set()  # orders with executions not yet turned into fills

    def track(self, order: BrokerOrder, broker_order_id: str | None) -> None:
        book = self._books.get(order.client_order_id)
        if book is None:
            self._books[order.client_order_id] = _OrderBook(order, broker_order_id)
        elif broker_order_id:
            book.broker_order_id = broker_order_id

    def knows(self, client_order_id: str) -> bool:
        return client_order_id in self._books

    def add_leg(self, client_order_id: str, leg: LegExec) -> None:
        """A leg (or single-order) execution; repeats of a seen ``exec_id`` are ignored."""
        if leg.exec_id in self._seen or client_order_id not in self._books:
            return
        self._seen.add(leg.exec_id)
        if leg.exec_id in self._commissions:
            leg.commission = self._commissions[leg.exec_id]
        self._execs[leg.exec_id] = leg
        self._books[client_order_id].legs.setdefault(leg.symbol, deque()).append(leg)
        self._pending.add(client_order_id)

    def add_combo(self, client_order_id: str, combo: ComboExec) -> None:
        if combo.exec_id in self._seen or client_order_id not in self._books:
            return
        self._seen.add(combo.exec_id)
        self._books[client_order_id].combos.append(combo)
        self._pending.add(client_order_id)

    def has_commission(self, exec_id: str) -> bool:
        return exec_id in self._commissions

    def add_commission(self, exec_id: str, amount: Decimal) -> None:
        self._commissions[exec_id] = amount
        if exec_id in self._execs:
            self._execs[exec_id].commission = amount

    def ready(self, *, force: bool = False, done: Callable[[str], bool] = lambda _coid: False) -> list[Fill]:
        """Fills now complete. ``force`` stops waiting for commissions; orders for which ``done``
        is true (IB says they are finished) may pair leg executions into units without BAG records.
        Only orders with executions not yet turned into fills are looked at."""
        out: list[Fill] = []
        for coid in list(self._pending):
            book = self._books[coid]
            out += self._drain(coid, book, force=force, done=done(coid))
            if not book.combos and not any(book.legs.values()):
                self._pending.discard(coid)
        return out

    # --- internals --------------------------------------------------------------------------
    def _drain(self, coid: str, book: _OrderBook, *, force: bool, done: bool) -> list[Fill]:
        order = book.order
        out: list[Fill] = []
        if not order.is_combo:
            leg = order.legs[0]
            queue = book.legs.get(leg.symbol, deque())
            while queue and (force or queue[0].commission is not None):
                x = queue.popleft()
                out.append(self._fill(order, book, x.exec_id, x.ts, [(x, x.quantity)], x.quantity // leg.ratio))
            return out
        while True:
            if book.combos:
                combo = book.combos[0]
                exec_id, qty, ts = combo.exec_id, combo.quantity, combo.ts
            elif done and force:
                qty = self._complete_units(book)
                if not qty:
                    break
                first = book.legs[order.legs[0].symbol][0]
                exec_id, ts = f"{first.exec_id}+combo", first.ts
            else:
                break
            take = self._take(book, qty, force=force)
            if take is None:
                break
            if book.combos:
                book.combos.popleft()
            out.append(self._fill(order, book, exec_id, ts, take, qty))
        return out

    def _complete_units(self, book: _OrderBook) -> int:
        avail = [sum(x.quantity for x in book.legs.get(leg.symbol, ())) // leg.ratio for leg in book.order.legs]
        return min(avail) if avail else 0

    def _take(self, book: _OrderBook, units: int, *, force: bool) -> list[tuple[LegExec, int]] | None:
        """Consume ``units × ratio`` of each leg (oldest first) or ``None`` if not all there yet."""
        plan: list[tuple[LegExec, int]] = []
        for leg in book.order.legs:
            need = units * leg.ratio
            for x in book.legs.get(leg.symbol, ()):
                if need <= 0:
                    break
                if x.commission is None and not force:
                    return None
                n = min(need, x.quantity)
                plan.append((x, n))
                need -= n
            if need > 0:
                return None
        for x, n in plan:
            x.quantity -= n
            if x.quantity == 0:
                book.legs[x.symbol].popleft()
        return plan

    @staticmethod
    def _fill(order: BrokerOrder, book: _OrderBook, exec_id: str, ts: datetime,
              parts: list[tuple[LegExec, int]], units: int) -> Fill:
        by_symbol: dict[str, list[tuple[LegExec, int]]] = {}
        for x, n in parts:
            by_symbol.setdefault(x.symbol, []).append((x, n))
        legs: list[LegFill] = []
        net = ZERO
        commission = ZERO
        for leg in order.legs:
            chunk = by_symbol.get(leg.symbol, [])
            qty = sum(n for _, n in chunk)
            price = sum((x.price * n for x, n in chunk), ZERO) / qty if qty else ZERO
            side = chunk[0][0].side if chunk else leg.side
            legs.append(LegFill(leg.symbol, side, qty, price.normalize() if price else ZERO))
            weight = D(leg.ratio) * (D(leg.multiplier) / 100)
            net += side.sign * weight * price
            commission += sum(((x.commission or ZERO) * n / x.original_quantity for x, n in chunk), ZERO)
        liquidity = "add" if all(x.liquidity == "add" for x, _ in parts) else "remove"
        return Fill(exec_id=exec_id, client_order_id=order.client_order_id, ts=ts, quantity=units,
                    net_price=net.quantize(Decimal("0.0001")).normalize(), legs=tuple(legs),
                    commission=commission.quantize(Decimal("0.01")), broker_order_id=book.broker_order_id,
                    liquidity=liquidity)
