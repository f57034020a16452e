"""FillAssembler: IB leg executions + BAG records + commission reports → one Fill per combo
execution, exactly once, whatever the arrival order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.execution.broker import BrokerOrder, OrderLeg, Side
from engine.execution.ib.fills import ComboExec, FillAssembler, LegExec

TS = datetime(2026, 11, 20, 15, 31, tzinfo=UTC)
C590, C595 = "SPY261120C00590000", "SPY261120C00595000"
VERT = BrokerOrder("v1", "live", "SPY", (OrderLeg(C590, Side.BUY), OrderLeg(C595, Side.SELL)), 4,
                   limit_price=Decimal("1.50"))
RATIO = BrokerOrder("r1", "live", "SPY", (OrderLeg(C590, Side.BUY), OrderLeg(C595, Side.SELL, 2)), 2,
                    limit_price=Decimal("1.00"))


def leg(exec_id: str, symbol: str, side: Side, qty: int, price: str, commission: str | None = None) -> LegExec:
    return LegExec(exec_id, symbol, side, qty, Decimal(price), TS, "remove",
                   None if commission is None else Decimal(commission))


def test_combo_fill_waits_for_bag_legs_and_commissions_then_comes_once():
    a = FillAssembler()
    a.track(VERT, "9001")
    a.add_leg("v1", leg("e.01", C590, Side.BUY, 4, "1.64"))
    a.add_combo("v1", ComboExec("e.00", 4, TS))
    assert a.ready() == []                         # the short leg is not in yet
    a.add_leg("v1", leg("e.02", C595, Side.SELL, 4, "0.20"))
    assert a.ready() == []                         # commissions pending
    a.add_commission("e.01", Decimal("2.60"))
    a.add_commission("e.02", Decimal("2.60"))
    (fill,) = a.ready()
    assert (fill.exec_id, fill.quantity, fill.net_price, fill.commission) == ("e.00", 4, Decimal("1.44"),
                                                                            Decimal("5.20"))
    assert fill.broker_order_id == "9001"
    assert [(x.symbol, x.side, x.quantity, x.price) for x in fill.legs] == [
        (C590, Side.BUY, 4, Decimal("1.64")), (C595, Side.SELL, 4, Decimal("0.2"))]
    # replays (reqExecutions after a reconnect) change nothing
    a.add_leg("v1", leg("e.01", C590, Side.BUY, 4, "1.64", "2.60"))
    a.add_combo("v1", ComboExec("e.00", 4, TS))
    assert a.ready(force=True) == []


def test_commission_known_before_the_execution_and_forced_flush():
    a = FillAssembler()
    a.track(VERT, None)
    a.add_commission("x.01", Decimal("1.30"))     # report raced ahead of execDetails
    a.add_leg("v1", leg("x.01", C590, Side.BUY, 2, "1.60"))
    a.add_leg("v1", leg("x.02", C595, Side.SELL, 2, "0.22"))
    a.add_combo("v1", ComboExec("x.00", 2, TS))
    assert a.ready() == []
    (fill,) = a.ready(force=True)                  # gave up waiting for x.02's report
    assert fill.commission == Decimal("1.30") and fill.net_price == Decimal("1.38")


def test_partial_fills_split_leg_executions_and_ratios():
    a = FillAssembler()
    a.track(RATIO, "77")
    # IB filled the long leg in one 2-lot, the short 2:1 leg in 3 + 1
    a.add_leg("r1", leg("p.01", C590, Side.BUY, 2, "1.60", "1.30"))
    a.add_leg("r1", leg("p.02", C595, Side.SELL, 3, "0.20", "1.95"))
    a.add_combo("r1", ComboExec("p.00", 1, TS))
    a.add_combo("r1", ComboExec("q.00", 1, TS))
    (first,) = a.ready()                           # the second unit lacks one short contract
    assert first.quantity == 1 and first.net_price == Decimal("1.2")   # 1.60 - 2 × 0.20
    assert [x.quantity for x in first.legs] == [1, 2]
    assert first.commission == Decimal("1.95")     # half of 1.30 + two thirds of 1.95
    a.add_leg("r1", leg("q.02", C595, Side.SELL, 1, "0.30", "0.65"))
    (second,) = a.ready()
    assert second.exec_id == "q.00" and [x.quantity for x in second.legs] == [1, 2]
    assert second.legs[1].price == Decimal("0.25") and second.net_price == Decimal("1.1")
    assert second.commission == Decimal("1.95")


def test_without_bag_records_a_finished_order_pairs_legs_into_units():
    a = FillAssembler()
    a.track(VERT, None)
    a.add_leg("v1", leg("n.01", C590, Side.BUY, 4, "1.64", "2.60"))
    a.add_leg("v1", leg("n.02", C595, Side.SELL, 4, "0.20", "2.60"))
    assert a.ready() == [] and a.ready(force=True) == []   # IB may still send the BAG record
    (fill,) = a.ready(force=True, done={"v1"}.__contains__)
    assert (fill.exec_id, fill.quantity, fill.net_price) == ("n.01+combo", 4, Decimal("1.44"))


def test_single_leg_fills_are_signed_from_the_side():
    order = BrokerOrder("s1", "live", "SPY", (OrderLeg(C595, Side.SELL),), 3, limit_price=Decimal("-0.20"))
    a = FillAssembler()
    a.track(order, "5")
    a.add_leg("s1", leg("s.01", C595, Side.SELL, 2, "0.21", "1.30"))
    a.add_leg("s1", leg("s.02", C595, Side.SELL, 1, "0.20"))
    (f1,) = a.ready()
    assert (f1.quantity, f1.net_price, f1.commission) == (2, Decimal("-0.21"), Decimal("1.30"))
    a.add_commission("s.02", Decimal("0.65"))
    (f2,) = a.ready()
    assert (f2.exec_id, f2.quantity, f2.net_price) == ("s.02", 1, Decimal("-0.2"))


def test_executions_of_untracked_orders_are_ignored():
    a = FillAssembler()
    a.add_leg("zzz", leg("u.01", C590, Side.BUY, 1, "1.00", "0.65"))
    assert a.ready(force=True) == [] and not a.knows("zzz")
