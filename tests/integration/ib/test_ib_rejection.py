"""IB refuses orders: the adapter reports REJECTED with IB's reason, and nothing is booked."""

from __future__ import annotations

import asyncio

import pytest

from engine.core.errors import UnknownSymbol
from engine.execution.broker import OrderStatus, OrderUpdate
from tests.integration.ib.conftest import occ
from tests.integration.ib.stage_like import stage_like


async def next_update(events, client_order_id: str) -> OrderUpdate:
    async with asyncio.timeout(3):
        async for ev in events:
            if isinstance(ev, OrderUpdate) and ev.client_order_id == client_order_id:
                return ev
    raise AssertionError("no update")


async def test_margin_rejection_201_is_rejected_with_ib_reason(broker, tws):
    # 60 naked SPY 595 calls need 60 × 20 % × 595 × 100 ≈ $714k of margin on a $100k account
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 60, "limit_price": "-0.20",
                                   "legs": [{"right": "call", "strike": 595, "side": "sell"}]}, "naked-1")
    events = broker.events()
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.REJECTED
    assert ack.reason.startswith("IB 201: Order rejected") and "INITIAL MARGIN" in ack.reason
    published = await next_update(events, "naked-1")
    assert published.status is OrderStatus.REJECTED and published.reason == ack.reason
    assert tws.executions == [] and tws.positions == {}
    assert await broker.open_orders() == []
    assert await broker.positions() == []


async def test_what_if_shows_the_margin_the_rejection_is_about(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 60, "limit_price": "-0.20",
                                   "legs": [{"right": "call", "strike": 595, "side": "sell"}]}, "naked-2")
    preview = await broker.what_if(order)
    assert preview.initial_margin_change > 100_000  # more than the whole account
    assert preview.equity_with_loan_after is not None
    assert any(f[0] == "3" and "naked-2" in f for _, f in tws.requests)  # it did go to IB, as a what-if
    assert all(o.order_ref != "naked-2" for o in tws.orders.values())  # a what-if books no order


async def test_off_tick_index_option_price_is_rejected_110(broker, tws):
    # SPXW above $3 trades in nickels: 12.32 is off the tick
    order = await stage_like(tws, {"underlying": "SPX", "quantity": 1, "limit_price": "12.32",
                                   "legs": [{"right": "call", "strike": 5900, "side": "buy"}]}, "spx-1", root="SPXW")
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.REJECTED
    assert ack.reason.startswith("IB 110:") and "minimum price variation" in ack.reason


async def test_unknown_contract_is_rejected_before_anything_is_sent(broker, tws):
    from decimal import Decimal

    from engine.execution.broker import BrokerOrder, OrderLeg, Side

    order = BrokerOrder("nope-1", "paper", "SPY", (OrderLeg(occ("SPY", "C", 650), Side.BUY),), 1,
                        limit_price=Decimal("0.05"))
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.REJECTED and "SPY261120C00650000" in ack.reason
    assert not [f for _, f in tws.requests if f[0] == "3"]
    with pytest.raises(UnknownSymbol, match="SPY261120C00650000"):
        await broker.what_if(order)


async def test_not_connected_is_a_rejection_not_a_send(broker, tws):
    await broker.disconnect()
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "1.64",
                                   "legs": [{"right": "call", "strike": 590, "side": "buy"}]}, "off-1")
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.REJECTED and "not connected" in ack.reason
    assert not [f for _, f in tws.requests if f[0] == "3"]


async def test_a_second_connection_with_the_same_client_id_is_refused_with_ib_s_reason(broker, tws):
    from engine.core.errors import BrokerError
    from engine.execution.ib import IBBroker

    twin = IBBroker(host="127.0.0.1", port=tws.port, client_id=broker.client_id, ledger="paper",
                    connect_timeout=0.5)
    with pytest.raises(BrokerError, match="326: Unable to connect as the client id 21 is already in use"):
        await twin.connect()
    assert broker.connected and tws.connected_clients == [21]


async def test_an_order_ib_cannot_express_is_rejected_locally(broker, tws):
    from decimal import Decimal

    from engine.execution.broker import BrokerOrder, OrderLeg, Side

    # a single sold put "for a debit" (positive net): no IB order means that
    order = BrokerOrder("odd-1", "paper", "SPY", (OrderLeg(occ("SPY", "P", 590), Side.SELL),), 1,
                        limit_price=Decimal("1.45"))
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.REJECTED and "negative (credit)" in ack.reason
    assert not [f for _, f in tws.requests if f[0] == "3"]
