"""Stateful property test: random sequences of orders, market moves, polls, cancels and replaces
through the real order manager, paper broker and SQLite ledger. After every step the ledger and
the broker agree, quantities add up and every recorded transition is a legal one."""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from engine.execution.broker import BrokerOrder, OrderLeg, OrderStatus, OrderType, Side, TimeInForce
from engine.execution.lifecycle import can_transition
from engine.execution.models import FillRow, OrderEventRow
from engine.execution.oms import OrderManager
from engine.execution.paper import PaperBroker
from engine.settings import load_settings
from engine.store.audit import AuditLog
from engine.store.db import Database
from tests.integration.execution.market import ScriptedMarket

SYMBOLS = ("SPY261120C00650000", "SPY261120P00640000")


class OrderFlow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.db = Database(load_settings(home=Path(self.tmp.name)))
        self.market = ScriptedMarket()
        for sym in SYMBOLS:
            self.market.set_book(sym, 2.00, 2.10, 5, 5)
        self.broker = PaperBroker(self.db, self.market)
        self.oms = OrderManager(self.db, AuditLog(self.db), self.broker, "paper")
        self.ids: list[str] = []

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.db.dispose()
        self.loop.close()
        self.tmp.cleanup()

    @rule(sym=st.sampled_from(SYMBOLS), side=st.sampled_from(list(Side)), qty=st.integers(1, 8),
          kind=st.sampled_from(["market", "limit", "ioc"]), cents=st.integers(-15, 15))
    def place(self, sym, side, qty, kind, cents):
        cid = f"O{len(self.ids)}"
        order_type = OrderType.MARKET if kind == "market" else OrderType.LIMIT
        limit = None if kind == "market" else (D("2.05") + D(cents) / 100) * (1 if side is Side.BUY else -1)
        order = BrokerOrder(cid, "paper", "SPY", (OrderLeg(sym, side),), qty, order_type, limit,
                            tif=TimeInForce.IOC if kind == "ioc" else TimeInForce.DAY)
        self.run(self.oms.place(order, principal="prop"))
        self.ids.append(cid)

    @rule(sym=st.sampled_from(SYMBOLS), bid=st.integers(150, 250), width=st.integers(1, 10), size=st.integers(1, 9))
    def move(self, sym, bid, width, size):
        self.market.set_book(sym, bid / 100, (bid + width) / 100, size, size)

    @rule()
    def poll(self):
        self.run(self.broker.poll())
        self.run(self.oms.pump())

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def cancel(self, data):
        self.run(self.oms.cancel(data.draw(st.sampled_from(self.ids)), actor="prop"))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), cents=st.integers(-10, 10))
    def replace(self, data, cents):
        cid = data.draw(st.sampled_from(self.ids))
        o = self.oms.get(cid)
        if OrderStatus(o["status"]) in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED) and o["limit_price"]:
            self.run(self.oms.replace(cid, limit_price=D(o["limit_price"]) + D(cents) / 100, actor="prop"))

    @invariant()
    def ledger_matches_broker(self):
        for cid in self.ids:
            ours = self.oms.get(cid)
            theirs = self.run(self.broker.order_status(cid))
            assert ours["filled_quantity"] == theirs.filled_quantity
            assert 0 <= ours["filled_quantity"] <= ours["quantity"]
            assert (ours["status"] == "filled") == (ours["filled_quantity"] == ours["quantity"])
            if theirs.status.is_terminal:
                assert ours["status"] == theirs.status.value
        assert self.run(self.oms.position_diffs()) == []

    @invariant()
    def fills_add_up_and_transitions_are_legal(self):
        with self.db.session("paper") as s:
            for cid in self.ids:
                fills = s.execute(select(FillRow.quantity).where(FillRow.order_id == cid)).scalars().all()
                assert sum(fills) == self.oms.get(cid)["filled_quantity"]
                events = s.execute(select(OrderEventRow).where(OrderEventRow.order_id == cid)
                                   .order_by(OrderEventRow.id)).scalars().all()
                for before, after in zip(events, events[1:], strict=False):
                    assert after.from_status == before.to_status
                    assert can_transition(OrderStatus(after.from_status), OrderStatus(after.to_status))


OrderFlow.TestCase.settings = settings(max_examples=15, stateful_step_count=12, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
test_order_flow = OrderFlow.TestCase
