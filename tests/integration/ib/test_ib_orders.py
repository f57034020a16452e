"""Happy paths of the IB adapter: the production ``IBBroker`` over TCP to the loopback TWS,
driven by the real ``ib_async`` client."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from engine.execution.broker import Broker, Fill, OrderStatus, OrderUpdate, Side
from tests.integration.ib.conftest import occ
from tests.integration.ib.stage_like import stage_like

IRON_CONDOR = {"underlying": "SPY", "expiry": "0dte", "quantity": 3, "order_type": "limit",
               "limit_price": "-1.00", "account": "paper",
               "legs": [{"right": "put", "strike": 580, "side": "buy"},
                        {"right": "put", "strike": 585, "side": "sell"},
                        {"right": "call", "strike": 595, "side": "sell"},
                        {"right": "call", "strike": 600, "side": "buy"}]}


def placed_orders(tws):
    """placeOrder requests (message id 3) the server received."""
    return [f for _, f in tws.requests if f[0] == "3"]


async def drain(events, until, timeout: float = 3.0) -> list:
    """Events until ``until(event)`` is true (inclusive)."""
    out = []
    async with asyncio.timeout(timeout):
        async for ev in events:
            out.append(ev)
            if until(ev):
                return out
    return out


async def test_broker_satisfies_protocol_and_connects(broker, tws):
    assert isinstance(broker, Broker)
    assert broker.connected and broker.ib_account == "DU7654321"
    assert tws.connected_clients == [21]
    report = broker.reports[-1]
    assert report.reason == "connect" and report.clean


async def test_contract_qualification_routes_etf_smart_and_index_cboe(broker, tws):
    spy, spxw, vix = await broker.contracts.qualify(
        broker.ib, [occ("SPY", "C", 590), occ("SPXW", "C", 5900), "VIX261118C00020000"])
    assert (spy.exchange, spy.tradingClass, spy.symbol, spy.currency) == ("SMART", "SPY", "SPY", "USD")
    assert (spxw.exchange, spxw.tradingClass, spxw.symbol) == ("CBOE", "SPXW", "SPX")
    assert (vix.exchange, vix.tradingClass, vix.symbol) == ("CBOE", "VIX", "VIX")
    assert all(c.conId for c in (spy, spxw, vix)) and len({spy.conId, spxw.conId, vix.conId}) == 3
    asked = [(f[4], f[5], f[10], f[14]) for _, f in tws.requests if f[0] == "9"]  # symbol, secType, exchange, class
    assert ("SPX", "OPT", "CBOE", "SPXW") in asked and ("SPY", "OPT", "SMART", "SPY") in asked


async def test_stage_like_iron_condor_goes_out_as_one_bag_and_fills(broker, tws):
    order = await stage_like(tws, IRON_CONDOR, "ic-1")
    events = broker.events()
    preview = await broker.what_if(order)
    # 5-wide condor; natural credit at the far sides: 0.22 + 0.20 - 0.07 - 0.05 = 0.30
    assert preview.initial_margin_change > 0 and preview.commission == Decimal("7.8")

    ack = await broker.submit(order)
    assert isinstance(ack, OrderUpdate) and ack.client_order_id == "ic-1"
    # a 1.00 credit is better than the 0.30 natural credit: the condor rests, working at IB
    assert ack.status is OrderStatus.ACCEPTED and ack.broker_order_id

    placed = placed_orders(tws)[-1]
    assert placed[4] == "BAG" and "ic-1" in placed
    bag = tws.order_by_ref("ic-1")
    assert [(leg.action, leg.ratio) for leg in bag.contract.legs] == [("BUY", 1), ("SELL", 1), ("SELL", 1), ("BUY", 1)]
    assert bag.action == "BUY" and bag.lmt_price == -1.0 and bag.quantity == 3

    better = await broker.replace("ic-1", limit_price=Decimal("-0.30"))  # the natural credit crosses it
    assert better.status is OrderStatus.FILLED and better.filled_quantity == 3
    evs = await drain(events, lambda e: isinstance(e, OrderUpdate) and e.status is OrderStatus.FILLED)
    fills = [e for e in evs if isinstance(e, Fill)]
    assert len(fills) == 1
    fill = fills[0]
    assert fill.quantity == 3 and fill.net_price == Decimal("-0.3")  # +0.07 -0.22 -0.20 +0.05
    assert [(x.symbol, x.side, x.quantity) for x in fill.legs] == [
        (occ("SPY", "P", 580), Side.BUY, 3), (occ("SPY", "P", 585), Side.SELL, 3),
        (occ("SPY", "C", 595), Side.SELL, 3), (occ("SPY", "C", 600), Side.BUY, 3)]
    assert fill.commission == Decimal("7.80")  # 12 contracts × $0.65
    statuses = [e.status for e in evs if isinstance(e, OrderUpdate)]
    assert statuses[-1] is OrderStatus.FILLED and evs.index(fill) < len(evs) - 1  # fill before FILLED

    positions = {p.symbol: p.quantity for p in await broker.positions()}
    assert positions == {occ("SPY", "P", 580): 3, occ("SPY", "P", 585): -3, occ("SPY", "C", 595): -3,
                         occ("SPY", "C", 600): 3}


async def test_single_leg_credit_is_a_plain_sell_at_a_positive_price(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 2, "limit_price": "-1.45",
                                   "legs": [{"right": "put", "strike": 590, "side": "sell"}]}, "sp-1")
    events = broker.events()
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.FILLED
    o = tws.order_by_ref("sp-1")
    assert (o.contract.sec_type, o.action, o.lmt_price, o.quantity) == ("OPT", "SELL", 1.45, 2)
    fill = next(e for e in await drain(events, lambda e: isinstance(e, Fill)) if isinstance(e, Fill))
    assert fill.net_price == Decimal("-1.45") and fill.legs[0].price == Decimal("1.45")
    assert fill.commission == Decimal("1.30")


async def test_submit_is_idempotent_on_client_order_id(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "1.64",
                                   "legs": [{"right": "call", "strike": 590, "side": "buy"}]}, "dup-1")
    first = await broker.submit(order)
    second = await broker.submit(order)
    assert first.status is second.status is OrderStatus.FILLED
    assert sum(1 for f in placed_orders(tws) if "dup-1" in f) == 1
    assert sum(1 for e in tws.executions if e.order.order_ref == "dup-1") == 1


async def test_cancel_a_resting_order(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "0.10",
                                   "legs": [{"right": "call", "strike": 595, "side": "buy"}]}, "rest-1")
    assert (await broker.submit(order)).status is OrderStatus.ACCEPTED
    assert [u.client_order_id for u in await broker.open_orders()] == ["rest-1"]
    done = await broker.cancel("rest-1")
    assert done.status is OrderStatus.CANCELED
    assert tws.order_by_ref("rest-1").status == "Cancelled"
    assert await broker.open_orders() == []


async def test_account_summary(broker):
    summary = await broker.account_summary()
    assert summary.account == "DU7654321" and summary.net_liquidation == Decimal("100000")
    assert summary.buying_power > 0


@pytest.mark.parametrize("ledger,port_attr", [("paper", "ib_port_paper"), ("live", "ib_port_live")])
def test_factory_uses_the_ledger_s_gateway_port(ledger, port_attr, db):
    from engine.execution.ib import make_ib_broker
    from engine.settings import load_settings

    s = load_settings(ib_port_paper=4102, ib_port_live=4101, ib_host="10.0.0.5", ib_client_id=33)
    b = make_ib_broker(s, ledger, db=db)
    assert (b.host, b.port, b.client_id, b.account) == ("10.0.0.5", getattr(s, port_attr), 33, ledger)


async def test_partial_fills_come_before_the_status_that_counts_them(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 3, "limit_price": "0.60",
                                   "legs": [{"right": "call", "strike": 590, "side": "buy"},
                                            {"right": "call", "strike": 595, "side": "sell"}]}, "part-1")
    assert (await broker.submit(order)).status is OrderStatus.ACCEPTED
    events = broker.events()
    tws.fill("part-1", quantity=1)
    first = await drain(events, lambda e: isinstance(e, OrderUpdate))
    assert [type(e).__name__ for e in first] == ["Fill", "OrderUpdate"]
    assert first[0].quantity == 1 and first[1].status is OrderStatus.PARTIALLY_FILLED
    assert (first[1].filled_quantity, first[1].remaining) == (1, 2)
    tws.fill("part-1")
    rest = await drain(events, lambda e: isinstance(e, OrderUpdate) and e.status is OrderStatus.FILLED)
    assert [e.quantity for e in rest if isinstance(e, Fill)] == [2]
    assert rest[-1].filled_quantity == 3 and rest[-1].avg_fill_price == Decimal("1.44")


async def test_ioc_that_cannot_fill_expires(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "0.10", "tif": "ioc",
                                   "legs": [{"right": "call", "strike": 595, "side": "buy"}]}, "ioc-1")
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.EXPIRED and ack.filled_quantity == 0
    assert tws.order_by_ref("ioc-1").tif == "IOC"


async def test_replace_quantity_and_price_of_a_working_order(broker, tws):
    order = await stage_like(tws, {"underlying": "SPY", "quantity": 1, "limit_price": "0.10",
                                   "legs": [{"right": "call", "strike": 595, "side": "buy"}]}, "mod-1")
    await broker.submit(order)
    broker.ack_timeout = 60
    async with asyncio.timeout(5):  # returns on IB's "modified" acknowledgement, not by timing out
        up = await broker.replace("mod-1", limit_price=Decimal("0.15"), quantity=4)
    assert up.status is OrderStatus.ACCEPTED and up.order.quantity == 4 and up.order.limit_price == Decimal("0.15")
    at_ib = tws.order_by_ref("mod-1")
    assert (at_ib.quantity, at_ib.lmt_price) == (4, 0.15)
    assert sum(1 for o in tws.orders.values() if o.order_ref == "mod-1") == 1   # a modify, not a new order


async def test_buy_write_combines_a_stock_leg_with_an_option(broker, tws):
    tws.list_stock("SPY", bid=589.98, ask=590.02)
    from engine.execution.broker import BrokerOrder, OrderLeg

    order = BrokerOrder("bw-1", "paper", "SPY", (OrderLeg("SPY", Side.BUY, 100), OrderLeg(occ("SPY", "C", 595), Side.SELL)),
                        1, limit_price=Decimal("589.85"))
    events = broker.events()
    ack = await broker.submit(order)
    assert ack.status is OrderStatus.FILLED
    bag = tws.order_by_ref("bw-1").contract
    assert [(tws.listings[leg.con_id].sec_type, leg.ratio, leg.action) for leg in bag.legs] == [
        ("STK", 100, "BUY"), ("OPT", 1, "SELL")]
    fill = next(e for e in await drain(events, lambda e: isinstance(e, Fill)) if isinstance(e, Fill))
    # 100 shares at 590.02 count 590.02 per share of the combo; the call's 0.20 bid is received
    assert fill.net_price == Decimal("589.82")
    assert [(x.symbol, x.quantity, x.price) for x in fill.legs] == [("SPY", 100, Decimal("590.02")),
                                                                   (occ("SPY", "C", 595), 1, Decimal("0.2"))]
    assert {p.symbol: p.quantity for p in await broker.positions()} == {"SPY": 100, occ("SPY", "C", 595): -1}
