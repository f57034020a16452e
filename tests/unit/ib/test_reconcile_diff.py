"""The reconciliation diff (pure): broker state vs ledger snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.execution.broker import BrokerPosition, Fill, LegFill, OrderStatus, OrderUpdate, Side
from engine.execution.ib.reconcile import LedgerOrder, LedgerSnapshot, reconcile

TS = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
C590, C595 = "SPY261120C00590000", "SPY261120C00595000"


def fill(exec_id: str, coid: str, qty: int) -> Fill:
    return Fill(exec_id, coid, TS, qty, Decimal("1.44"),
                (LegFill(C590, Side.BUY, qty, Decimal("1.64")), LegFill(C595, Side.SELL, qty, Decimal("0.2"))))


def update(coid: str, status: OrderStatus, filled: int = 0) -> OrderUpdate:
    return OrderUpdate(coid, status, TS, "1", filled, 2 - filled)


def run(snapshot, open_orders=(), executions=(), positions=()):
    return reconcile(snapshot, ledger="live", account="U1", ts=TS, reason="reconnect",
                     open_orders=list(open_orders), executions=list(executions), positions=list(positions))


def test_agreement_is_clean():
    snap = LedgerSnapshot({"a": LedgerOrder("a", OrderStatus.FILLED, 2), "b": LedgerOrder("b", OrderStatus.ACCEPTED, 0)},
                          frozenset({"e1"}), {C590: 2, C595: -2})
    report = run(snap, [update("b", OrderStatus.ACCEPTED)], [fill("e1", "a", 2)],
                 [BrokerPosition(C590, 2, Decimal("1.64")), BrokerPosition(C595, -2, Decimal("0.2"))])
    assert report.clean and not report.needs_attention and report.to_dict()["clean"] is True


def test_fill_while_away_is_missing_and_explains_the_positions():
    snap = LedgerSnapshot({"b": LedgerOrder("b", OrderStatus.ACCEPTED, 0)}, frozenset(), {})
    report = run(snap, [], [fill("e2", "b", 2)],
                 [BrokerPosition(C590, 2, Decimal("1.64")), BrokerPosition(C595, -2, Decimal("0.2"))])
    assert [f.exec_id for f in report.missing_fills] == ["e2"]
    assert [(d.kind, d.broker_filled) for d in report.order_diffs] == [("filled_while_away", 2)]
    assert all(p.explained for p in report.position_diffs) and not report.needs_attention


def test_unexplained_differences_need_a_person():
    snap = LedgerSnapshot({"c": LedgerOrder("c", OrderStatus.ACCEPTED, 0),
                           "d": LedgerOrder("d", OrderStatus.SUBMITTED, 0)}, frozenset(), {C590: 1})
    report = run(snap, [update("manual", OrderStatus.ACCEPTED), update("d", OrderStatus.ACCEPTED, 1)], [],
                 [BrokerPosition(C590, 5, Decimal("1.6"))])
    kinds = {(d.client_order_id, d.kind) for d in report.order_diffs}
    assert kinds == {("manual", "unknown_in_ledger"), ("c", "not_open_at_broker"), ("d", "filled")}
    (pos,) = report.position_diffs
    assert (pos.ledger_quantity, pos.broker_quantity, pos.difference, pos.explained) == (1, 5, 4, False)
    assert report.needs_attention


def test_submitted_in_ledger_but_accepted_at_ib_is_no_disagreement():
    snap = LedgerSnapshot({"s": LedgerOrder("s", OrderStatus.SUBMITTED, 0)}, frozenset(), {})
    assert run(snap, [update("s", OrderStatus.ACCEPTED)]).clean


def test_closed_in_ledger_but_working_at_ib():
    snap = LedgerSnapshot({"x": LedgerOrder("x", OrderStatus.CANCELED, 0)}, frozenset(), {})
    report = run(snap, [update("x", OrderStatus.ACCEPTED)])
    (diff,) = report.order_diffs
    assert (diff.kind, diff.ledger_status, diff.broker_status) == ("closed_in_ledger", "canceled", "accepted")
    assert report.needs_attention  # a live order the ledger thinks is dead can still trade


def test_closed_while_away_is_known_not_mysterious():
    snap = LedgerSnapshot({"g": LedgerOrder("g", OrderStatus.ACCEPTED, 0)}, frozenset(), {})
    closed = {"g": OrderUpdate("g", OrderStatus.CANCELED, TS, "1", 0, 0, reason="canceled by IB")}
    report = reconcile(snap, ledger="live", account="U1", ts=TS, reason="reconnect", open_orders=[],
                       executions=[], positions=[], closed=closed)
    (diff,) = report.order_diffs
    assert (diff.kind, diff.broker_status) == ("closed_while_away", "canceled") and not report.needs_attention
