"""Property: however IB splits and orders a combo's executions (leg executions of any sizes, BAG
records per unit batch, commissions early or late, replays), the assembled fills add up to exactly
what was executed — every unit once, every leg at its ratio, every commission counted once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.execution.broker import BrokerOrder, OrderLeg, Side
from engine.execution.ib.fills import ComboExec, FillAssembler, LegExec

TS = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LEGS = (OrderLeg("SPY261120P00580000", Side.BUY), OrderLeg("SPY261120P00585000", Side.SELL, 2),
        OrderLeg("SPY261120C00595000", Side.SELL))


def split(total: int, cuts: list[int]) -> list[int]:
    points = sorted({c for c in cuts if 0 < c < total})
    edges = [0, *points, total]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


@st.composite
def scenario(draw):
    units = draw(st.integers(1, 6))
    batches = split(units, draw(st.lists(st.integers(1, units), max_size=3)))   # BAG records
    events = [("combo", f"bag{i}", q) for i, q in enumerate(batches)]
    for k, leg in enumerate(LEGS):
        for j, q in enumerate(split(units * leg.ratio, draw(st.lists(st.integers(1, units * leg.ratio), max_size=3)))):
            exec_id = f"L{k}.{j}"
            events.append(("leg", exec_id, (leg, q, Decimal(100 + k * 10 + j) / 100)))
            events.append(("commission", exec_id, Decimal("0.65") * q))
    order = draw(st.permutations(events))
    replay = draw(st.lists(st.sampled_from(events), max_size=4))  # reqExecutions after a reconnect
    return units, list(order) + replay


@settings(max_examples=100, deadline=None)
@given(scenario())
def test_assembled_fills_conserve_units_legs_and_commissions(sc):
    units, events = sc
    order = BrokerOrder("x", "live", "SPY", LEGS, units, limit_price=Decimal("-1.00"))
    a = FillAssembler()
    a.track(order, "1")
    fills = []
    for kind, exec_id, payload in events:
        if kind == "combo":
            a.add_combo("x", ComboExec(exec_id, payload, TS))
        elif kind == "leg":
            leg, q, price = payload
            a.add_leg("x", LegExec(exec_id, leg.symbol, leg.side, q, price, TS, "remove"))
        else:
            a.add_commission(exec_id, payload)
        fills += a.ready()
    fills += a.ready(force=True, done={"x"}.__contains__)

    assert sum(f.quantity for f in fills) == units
    assert len({f.exec_id for f in fills}) == len(fills)
    for f in fills:
        assert [(x.symbol, x.side, x.quantity) for x in f.legs] == [
            (leg.symbol, leg.side, f.quantity * leg.ratio) for leg in LEGS]
    contracts = units * sum(leg.ratio for leg in LEGS)
    assert sum(f.commission for f in fills) == Decimal("0.65") * contracts
