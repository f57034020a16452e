"""The paper broker against a scripted market: IOC, stops, DAY expiry, replace, cancel, partials."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.core.clock import NY
from engine.core.errors import BrokerError
from engine.execution.broker import (
    BrokerOrder,
    Fill,
    OrderLeg,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from engine.execution.paper import PaperBroker

CALL = "SPY261120C00650000"


@pytest.fixture
def backend():
    return {}


@pytest.fixture
def broker(db, market):
    def close(order, now):
        return datetime(2026, 11, 20, 16, 0, tzinfo=NY)

    return PaperBroker(db, market, option_close=close)


def order(cid: str, qty: int = 1, kind=OrderType.LIMIT, limit=None, stop=None, tif=TimeInForce.DAY, side=Side.BUY):
    return BrokerOrder(cid, "paper", "SPY", (OrderLeg(CALL, side),), qty, kind,
                       None if limit is None else D(limit), None if stop is None else D(stop), tif)


async def test_marketable_order_fills_with_fees_and_events(broker, market):
    market.set_book(CALL, 2.00, 2.10, 5, 5)
    ack = await broker.submit(order("A", 3, OrderType.MARKET))
    assert ack.status is OrderStatus.FILLED and ack.filled_quantity == 3 and ack.broker_order_id
    events = broker.drain()
    fills = [e for e in events if isinstance(e, Fill)]
    assert len(fills) == 1 and fills[0].net_price == D("2.10") and fills[0].commission == D("1.95")
    assert fills[0].fees > 0 and fills[0].ts > market.clock.now()  # latency moves the fill time
    assert isinstance(events[-1], OrderUpdate)


async def test_ioc_cancels_the_unfilled_rest(broker, market):
    market.set_book(CALL, 2.00, 2.10, 2, 2)
    ack = await broker.submit(order("B", 5, limit="2.10", tif=TimeInForce.IOC))
    assert ack.status is OrderStatus.CANCELED and ack.filled_quantity == 2 and "IOC" in ack.reason


async def test_stop_triggers_later_and_fills_as_market(broker, market):
    market.set_book(CALL, 2.00, 2.10)
    ack = await broker.submit(order("C", 1, OrderType.STOP, stop="2.50"))
    assert ack.status is OrderStatus.ACCEPTED
    market.set_book(CALL, 2.50, 2.60)
    await broker.poll()
    assert (await broker.order_status("C")).status is OrderStatus.FILLED
    assert (await broker.executions())[0].net_price == D("2.60")


async def test_day_order_expires_at_the_close(broker, market):
    market.set_book(CALL, 2.00, 2.10)
    await broker.submit(order("D", 1, limit="1.00"))
    market.clock.set(datetime(2026, 11, 20, 16, 1, tzinfo=NY))
    await broker.poll()
    st = await broker.order_status("D")
    assert st.status is OrderStatus.EXPIRED and await broker.open_orders() == []


async def test_replace_reprices_and_cancel_stops(broker, market):
    market.set_book(CALL, 2.00, 2.10)
    await broker.submit(order("E", 2, limit="1.90"))
    up = await broker.replace("E", limit_price=D("2.10"))
    assert up.status is OrderStatus.FILLED
    await broker.submit(order("F", 1, limit="1.50"))
    assert (await broker.cancel("F")).status is OrderStatus.CANCELED
    with pytest.raises(BrokerError):
        await broker.replace("F", limit_price=D("2"))
    with pytest.raises(BrokerError):
        await broker.cancel("nope")


async def test_positions_and_account_from_the_brokers_own_book(broker, market):
    market.set_book(CALL, 2.00, 2.10)
    await broker.submit(order("G", 2, OrderType.MARKET))
    await broker.submit(order("H", 1, OrderType.MARKET, side=Side.SELL))
    pos = await broker.positions()
    assert [(p.symbol, p.quantity) for p in pos] == [(CALL, 1)]
    acct = await broker.account_summary()
    assert acct.cash < D("100000") - D("10")  # paid 2 x 210, got 200 back, minus fees
    wi = await broker.what_if(order("I", 1, OrderType.MARKET))
    assert wi.initial_margin_change == D("210.00") and wi.commission > 0


async def test_resting_limit_is_not_filled_by_an_unrelated_move(broker, market):
    market.set_book(CALL, 2.00, 2.10)
    await broker.submit(order("J", 1, limit="1.95"))
    market.clock.advance(timedelta(minutes=1))
    market.set_book(CALL, 1.97, 2.02)
    assert await broker.poll() == 0
    assert (await broker.order_status("J")).status is OrderStatus.ACCEPTED


@pytest.mark.slow
async def test_two_engines_polling_one_resting_order_fill_it_once(broker, market, fresh_home, db):
    from tests.integration.execution.procs import run_together

    market.set_book(CALL, 2.00, 2.10)
    await broker.submit(order("K", 3, limit="1.90"))
    results = run_together("tests.integration.execution.poll_child", [CALL], 4, fresh_home)
    assert all(code == 0 for code, _, _ in results), [err[-500:] for _, _, err in results]
    assert sorted(int(out.strip()) for _, out, _ in results) == [0, 0, 0, 1]
    fills = await broker.executions()
    assert len(fills) == 1 and fills[0].quantity == 3 and fills[0].net_price == D("1.90")
