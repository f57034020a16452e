"""The IB adapter under the execution part's real order manager: intent → IB → fills booked in
the ledger; a fill while disconnected is booked after the reconnect, and then the adapter's
reconciliation and the OMS's agree that nothing is missing. On SQLite and on PostgreSQL."""

from __future__ import annotations

from engine.execution.broker import OrderStatus
from engine.execution.oms import OrderManager
from engine.store.audit import AuditLog
from tests.integration.ib.conftest import occ
from tests.integration.ib.stage_like import stage_like
from tests.integration.ib.test_ib_reconnect import VERTICAL


async def test_orders_through_the_oms_book_fills_also_after_a_reconnect(ledger_broker, tws, ledger_db):
    broker, db = ledger_broker, ledger_db
    oms = OrderManager(db, AuditLog(db), broker, "paper")
    await oms.reconcile()
    spread = await stage_like(tws, {**VERTICAL, "limit_price": "1.50"}, "oms-1")
    placed = await oms.place(spread, principal="person:alice@cli")
    assert placed["status"] == OrderStatus.FILLED.value and placed["filled_quantity"] == 2
    assert placed["broker"] == "ib" and placed["broker_order_id"]

    resting = await stage_like(tws, VERTICAL, "oms-2")
    assert (await oms.place(resting, principal="person:alice@cli"))["status"] == OrderStatus.ACCEPTED.value

    await tws.drop_clients()
    tws.fill("oms-2")
    assert await broker.wait_connected(5)
    report = broker.reports[-1]
    assert [f.client_order_id for f in report.missing_fills] == ["oms-2"]
    assert [(d.client_order_id, d.kind) for d in report.order_diffs] == [("oms-2", "filled_while_away")]

    assert await oms.pump() >= 2                     # the emitted fill and FILLED state
    row = oms.get("oms-2")
    assert row["status"] == OrderStatus.FILLED.value and row["filled_quantity"] == 2
    assert await oms.position_diffs() == []
    final = await broker.reconcile("manual")
    assert final.clean, final.to_dict()
    positions = {p.symbol: p.quantity for p in await broker.positions()}
    assert positions == {occ("SPY", "C", 590): 4, occ("SPY", "C", 595): -4}
