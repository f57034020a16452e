"""TWAP of a multi-leg order: slicing, re-pricing by cancel/replace, stop on stale data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from engine.core.principal import Principal
from engine.execution.broker import BrokerOrder, OrderLeg, OrderType, Side
from engine.execution.twap import Twap, TwapParams

ALICE = Principal.person("alice", "cli")
P640, P635 = "SPY261120P00640000", "SPY261120P00635000"


@pytest.fixture
def backend():
    return {}


def wide(market):
    market.set_book(P640, 1.00, 1.02)
    market.set_book(P635, 0.30, 0.32)   # mid -0.70, natural -0.68: a child at -0.69 rests


def tight(market):
    market.set_book(P640, 1.01, 1.02)
    market.set_book(P635, 0.31, 0.32)   # natural -0.69: the child fills


def stepper(market, script):
    """A sleep that advances the market clock and plays the next scene of ``script``."""
    scenes = iter(script)

    async def sleep(seconds: float) -> None:
        market.clock.advance(timedelta(seconds=seconds))
        next(scenes, lambda m: None)(market)

    return sleep


def parent(qty=6, limit=None):
    return BrokerOrder("TW1", "paper", "SPY", (OrderLeg(P640, Side.SELL), OrderLeg(P635, Side.BUY)), qty,
                       OrderType.LIMIT if limit else OrderType.MARKET, None if limit is None else D(limit))


async def test_twap_through_confirm_fills_in_slices(svc, market, audit):
    wide(market)
    req = {"underlying": "SPY", "quantity": 6, "order_type": "market",
           "algo": {"type": "twap", "minutes": 3, "slices": 3, "ticks": 1},
           "legs": [{"right": "put", "strike": 640, "side": "sell"}, {"right": "put", "strike": 635, "side": "buy"}]}
    t = await svc.stage(req, ALICE)
    svc.sleep = stepper(market, [wide, tight] * 9)  # waiting moves the simulated market instead of real time
    r = await svc.confirm(t.ticket_id, ALICE)
    assert r["status"] == "filled" and r["filled_quantity"] == 6
    assert [c["quantity"] for c in r["children"]] == [2, 2, 2]
    assert all(c["avg_fill_price"] == D("-0.69") for c in r["children"])
    orders = await svc.orders("paper")
    assert len(orders) == 3 and {o["parent_id"] for o in orders} == {t.ticket_id}
    assert [x["kind"] for x in audit.tail(100) if x["kind"].startswith("twap")][0] == "twap.start"


async def test_twap_reprices_when_the_mid_moves(svc, market):
    wide(market)

    def up(m):  # mid moves up two ticks: the child is replaced at the new mid + 1 tick and fills
        m.set_book(P640, 0.99, 1.00)
        m.set_book(P635, 0.31, 0.32)

    rep = await Twap(svc, parent(2), TwapParams(minutes=1, slices=1, ticks=1, checks=3),
                     sleep=stepper(market, [up, lambda m: None])).run()
    assert rep.status == "filled" and rep.children[0]["avg_fill_price"] == D("-0.67")
    assert (await svc.orders("paper"))[0]["limit_price"] == D("-0.67")


async def test_twap_respects_the_parent_limit(svc, market):
    wide(market)
    rep = await Twap(svc, parent(2, limit="-0.72"), TwapParams(minutes=1, slices=2, ticks=1),
                     sleep=stepper(market, [tight] * 10)).run()
    assert rep.status == "incomplete" and rep.filled == 0
    assert all(o["limit_price"] == D("-0.72") for o in await svc.orders("paper"))


async def test_twap_stops_on_stale_data(svc, market):
    wide(market)

    def go_stale(m):
        m.stale(P640, 60)

    rep = await Twap(svc, parent(4), TwapParams(minutes=2, slices=2, checks=2),
                     sleep=stepper(market, [go_stale])).run()
    assert rep.status == "stopped" and rep.reason == "stale data"
    assert [o["status"] for o in await svc.orders("paper")] == ["canceled"]
