"""Disconnects: the adapter reconnects with backoff and reconciles IB against the ledger,
reporting (and emitting) what happened while it was away."""

from __future__ import annotations

import asyncio
import time

from engine.execution.broker import Fill, OrderStatus, OrderUpdate
from engine.execution.ib import make_ib_broker
from engine.settings import load_settings
from engine.store.audit import AuditLog
from tests.integration.ib.conftest import FAST_BACKOFF, occ
from tests.integration.ib.ledger_book import record_fill, record_order
from tests.integration.ib.stage_like import stage_like

VERTICAL = {"underlying": "SPY", "quantity": 2, "limit_price": "0.60",
            "legs": [{"right": "call", "strike": 590, "side": "buy"},
                     {"right": "call", "strike": 595, "side": "sell"}]}


async def collect(events, n_seconds: float = 0.3, until=None) -> list:
    """Events for ``n_seconds``, or up to (and with) the first for which ``until`` is true."""
    out = []
    try:
        async with asyncio.timeout(n_seconds):
            async for ev in events:
                out.append(ev)
                if until is not None and until(ev):
                    break
    except TimeoutError:
        pass
    return out


def filled(coid: str):
    return lambda e: isinstance(e, OrderUpdate) and e.client_order_id == coid and e.status is OrderStatus.FILLED


async def test_fill_while_disconnected_is_reported_and_emitted_on_reconnect(ledger_broker, tws, ledger_db):
    broker, db = ledger_broker, ledger_db
    audit = AuditLog(db)
    # an earlier fill the ledger has booked, so the reconciliation must not report it again
    done = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "1.64",
                                  "legs": [{"right": "call", "strike": 590, "side": "buy"}]}, "early-1")
    events = broker.events()
    assert (await broker.submit(done)).status is OrderStatus.FILLED
    record_order(db, done, OrderStatus.ACCEPTED)
    for ev in await collect(events, 3, filled("early-1")):
        if isinstance(ev, Fill):
            record_fill(db, "paper", ev)

    # a debit vertical resting below the natural 1.44: working at IB, recorded as such in the ledger
    order = await stage_like(tws, VERTICAL, "vert-1")
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.ACCEPTED
    record_order(db, order, ack.status, ack.broker_order_id)

    await tws.drop_clients()                       # the gateway goes away …
    executions = tws.fill("vert-1")                # … and the order fills meanwhile
    assert {e.shares for e in executions} == {2}
    assert not broker.connected

    assert await broker.wait_connected(5)
    assert broker.reconnects == 1 and tws.connected_clients == [21]
    report = broker.reports[-1]
    assert report.reason == "reconnect" and not report.clean and not report.needs_attention
    (missing,) = report.missing_fills
    assert missing.client_order_id == "vert-1" and missing.quantity == 2
    assert str(missing.net_price) == "1.44"  # natural debit: 1.64 - 0.20
    assert [(x.symbol, x.side.value, x.quantity) for x in missing.legs] == [
        (occ("SPY", "C", 590), "buy", 2), (occ("SPY", "C", 595), "sell", 2)]
    assert [(d.client_order_id, d.kind, d.ledger_status, d.broker_filled) for d in report.order_diffs] == [
        ("vert-1", "filled_while_away", "accepted", 2)]
    diffs = {p.symbol: (p.ledger_quantity, p.broker_quantity, p.explained) for p in report.position_diffs}
    assert diffs == {occ("SPY", "C", 590): (1, 3, True), occ("SPY", "C", 595): (0, -2, True)}

    # the audit log holds the disconnect and the same report; the chain is intact
    kinds = [r["kind"] for r in audit.tail(20)]
    assert "broker.disconnected" in kinds and kinds.count("broker.reconcile") == 2
    rec = audit.tail(1, kind="broker.reconcile")[0]
    assert rec["data"]["missing_fills"][0]["exec_id"] == missing.exec_id and rec["ledger"] == "paper"
    assert rec["data"]["order_diffs"][0]["kind"] == "filled_while_away"
    assert audit.verify()[0]

    # the missing fill, then the order's FILLED state, arrive on the event stream for the OMS
    evs = [e for e in await collect(events, 3, filled("vert-1")) if getattr(e, "client_order_id", "") == "vert-1"]
    assert [type(e).__name__ for e in evs][-2:] == ["Fill", "OrderUpdate"]
    assert evs[-2].exec_id == missing.exec_id and evs[-1].status is OrderStatus.FILLED
    assert evs[-1].filled_quantity == 2

    # once the ledger books it, the next reconciliation is clean
    record_fill(db, "paper", evs[-2])
    assert (await broker.reconcile("manual")).clean


async def test_reconnects_with_backoff_while_the_gateway_refuses(broker, tws):
    started = time.monotonic()
    await tws.pause()                              # drop + refuse new connections
    await asyncio.sleep(0.5)                       # several attempts fail meanwhile
    assert not broker.connected and "cannot reach" in broker.last_error
    await tws.resume()
    assert await broker.wait_connected(5)
    assert broker.reconnects == 1 and time.monotonic() - started >= 0.5
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "1.64",
                                   "legs": [{"right": "call", "strike": 590, "side": "buy"}]}, "after-1")
    assert (await broker.submit(order)).status is OrderStatus.FILLED


async def test_a_restarted_engine_reconciles_from_the_ledger(tws, db):
    """The engine dies with an order working; it fills; a NEW broker instance (nothing in memory)
    learns about the fill from IB and the order from the ledger."""
    settings = load_settings(ib_port_paper=tws.port, ib_client_id=21)
    first = make_ib_broker(settings, "paper", db=db, backoff=FAST_BACKOFF)
    await first.connect()
    order = await stage_like(tws, VERTICAL, "vert-2")
    ack = await first.submit(order)
    record_order(db, order, ack.status, ack.broker_order_id)
    await first.disconnect()                       # the engine is gone …
    tws.fill("vert-2")                             # … the order fills at IB

    second = make_ib_broker(settings, "paper", db=db, backoff=FAST_BACKOFF)
    events = second.events()
    await second.connect()
    try:
        report = second.reports[-1]
        assert report.reason == "connect"
        assert [f.client_order_id for f in report.missing_fills] == ["vert-2"]
        assert [d.kind for d in report.order_diffs] == ["filled_while_away"]
        fills = [e for e in await collect(events, 3, filled("vert-2")) if isinstance(e, Fill)]
        assert [(f.client_order_id, f.quantity, str(f.net_price)) for f in fills] == [("vert-2", 2, "1.44")]
        assert {x.symbol for x in fills[0].legs} == {occ("SPY", "C", 590), occ("SPY", "C", 595)}
        # the same client order id is not placed a second time
        again = await second.submit(order)
        assert again.status is OrderStatus.FILLED
        assert sum(1 for o in tws.orders.values() if o.order_ref == "vert-2") == 1
    finally:
        await second.disconnect()


async def test_an_order_still_working_after_reconnect_is_adopted(db_broker, tws, db):
    broker = db_broker
    order = await stage_like(tws, VERTICAL, "vert-3")
    ack = await broker.submit(order)
    record_order(db, order, ack.status, ack.broker_order_id)
    await tws.drop_clients()
    assert await broker.wait_connected(5)
    assert broker.reports[-1].clean
    assert [u.client_order_id for u in await broker.open_orders()] == ["vert-3"]
    # and it is still ours to manage
    assert (await broker.cancel("vert-3")).status is OrderStatus.CANCELED
    assert isinstance(ack, OrderUpdate)


async def test_an_order_placed_outside_the_engine_needs_attention(broker, tws):
    from ib_async import IB, LimitOrder, Option

    other = IB()  # someone trading the same account by hand (another API client here)
    await other.connectAsync("127.0.0.1", tws.port, clientId=99, timeout=3)
    try:
        (put,) = await other.qualifyContractsAsync(Option("SPY", "20261120", 585, "P", "SMART", tradingClass="SPY"))
        other.placeOrder(put, LimitOrder("SELL", 5, 0.40, orderRef="by-hand"))
        await asyncio.sleep(0.1)
        report = await broker.reconcile("manual")
        assert [(d.client_order_id, d.kind) for d in report.order_diffs] == [("by-hand", "unknown_in_ledger")]
        assert report.needs_attention
        # the engine's own view of its orders is unchanged; the foreign order is reported, not adopted as ours
        assert (await broker.order_status("by-hand")).order.legs[0].side.value == "sell"
    finally:
        other.disconnect()


async def test_a_lost_acknowledgement_is_recovered_by_reconciliation(db_broker, tws, db):
    """The order reaches IB but its acknowledgement does not reach us: ``submit`` answers
    SUBMITTED after the ack timeout (never a guess), and the reconnect tells the truth."""
    broker = db_broker
    broker.ack_timeout = 0.3
    tws.mute_acks = True
    order = await stage_like(tws, VERTICAL, "lost-1")
    events = broker.events()
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.SUBMITTED
    record_order(db, order, ack.status)
    tws.mute_acks = False
    await tws.drop_clients()
    assert await broker.wait_connected(5)
    assert broker.reports[-1].clean                 # working at IB, SUBMITTED (working) in the ledger
    ups = [e for e in await collect(events, 3, lambda e: isinstance(e, OrderUpdate) and e.client_order_id == "lost-1")
           if isinstance(e, OrderUpdate) and e.client_order_id == "lost-1"]
    assert ups and ups[-1].status is OrderStatus.ACCEPTED and ups[-1].broker_order_id
    assert (await broker.submit(order)).status is OrderStatus.ACCEPTED   # and still no second order
    assert sum(1 for o in tws.orders.values() if o.order_ref == "lost-1") == 1


async def test_connectivity_restored_1101_triggers_a_reconciliation(db_broker, tws, db):
    """The socket stays up but the gateway lost IB's servers: a fill's report is lost; the
    1101 "restored, data lost" notice makes the adapter look again and find it."""
    broker = db_broker
    order = await stage_like(tws, VERTICAL, "blip-1")
    ack = await broker.submit(order)
    record_order(db, order, ack.status, ack.broker_order_id)
    events = broker.events()
    tws.notify(1100, "Connectivity between IB and Trader Workstation has been lost.")
    tws.mute_reports = True
    tws.fill("blip-1")
    tws.mute_reports = False
    tws.notify(1101, "Connectivity between IB and Trader Workstation has been restored - data lost.")
    evs = [e for e in await collect(events, 3, filled("blip-1")) if getattr(e, "client_order_id", "") == "blip-1"]
    assert [type(e).__name__ for e in evs][-2:] == ["Fill", "OrderUpdate"] and evs[-1].status is OrderStatus.FILLED
    report = broker.reports[-1]
    assert report.reason == "restored-1101" and [f.client_order_id for f in report.missing_fills] == ["blip-1"]
    assert broker.connected and broker.reconnects == 0


async def test_an_order_ib_canceled_while_we_were_away_is_settled_from_completed_orders(db_broker, tws, db):
    broker = db_broker
    order = await stage_like(tws, VERTICAL, "gone-1")
    ack = await broker.submit(order)
    record_order(db, order, ack.status, ack.broker_order_id)
    events = broker.events()
    await tws.drop_clients()
    tws.close_order("gone-1", "Cancelled", "Cancelled by System")   # e.g. IB's own risk desk
    assert await broker.wait_connected(5)
    update = next(e for e in await collect(events, 3, lambda e: isinstance(e, OrderUpdate))
                  if isinstance(e, OrderUpdate))
    assert (update.client_order_id, update.status) == ("gone-1", OrderStatus.CANCELED)
    assert "canceled by Interactive Brokers while we were away" in update.reason
    (diff,) = broker.reports[-1].order_diffs
    assert (diff.kind, diff.ledger_status, diff.broker_status) == ("closed_while_away", "accepted", "canceled")
    assert not broker.reports[-1].needs_attention


async def test_the_oms_closes_an_order_ib_ended_while_the_engine_was_down(tws, db):
    """IB made an accepted order inactive while no engine ran; the restarted engine learns it from
    IB's completed orders. It was accepted once, so it ends CANCELED (the state machine allows no
    ACCEPTED → REJECTED), with IB's reason."""
    from engine.execution.oms import OrderManager

    settings = load_settings(ib_port_paper=tws.port, ib_client_id=21)
    first = make_ib_broker(settings, "paper", db=db, backoff=FAST_BACKOFF)
    await first.connect()
    oms = OrderManager(db, AuditLog(db), first, "paper")
    resting = await stage_like(tws, VERTICAL, "down-1")
    assert (await oms.place(resting, principal="person:alice@cli"))["status"] == "accepted"
    await first.disconnect()
    tws.close_order("down-1", "Inactive", "Rejected by exchange")

    second = make_ib_broker(settings, "paper", db=db, backoff=FAST_BACKOFF)
    await second.connect()
    try:
        assert [d.kind for d in second.reports[-1].order_diffs] == ["closed_while_away"]
        oms = OrderManager(db, AuditLog(db), second, "paper")
        await oms.reconcile()
        row = oms.get("down-1")
        assert row["status"] == "canceled" and "inactive at Interactive Brokers" in row["reason"]
    finally:
        await second.disconnect()


async def test_a_hung_gateway_is_detected_by_the_heartbeat_and_reconnected(tws, db):
    settings = load_settings(ib_port_paper=tws.port, ib_client_id=22)
    b = make_ib_broker(settings, "paper", db=db, backoff=FAST_BACKOFF)
    b.heartbeat, b.ack_timeout = 0.1, 0.3
    await b.connect()
    try:
        tws.freeze()                                   # socket open, no answers
        async with asyncio.timeout(3):
            while b.connected:                         # the heartbeat notices within ~0.4 s
                await asyncio.sleep(0.02)
        assert await b.wait_connected(5) and b.reconnects == 1
        assert "broker.stalled" in [r["kind"] for r in AuditLog(db).tail(20)]
        order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "1.64",
                                       "legs": [{"right": "call", "strike": 590, "side": "buy"}]}, "hb-1")
        assert (await b.submit(order)).status is OrderStatus.FILLED
    finally:
        await b.disconnect()


async def test_an_order_lost_before_reaching_ib_ends_rejected(db_broker, tws, db):
    broker = db_broker
    broker.ack_timeout = 0.3
    tws.swallow_orders = True
    order = await stage_like(tws, VERTICAL, "void-1")
    assert (await broker.submit(order)).status is OrderStatus.SUBMITTED   # no answer: no guess
    record_order(db, order, OrderStatus.SUBMITTED)
    tws.swallow_orders = False
    await tws.drop_clients()
    assert await broker.wait_connected(5)
    final = await broker.order_status("void-1")
    assert final.status is OrderStatus.REJECTED and "never acknowledged" in final.reason
    (diff,) = broker.reports[-1].order_diffs
    assert (diff.kind, diff.broker_status) == ("closed_while_away", "rejected")
    assert all(o.order_ref != "void-1" for o in tws.orders.values())
