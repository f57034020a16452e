"""The paper broker: a simulated broker that fills against the market's quotes with the shared
:class:`~engine.execution.fill_model.FillModel` and charges the shared fee table.

It keeps its own book (``paper_broker_orders`` / ``paper_broker_executions`` in the paper ledger
database), written in its own transactions exactly as a real broker's server would: an engine
crash between sending and acknowledgement, or between a fill and our ledger write, leaves the
broker's book intact, and the engine's reconciliation finds what it missed.

Marketable orders fill on arrival; resting limit and stop orders are re-examined by
:meth:`PaperBroker.poll` (the service calls it on every market tick while running, and once at
start). DAY orders still working at the option close expire. Latency drawn from the fill model
moves the acknowledgement and fill timestamps (``FillConfig.latency*``); the broker never sleeps.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from engine.core.errors import BrokerError
from engine.core.instruments import looks_like_option, parse_occ
from engine.core.money import ZERO, D, cents
from engine.execution.broker import (
    AccountSummary,
    BrokerEvent,
    BrokerOrder,
    BrokerPosition,
    Fill,
    LegFill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    WhatIf,
)
from engine.execution.fees import FeeLine, FeeSchedule
from engine.execution.fill_model import FillModel, FillResult, LegBook
from engine.execution.models import BrokerExecRow, BrokerOrderRow, TradeRow, aware, utcnow

WORKING = (OrderStatus.ACCEPTED.value, OrderStatus.PARTIALLY_FILLED.value)


def fill_to_dict(f: Fill) -> dict:
    return {"exec_id": f.exec_id, "client_order_id": f.client_order_id, "ts": f.ts.isoformat(),
            "quantity": f.quantity, "net_price": str(f.net_price), "commission": str(f.commission),
            "fees": str(f.fees), "broker_order_id": f.broker_order_id, "liquidity": f.liquidity,
            "legs": [{"symbol": x.symbol, "side": x.side.value, "quantity": x.quantity,
                      "price": str(x.price)} for x in f.legs]}


def fill_from_dict(d: dict) -> Fill:
    return Fill(exec_id=d["exec_id"], client_order_id=d["client_order_id"],
                ts=datetime.fromisoformat(d["ts"]), quantity=int(d["quantity"]),
                net_price=D(d["net_price"]), commission=D(d["commission"]), fees=D(d["fees"]),
                broker_order_id=d.get("broker_order_id"), liquidity=d.get("liquidity", "remove"),
                legs=tuple(LegFill(x["symbol"], Side(x["side"]), int(x["quantity"]), D(x["price"]))
                           for x in d["legs"]))


def _multiplier(symbol: str) -> int:
    return parse_occ(symbol).multiplier if looks_like_option(symbol) else 1


def _fee_line(leg: dict) -> FeeLine:
    m = _multiplier(leg["symbol"])
    return FeeLine(Side(leg["side"]), int(leg["quantity"]), D(leg["price"]), m != 1, m)


class PaperBroker:
    """``Broker`` implementation for the paper ledger. ``market`` provides ``quote(symbol)`` and
    ``clock``; ``option_close(order, now)`` (optional) returns when a DAY order expires."""

    name = "paper"
    fills_on_submit = True  # marketable orders are filled inside submit(): nothing to wait for

    def __init__(self, db: Any, market: Any, *, fill_model: FillModel | None = None,
                 fees: FeeSchedule | None = None, account: str = "paper",
                 starting_cash: Decimal = Decimal("100000"), option_close: Any = None) -> None:
        self.db = db
        self.market = market
        self.account = account
        self.model = fill_model or FillModel()
        self.fees = fees or FeeSchedule.from_config(self.model.config)
        self.starting_cash = D(starting_cash)
        self.option_close = option_close
        self._queue: asyncio.Queue[BrokerEvent] = asyncio.Queue()
        self._connected = False
        self._lock = asyncio.Lock()

    # --- connection ----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    def _now(self) -> datetime:
        return self.market.clock.now()

    # --- orders --------------------------------------------------------------------------------
    async def submit(self, order: BrokerOrder) -> OrderUpdate:
        async with self._lock:
            with self.db.session(self.account) as s:
                row = s.get(BrokerOrderRow, order.client_order_id)
                if row is not None:  # idempotent: the same client id is the same order
                    return self._update(row)
                row = BrokerOrderRow(client_order_id=order.client_order_id,
                                     broker_order_id=f"P{uuid.uuid4().hex[:12]}",
                                     order=order.to_dict(), status=OrderStatus.ACCEPTED.value,
                                     created_at=utcnow(), updated_at=utcnow())
                s.add(row)
            ack = await self._work(order.client_order_id, arriving=True)
            return ack

    async def cancel(self, client_order_id: str) -> OrderUpdate:
        async with self._lock:
            with self.db.session(self.account) as s:
                row = self._row(s, client_order_id)
                if row.status in WORKING:
                    row.status, row.reason, row.updated_at = OrderStatus.CANCELED.value, "canceled by request", utcnow()
                update = self._update(row)
        if update.status is OrderStatus.CANCELED:
            await self._queue.put(update)
        return update

    async def replace(self, client_order_id: str, *, limit_price: Decimal | None = None,
                      quantity: int | None = None) -> OrderUpdate:
        async with self._lock:
            with self.db.session(self.account) as s:
                row = self._row(s, client_order_id)
                if row.status not in WORKING:
                    raise BrokerError(f"order {client_order_id} is {row.status}: it cannot be replaced")
                order = BrokerOrder.from_dict(row.order)
                if quantity is not None and quantity < row.filled_quantity:
                    raise BrokerError(f"cannot cut quantity below the {row.filled_quantity} already filled")
                row.order = order.with_price(limit_price, quantity).to_dict()
                row.resting, row.updated_at = False, utcnow()
            return await self._work(client_order_id, arriving=True)

    async def open_orders(self) -> list[OrderUpdate]:
        with self.db.session(self.account) as s:
            rows = s.execute(select(BrokerOrderRow).where(BrokerOrderRow.status.in_(WORKING))).scalars()
            return [self._update(r, with_order=True) for r in rows]

    async def order_status(self, client_order_id: str) -> OrderUpdate | None:
        with self.db.session(self.account) as s:
            row = s.get(BrokerOrderRow, client_order_id)
            return None if row is None else self._update(row, with_order=True)

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        with self.db.session(self.account) as s:
            q = select(BrokerExecRow).order_by(BrokerExecRow.ts, BrokerExecRow.exec_id)
            if since is not None:
                q = q.where(BrokerExecRow.ts >= since)
            return [fill_from_dict(r.fill) for r in s.execute(q).scalars()]

    async def order_executions(self, client_order_id: str) -> list[Fill]:
        """Executions of one order (the OMS catching up on a single order)."""
        with self.db.session(self.account) as s:
            q = select(BrokerExecRow).where(BrokerExecRow.client_order_id == client_order_id).order_by(BrokerExecRow.ts)
            return [fill_from_dict(r.fill) for r in s.execute(q).scalars()]

    async def events(self) -> AsyncIterator[BrokerEvent]:
        while True:
            yield await self._queue.get()

    def drain(self) -> list[BrokerEvent]:
        """Events queued so far, without waiting (the OMS applies them in order)."""
        out = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    async def poll(self) -> int:
        """Re-examine every working order against current quotes; returns how many filled/expired."""
        with self.db.session(self.account) as s:
            ids = list(s.execute(select(BrokerOrderRow.client_order_id)
                                 .where(BrokerOrderRow.status.in_(WORKING))).scalars())
        n = 0
        async with self._lock:
            for cid in ids:
                before = self._queue.qsize()
                await self._work(cid, arriving=False)
                n += self._queue.qsize() > before
        return n

    # --- account -------------------------------------------------------------------------------
    async def positions(self) -> list[BrokerPosition]:
        """Positions of the broker's own executions, after the OCC's expiry settlements.

        Expiry, exercise and assignment happen outside both books (at the clearing house); the
        paper world records them once, as ``EXP:`` events in the ledger database, and the
        simulated broker applies the same events to its own positions, as a real broker would.
        """
        book: dict[str, tuple[int, Decimal]] = {}

        def add(symbol: str, signed: int, price: Decimal) -> None:
            q, cost = book.get(symbol, (0, ZERO))
            book[symbol] = (q + signed, cost + signed * price)

        for f in await self.executions():
            for leg in f.legs:
                add(leg.symbol, leg.side.sign * leg.quantity, leg.price)
        with self.db.session(self.account) as s:
            settled = s.execute(select(TradeRow).where(TradeRow.exec_id.like("EXP:%"))
                                .order_by(TradeRow.id)).scalars()
            for t in settled:
                sign = {"BUY": 1, "SELL": -1}.get(t.action)
                if sign is None:  # EXPIRE/EXERCISE/ASSIGN close the option position whatever its side
                    held = book.get(t.symbol, (0, ZERO))[0]
                    sign = -1 if held > 0 else 1
                add(t.symbol, sign * t.quantity, D(t.price))
        return [BrokerPosition(sym, q, (cost / q).quantize(Decimal("0.0001")) if q else ZERO, self.account)
                for sym, (q, cost) in sorted(book.items()) if q != 0]

    async def account_summary(self) -> AccountSummary:
        cash = self.starting_cash
        for f in await self.executions():
            cash -= sum((leg.side.sign * leg.quantity * leg.price * _multiplier(leg.symbol) for leg in f.legs),
                        ZERO)
            cash -= f.commission + f.fees
        cash = cents(cash)
        return AccountSummary(self.account, net_liquidation=cash, cash=cash, buying_power=cash)

    async def what_if(self, order: BrokerOrder) -> WhatIf:
        books = await self._books(order)
        net = self.model.evaluate(books, quantity=order.quantity, order_type=OrderType.MARKET)
        lines = self._fee_lines(order, net) if net else []
        fees = self.fees.order_fees(lines) if lines else self.fees.order_fees([])
        cost = cents(max(net.net_price, ZERO) * 100 * order.quantity) if net else ZERO
        return WhatIf(initial_margin_change=cost, maintenance_margin_change=cost, commission=fees.total)

    # --- internals -----------------------------------------------------------------------------
    def _row(self, s: Any, client_order_id: str) -> BrokerOrderRow:
        row = s.get(BrokerOrderRow, client_order_id)
        if row is None:
            raise BrokerError(f"paper broker has no order {client_order_id}")
        return row

    def _update(self, row: BrokerOrderRow, with_order: bool = False) -> OrderUpdate:
        order = BrokerOrder.from_dict(row.order)
        return OrderUpdate(row.client_order_id, OrderStatus(row.status), aware(row.updated_at) or utcnow(),
                           row.broker_order_id, row.filled_quantity, order.quantity - row.filled_quantity,
                           None, row.reason, order if with_order else None)

    async def _books(self, order: BrokerOrder) -> list[LegBook]:
        quotes = await asyncio.gather(*(self.market.quote(leg.symbol) for leg in order.legs))
        return [LegBook.from_quote(leg.side, leg.ratio, q, leg.multiplier if leg.is_option else 1)
                for leg, q in zip(order.legs, quotes, strict=True)]

    def _fee_lines(self, order: BrokerOrder, res: FillResult, qty: int | None = None) -> list[FeeLine]:
        n = res.quantity if qty is None else qty
        return [FeeLine(leg.side, leg.ratio * n, p, leg.is_option, leg.multiplier if leg.is_option else 1)
                for leg, p in zip(order.legs, res.leg_prices, strict=True)]

    async def _work(self, client_order_id: str, *, arriving: bool) -> OrderUpdate:
        """Try to fill (or expire) one working order; persist and queue what happened."""
        with self.db.session(self.account) as s:
            # write first: takes SQLite's write lock / PostgreSQL's row lock before reading, so two
            # engine processes polling the same resting order can never both fill it
            s.execute(sql_update(BrokerOrderRow).where(BrokerOrderRow.client_order_id == client_order_id)
                      .values(updated_at=utcnow()))
            row = self._row(s, client_order_id)
            if row.status not in WORKING:
                return self._update(row)
            order = BrokerOrder.from_dict(row.order)
            now = self._now()
            if not arriving and order.tif is TimeInForce.DAY and self.option_close is not None:
                close = self.option_close(order, now)
                if close is not None and now >= close:
                    row.status, row.reason, row.updated_at = OrderStatus.EXPIRED.value, "day order expired at the close", utcnow()
                    update = self._update(row)
                    await self._queue.put(update)
                    return update
            try:
                books = await self._books(order)
            except Exception as err:  # no quote: the order keeps working (or IOC dies)
                books, reason = None, f"no quote: {err}"
            else:
                reason = ""
            result = None
            if books is not None:
                if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not row.triggered:
                    if self.model.stop_triggered(books, order.stop_price):
                        row.triggered = True
                    else:
                        books = None
                if books is not None:
                    kind = {OrderType.STOP: OrderType.MARKET, OrderType.STOP_LIMIT: OrderType.LIMIT}.get(
                        order.order_type, order.order_type)
                    result = self.model.evaluate(books, quantity=order.quantity - row.filled_quantity,
                                                 order_type=kind, limit_price=order.limit_price,
                                                 resting=row.resting and not arriving)
            fill = None
            if result is not None:
                fill = self._book_fill(s, row, order, result, now)
            remaining = order.quantity - row.filled_quantity
            if remaining and order.tif is TimeInForce.IOC:
                row.status = OrderStatus.CANCELED.value
                row.reason = reason or "IOC: unfilled remainder canceled"
            elif remaining:
                row.resting = True
            row.updated_at = utcnow()
            update = self._update(row)
        if fill is not None:
            await self._queue.put(fill)
        if arriving or update.status in (OrderStatus.CANCELED, OrderStatus.FILLED):
            await self._queue.put(update)
        return update

    def _book_fill(self, s: Any, row: BrokerOrderRow, order: BrokerOrder, res: FillResult,
                   now: datetime) -> Fill:
        earlier = list(s.execute(select(BrokerExecRow).where(
            BrokerExecRow.client_order_id == row.client_order_id)).scalars())
        before = [_fee_line(x) for r in earlier for x in r.fill["legs"]]
        due = self.fees.increment(before, self._fee_lines(order, res))
        seq = len(earlier)
        ts = now + timedelta(seconds=self.model.latency())
        fill = Fill(exec_id=f"{row.broker_order_id}.{seq + 1}", client_order_id=row.client_order_id,
                    ts=ts, quantity=res.quantity, net_price=res.net_price,
                    legs=tuple(LegFill(leg.symbol, leg.side, leg.ratio * res.quantity, p)
                               for leg, p in zip(order.legs, res.leg_prices, strict=True)),
                    commission=due.commission, fees=due.regulatory,
                    broker_order_id=row.broker_order_id, liquidity=res.liquidity)
        s.add(BrokerExecRow(exec_id=fill.exec_id, client_order_id=row.client_order_id, ts=ts,
                            fill=fill_to_dict(fill)))
        row.filled_quantity += res.quantity
        row.commission_paid += due.commission
        row.fees_paid += due.regulatory
        if row.filled_quantity >= order.quantity:
            row.status = OrderStatus.FILLED.value
        else:
            row.status = OrderStatus.PARTIALLY_FILLED.value
        return fill


