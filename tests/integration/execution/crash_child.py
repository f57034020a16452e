"""Child process of the crash tests: stage and confirm one order, then die by SIGKILL at a chosen
point inside the broker conversation (``before_submit``, ``after_submit``, ``after_fill``).

The killing wrapper is the test's broker seen through the ``Broker`` protocol: it forwards every
call to the real paper broker and kills its own process at the given point, like a power cut.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from engine.core.principal import Principal
from engine.execution.broker import Fill
from engine.execution.paper import PaperBroker
from engine.execution.service import ExecutionService
from engine.settings import load_settings
from engine.store.audit import AuditLog
from engine.store.db import Database
from tests.integration.execution.market import ScriptedMarket

REQUEST = {"underlying": "SPY", "quantity": 2, "order_type": "market",
           "legs": [{"right": "put", "strike": 640, "side": "sell"}, {"right": "put", "strike": 635, "side": "buy"}]}


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class KillingBroker:
    def __init__(self, inner: PaperBroker, point: str) -> None:
        self.inner, self.point = inner, point
        self.name, self.account = inner.name, inner.account

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def connected(self) -> bool:
        return self.inner.connected

    async def submit(self, order):
        if self.point == "before_submit":
            die()
        ack = await self.inner.submit(order)
        if self.point == "after_submit":
            die()  # the broker has the order (and filled it); we never see the acknowledgement
        return ack

    def _handing_over(self, events) -> None:
        if self.point == "after_fill" and any(isinstance(e, Fill) for e in events):
            die()  # the fill exists at the broker and reached us; our ledger never wrote it

    def drain(self):
        events = self.inner.drain()
        self._handing_over(events)
        return events

    async def executions(self, since=None):
        fills = await self.inner.executions(since)
        self._handing_over(fills)
        return fills


async def main(point: str) -> None:
    settings = load_settings()
    db = Database(settings)
    market = ScriptedMarket()
    svc = ExecutionService(settings, db=db, market=market, audit=AuditLog(db))
    inner = PaperBroker(db, market, fill_model=svc.model, fees=svc.fees,
                        starting_cash=settings.risk.paper_starting_cash)
    svc._brokers["paper"] = KillingBroker(inner, point)
    person = Principal.person("alice", "cli")
    ticket = await svc.stage(REQUEST, person)
    print(ticket.ticket_id, flush=True)
    await svc.confirm(ticket.ticket_id, person)
    print("survived", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
