"""Every status path the adapter publishes is legal in the order state machine
(:mod:`engine.execution.lifecycle`), starting from SUBMITTED (where the OMS puts an order before
calling ``submit``), across fills, partial fills, cancels, refusals, IOC expiry and reconnects."""

from __future__ import annotations

import asyncio

from engine.execution.broker import OrderStatus, OrderUpdate
from engine.execution.lifecycle import can_transition
from tests.integration.ib.stage_like import stage_like

SPREAD = [{"right": "call", "strike": 590, "side": "buy"}, {"right": "call", "strike": 595, "side": "sell"}]


async def test_published_status_paths_are_legal(broker, tws):
    events = broker.events()

    async def place(coid: str, limit: str, quantity: int = 2, tif: str = "day", legs=SPREAD):
        order = await stage_like(tws, {"underlying": "SPY", "quantity": quantity, "limit_price": limit,
                                       "tif": tif, "legs": legs}, coid)
        return await broker.submit(order)

    await place("now", "1.50")                                   # fills at once
    await place("later", "0.60", 3)                              # rests, fills in two parts
    tws.fill("later", 1)
    tws.fill("later")
    await place("part-cancel", "0.60", 3)                        # partly filled, then canceled
    tws.fill("part-cancel", 1)
    await broker.cancel("part-cancel")
    await place("refused", "-0.20", 60, legs=[{"right": "call", "strike": 595, "side": "sell"}])
    await place("ioc", "0.10", 1, "ioc")
    await place("away", "0.60")                                  # ended by IB while disconnected
    await tws.drop_clients()
    tws.close_order("away", "Inactive", "Rejected by exchange")
    assert await broker.wait_connected(5)
    await asyncio.sleep(0.1)

    published = []
    while not events.queue.empty():                              # everything so far, in order
        published.append(events.queue.get_nowait())
    paths: dict[str, list[OrderStatus]] = {}
    for ev in published:
        if isinstance(ev, OrderUpdate):
            path = paths.setdefault(ev.client_order_id, [OrderStatus.SUBMITTED])
            if ev.status is not path[-1] or ev.status is OrderStatus.PARTIALLY_FILLED:
                path.append(ev.status)
    for coid, path in paths.items():
        for a, b in zip(path, path[1:], strict=False):
            assert a is b or can_transition(a, b), f"{coid}: {a.value} → {b.value} in {[s.value for s in path]}"
    finals = {coid: path[-1] for coid, path in paths.items()}
    assert finals == {"now": OrderStatus.FILLED, "later": OrderStatus.FILLED, "part-cancel": OrderStatus.CANCELED,
                      "refused": OrderStatus.REJECTED, "ioc": OrderStatus.EXPIRED, "away": OrderStatus.CANCELED}
    assert OrderStatus.PARTIALLY_FILLED in paths["later"] and OrderStatus.PENDING_CANCEL in paths["part-cancel"]
