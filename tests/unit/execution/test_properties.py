"""Property tests: the fill model never fills through a limit or better than the book, leg prices
always add up to the net; position arithmetic conserves money."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.execution.broker import OrderType, Side
from engine.execution.config import FillConfig
from engine.execution.fill_model import FillModel, LegBook, natural_price, net_of
from engine.portfolio.positions import apply_trade, unrealized

cents = st.integers(min_value=1, max_value=2000).map(lambda n: D(n) / 100)


@st.composite
def leg_books(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    legs = []
    for _ in range(n):
        bid = draw(cents)
        ask = bid + D(draw(st.integers(min_value=1, max_value=30))) / 100
        legs.append(LegBook(draw(st.sampled_from([Side.BUY, Side.SELL])), draw(st.integers(1, 3)), bid, ask,
                            draw(st.integers(0, 40)), draw(st.integers(0, 40))))
    return legs


@settings(max_examples=300, deadline=None)
@given(legs=leg_books(), qty=st.integers(1, 60), offset=st.integers(-50, 50), resting=st.booleans(),
       impact=st.integers(0, 3), partial=st.booleans())
def test_fills_respect_limits_and_books(legs, qty, offset, resting, impact, partial):
    model = FillModel(FillConfig(impact_ticks=impact, partial_fills=partial))
    natural = natural_price(legs)
    limit = natural + D(offset) / 100
    r = model.evaluate(legs, quantity=qty, order_type=OrderType.LIMIT, limit_price=limit, resting=resting)
    if r is not None:
        assert 0 < r.quantity <= qty
        assert r.net_price <= limit                       # never through the limit
        assert r.net_price >= natural or resting          # taking liquidity is never better than natural
        assert abs(net_of(legs, r.leg_prices) - r.net_price) < D("0.0001")
        assert all(p >= 0 for p in r.leg_prices)
        if not partial:
            assert r.quantity == qty
    elif not resting and offset >= 0:
        assert partial is False  # a marketable limit with partials allowed always takes something
    m = model.evaluate(legs, quantity=qty, order_type=OrderType.MARKET)
    assert m is not None and m.quantity == qty and m.net_price >= natural


trades = st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(1, 10), cents), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(trades=trades, mark=cents)
def test_realized_plus_unrealized_equals_cash_flows(trades, mark):
    qty, avg, realized, cash = 0, D(0), D(0), D(0)
    for side, units, price in trades:
        change = apply_trade(qty, avg, side, units, price, 100)
        qty, avg, realized = change.quantity, change.avg_price, realized + change.realized
        cash -= side * units * price * 100
        assert (qty == 0) == (avg == 0) or qty != 0
    value = qty * mark * 100
    assert abs((cash + value) - (realized + unrealized(qty, avg, mark, 100))) < D("0.01") * (len(trades) + 1)
