"""Crash safety: SIGKILL a real engine process inside the broker conversation, restart, reconcile.

No duplicated order, no lost fill: the broker's book has the order once, the ledger ends with the
order in the broker's state, every broker execution booked exactly once, positions matching.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from engine.core.errors import TicketError
from engine.core.principal import Principal
from engine.execution.models import BrokerExecRow, BrokerOrderRow, FillRow, OrderRow, TradeRow
from tests.integration.execution.procs import ROOT, child_env


@pytest.fixture
def backend():
    return {}


def run_child(point: str, env_home) -> str:
    env = child_env(env_home)
    proc = subprocess.run([sys.executable, "-m", "tests.integration.execution.crash_child", point], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    lines = proc.stdout.split()
    assert "survived" not in lines
    return lines[0]


def counts(db, ticket: str) -> dict:
    with db.session("paper") as s:
        n = lambda model, *w: s.execute(select(func.count()).select_from(model).where(*w)).scalar_one()  # noqa: E731
        return {"orders": n(OrderRow, OrderRow.id == ticket),
                "broker_orders": n(BrokerOrderRow, BrokerOrderRow.client_order_id == ticket),
                "broker_execs": n(BrokerExecRow, BrokerExecRow.client_order_id == ticket),
                "fills": n(FillRow, FillRow.order_id == ticket), "trades": n(TradeRow, TradeRow.order_id == ticket)}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after_submit", "after_fill"])
async def test_kill_between_submit_and_ack_or_fill_and_ledger(point, fresh_home, db, svc, audit):
    ticket = run_child(point, fresh_home)
    before = counts(db, ticket)
    assert before["broker_orders"] == 1 and before["broker_execs"] == 1 and before["fills"] == 0
    oms = await svc.manager("paper")  # a restart: the order manager reconciles on first use
    after = counts(db, ticket)
    assert after == {"orders": 1, "broker_orders": 1, "broker_execs": 1, "fills": 1, "trades": 2}
    order = oms.get(ticket)
    assert order["status"] == "filled" and order["filled_quantity"] == 2
    positions = {p["symbol"]: p["quantity"] for p in await svc.positions("paper")}
    assert positions == {"SPY261120P00640000": -2, "SPY261120P00635000": 2}
    assert await oms.position_diffs() == []
    assert (await oms.reconcile())["fills_booked"] == 0  # a second restart books nothing twice
    assert counts(db, ticket) == after
    with pytest.raises(TicketError, match="already confirmed"):
        await svc.confirm(ticket, Principal.person("alice", "cli"))
    assert "reconcile" in [r["kind"] for r in audit.tail(50)] and audit.verify()[0]


@pytest.mark.slow
async def test_kill_before_anything_reached_the_broker(fresh_home, db, svc):
    ticket = run_child("before_submit", fresh_home)
    assert counts(db, ticket)["orders"] == 1 and counts(db, ticket)["broker_orders"] == 0
    oms = await svc.manager("paper")
    order = oms.get(ticket)
    assert order["status"] == "rejected" and "not known to the broker" in order["reason"]
    assert await svc.positions("paper") == [] and counts(db, ticket)["broker_orders"] == 0
