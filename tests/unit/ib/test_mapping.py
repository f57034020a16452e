"""Pure mappings of the IB adapter: symbols ↔ contracts, orders ↔ IB orders, IB status → ours."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ib_async import Bag, ComboLeg, Option, Order, Trade, TradeLogEntry
from ib_async import OrderStatus as IBStatus

from engine.core.errors import InvalidInput
from engine.execution.broker import BrokerOrder, OrderLeg, OrderStatus, OrderType, Side, TimeInForce
from engine.execution.ib.contracts import ib_contract, our_symbol
from engine.execution.ib.orders import broker_order_from_ib, map_status, net_from_ib, to_ib_order

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("symbol,expect", [
    ("SPY261120C00590000", ("SPY", "SPY", "SMART", "20261120", 590.0, "C")),
    ("QQQ261120P00510500", ("QQQ", "QQQ", "SMART", "20261120", 510.5, "P")),
    ("SPXW261120C05900000", ("SPX", "SPXW", "CBOE", "20261120", 5900.0, "C")),
    ("SPX261218P05000000", ("SPX", "SPX", "CBOE", "20261218", 5000.0, "P")),
    ("VIX261118C00020000", ("VIX", "VIX", "CBOE", "20261118", 20.0, "C")),
])
def test_option_contracts(symbol, expect):
    c = ib_contract(symbol)
    assert (c.symbol, c.tradingClass, c.exchange, c.lastTradeDateOrContractMonth, c.strike, c.right) == expect
    assert (c.secType, c.currency, c.multiplier) == ("OPT", "USD", "100")
    c.localSymbol = ""                     # back from the terms alone …
    assert our_symbol(c) == symbol
    c.localSymbol = f"{expect[1]:<6}{expect[3][2:]}{expect[5]}{int(expect[4] * 1000):08d}"
    assert our_symbol(c) == symbol         # … and from IB's OCC-style local symbol


def test_stock_leg_and_bag_have_no_option_symbol():
    assert (ib_contract("SPY").secType, ib_contract("SPY").exchange) == ("STK", "SMART")
    assert our_symbol(Bag(symbol="SPY")) is None


def _order(legs, limit, qty=2, **kw) -> BrokerOrder:
    return BrokerOrder("c1", "live", "SPY", tuple(legs), qty, limit_price=Decimal(limit), **kw)


def test_combo_goes_out_as_buy_at_the_signed_net():
    o = to_ib_order(_order([OrderLeg("SPY261120C00590000", Side.BUY), OrderLeg("SPY261120C00595000", Side.SELL)],
                           "-0.35", tif=TimeInForce.IOC), "DU1")
    assert (o.action, o.totalQuantity, o.orderType, o.lmtPrice, o.tif, o.account, o.orderRef) == (
        "BUY", 2.0, "LMT", -0.35, "IOC", "DU1", "c1")


def test_single_legs_are_plain_orders_at_positive_prices():
    sell = to_ib_order(_order([OrderLeg("SPY261120P00590000", Side.SELL)], "-1.45"), "DU1")
    assert (sell.action, sell.lmtPrice, sell.totalQuantity) == ("SELL", 1.45, 2.0)
    ratio = to_ib_order(_order([OrderLeg("SPY261120P00590000", Side.BUY, 2)], "3.00"), "DU1")
    assert (ratio.action, ratio.lmtPrice, ratio.totalQuantity) == ("BUY", 1.5, 4.0)
    stop = to_ib_order(BrokerOrder("c2", "live", "SPY", (OrderLeg("SPY261120C00590000", Side.SELL),), 1,
                                   OrderType.STOP, stop_price=Decimal("-0.80")), "DU1")
    assert (stop.orderType, stop.auxPrice, stop.action) == ("STP", 0.8, "SELL")
    with pytest.raises(InvalidInput, match="negative \\(credit\\)"):
        to_ib_order(_order([OrderLeg("SPY261120P00590000", Side.SELL)], "1.45"), "DU1")


def test_prices_back_from_ib():
    single = (OrderLeg("SPY261120P00590000", Side.SELL),)
    assert net_from_ib(single, 1.45) == Decimal("-1.45")
    assert net_from_ib(None, 1.0, "SELL") == Decimal("-1") and str(net_from_ib(None, 100.0)) == "100"
    assert net_from_ib(None, 1.7976931348623157e308) is None


def _trade(status: str, *, filled=0.0, total=2.0, error: int = 0, msg: str = "", combo=False) -> Trade:
    order = Order(orderId=7, action="BUY", totalQuantity=total, orderType="LMT", lmtPrice=1.0, orderRef="c1")
    log = [TradeLogEntry(NOW, "PendingSubmit")]
    if error:
        log.append(TradeLogEntry(NOW, status, f"Error {error}, reqId 7: {msg}", error))
    contract = Bag(symbol="SPY") if combo else Option("SPY", "20261120", 590, "C", "SMART")
    return Trade(contract, order, IBStatus(orderId=7, status=status, filled=filled, remaining=total - filled), [], log)


@pytest.mark.parametrize("ib_status,filled,error,cancel,tif,expect", [
    ("PendingSubmit", 0, 0, False, "day", OrderStatus.SUBMITTED),
    ("PreSubmitted", 0, 0, False, "day", OrderStatus.ACCEPTED),
    ("Submitted", 0, 0, False, "day", OrderStatus.ACCEPTED),
    ("Submitted", 1, 0, False, "day", OrderStatus.PARTIALLY_FILLED),
    ("Filled", 2, 0, False, "day", OrderStatus.FILLED),
    ("PendingCancel", 0, 0, True, "day", OrderStatus.PENDING_CANCEL),
    ("Cancelled", 0, 202, True, "day", OrderStatus.CANCELED),
    ("Cancelled", 0, 201, False, "day", OrderStatus.REJECTED),
    ("Cancelled", 0, 110, False, "day", OrderStatus.REJECTED),
    ("Cancelled", 1, 0, False, "ioc", OrderStatus.EXPIRED),
    ("Cancelled", 0, 0, False, "day", OrderStatus.CANCELED),
    ("Inactive", 0, 0, False, "day", OrderStatus.REJECTED),
])
def test_status_mapping(ib_status, filled, error, cancel, tif, expect):
    trade = _trade(ib_status, filled=filled, error=error, msg="Order rejected - reason:TOO BIG")
    status, reason = map_status(trade, cancel_requested=cancel, tif=tif)
    assert status is expect
    if expect is OrderStatus.REJECTED and error:
        assert reason == f"IB {error}: Order rejected - reason:TOO BIG"


def test_validation_warning_changes_nothing():
    assert map_status(_trade("ValidationError"), cancel_requested=False) is None


def test_rebuild_order_of_a_sold_bag_after_a_restart():
    bag = Bag(symbol="SPY", comboLegs=[ComboLeg(conId=1, ratio=1, action="BUY"),
                                       ComboLeg(conId=2, ratio=1, action="SELL")])
    order = Order(action="SELL", totalQuantity=3, orderType="LMT", lmtPrice=0.4, tif="DAY", orderRef="x9")
    rebuilt = broker_order_from_ib(Trade(bag, order, IBStatus(status="Submitted"), [], []), "live",
                                   ["SPY261120C00590000", "SPY261120C00595000"])
    # selling the call spread for 0.40 = buying the opposite legs at a 0.40 credit
    assert [(x.symbol, x.side) for x in rebuilt.legs] == [("SPY261120C00590000", Side.SELL),
                                                          ("SPY261120C00595000", Side.BUY)]
    assert (rebuilt.client_order_id, rebuilt.quantity, rebuilt.limit_price) == ("x9", 3, Decimal("-0.4"))


def test_order_known_only_from_its_executions():
    from engine.execution.ib.orders import order_from_executions

    A, B = "SPY261120C00590000", "SPY261120C00595000"

    combo = order_from_executions("ib-5", "live", "SPY", [(A, Side.BUY, 2), (B, Side.SELL, 4), (A, Side.BUY, 2)])
    assert [(x.symbol, x.side, x.ratio) for x in combo.legs] == [(A, Side.BUY, 1), (B, Side.SELL, 1)]
    assert combo.quantity == 4
    ratio = order_from_executions("ib-6", "live", "SPY", [(A, Side.BUY, 3), (B, Side.SELL, 6)])
    assert [x.ratio for x in ratio.legs] == [1, 2] and ratio.quantity == 3
    single = order_from_executions("ib-7", "live", "SPY", [(A, Side.SELL, 3)])
    assert (single.quantity, single.legs[0].ratio) == (3, 1)


@pytest.mark.parametrize("ib_status,full,asked,tif,expect", [
    ("Filled", True, False, "day", OrderStatus.FILLED),
    (None, True, False, "day", OrderStatus.FILLED),
    ("Inactive", False, False, "day", OrderStatus.REJECTED),
    ("Cancelled", False, True, "day", OrderStatus.CANCELED),
    ("Cancelled", False, False, "ioc", OrderStatus.EXPIRED),
    ("Cancelled", False, False, "day", OrderStatus.CANCELED),
    (None, False, False, "day", OrderStatus.CANCELED),
])
def test_final_state_of_orders_closed_while_away(ib_status, full, asked, tif, expect):
    from engine.execution.ib.orders import closed_status

    status, reason = closed_status(ib_status, fully_filled=full, cancel_requested=asked, tif=tif)
    assert status is expect and (reason or status is OrderStatus.FILLED)


def test_an_order_ib_never_acknowledged_was_never_live():
    from engine.execution.ib.orders import closed_status

    status, reason = closed_status(None, fully_filled=False, cancel_requested=False, acknowledged=False)
    assert status is OrderStatus.REJECTED and "never acknowledged" in reason
    assert closed_status("Cancelled", fully_filled=False, cancel_requested=False,
                         acknowledged=False)[0] is OrderStatus.CANCELED


def test_account_choice():
    from engine.core.errors import BrokerError
    from engine.execution.ib.queries import pick_account

    assert pick_account(None, ["DU1"], "gw") == "DU1"
    assert pick_account("U2", ["U1", "U2"], "gw") == "U2"
    with pytest.raises(BrokerError, match="SMART0DTE_IB_ACCOUNT=U9 is not managed"):
        pick_account("U9", ["U1"], "gw")
    with pytest.raises(BrokerError, match="manages 2 accounts"):
        pick_account(None, ["U1", "U2"], "gw")


def test_factory_refuses_an_unknown_ledger():
    from engine.execution.ib import make_ib_broker
    from engine.settings import load_settings

    with pytest.raises(InvalidInput, match="paper or live"):
        make_ib_broker(load_settings(), "demo", db=object())


def test_abandoned_event_streams_are_dropped():
    import gc

    from engine.execution.ib import IBBroker

    b = IBBroker(host="127.0.0.1", port=1, client_id=1, ledger="paper")
    kept = b.events()
    b.events()  # nobody keeps this one
    gc.collect()
    assert len(b._subscribers) == 2  # the drain stream and ``kept``
    kept.close()
    assert len(b._subscribers) == 1
