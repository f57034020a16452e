"""Position monitor exits, 0DTE auto-flatten, and option expiry processing with ledger export."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.core.clock import NY
from engine.core.principal import Principal
from engine.execution.broker import Fill, LegFill, Side
from engine.execution.expiry import market_settlement, process_expirations
from engine.execution.ledger_export import ledger_trades
from engine.execution.monitor import PositionMonitor
from engine.portfolio.ledger import book_fill, cash_balance

ALICE = Principal.person("alice", "cli")
P640, P635 = "SPY261120P00640000", "SPY261120P00635000"


@pytest.fixture
def backend():
    return {}


def books(market, short: tuple, long: tuple) -> None:
    market.set_book(P640, *short)
    market.set_book(P635, *long)


async def open_spread(svc, market, exits: dict) -> dict:
    books(market, (1.00, 1.02), (0.30, 0.32))
    req = {"underlying": "SPY", "quantity": 1, "order_type": "market", "exits": exits,
           "legs": [{"right": "put", "strike": 640, "side": "sell"}, {"right": "put", "strike": 635, "side": "buy"}]}
    r = await svc.confirm((await svc.stage(req, ALICE)).ticket_id, ALICE)
    assert r["status"] == "filled" and r["avg_fill_price"] == D("-0.68")
    return r


async def test_take_profit_closes_the_structure(svc, market, audit):
    await open_spread(svc, market, {"take_profit_pct": 50, "stop_loss_pct": 100})
    mon = PositionMonitor(svc, "paper")
    books(market, (0.40, 0.42), (0.05, 0.07))  # 48.5% kept: not yet
    assert await mon.check() == []
    books(market, (0.38, 0.40), (0.05, 0.07))  # 51.5%
    done = await mon.check()
    assert len(done) == 1 and done[0]["status"] == "filled" and "take profit" in done[0]["reason"]
    assert await svc.positions("paper") == []
    assert await mon.check() == []  # rule spent
    assert audit.tail(50, kind="monitor.exit")[0]["data"]["pnl_pct"] > 50


async def test_stop_loss_and_trailing_stop(svc, market):
    await open_spread(svc, market, {"stop_loss_pct": 30, "trailing": True})
    mon = PositionMonitor(svc, "paper")
    books(market, (0.45, 0.47), (0.05, 0.07))   # +41%: best so far
    assert await mon.check() == []
    books(market, (0.58, 0.60), (0.05, 0.07))   # +22%: above 41 - 30 = 11
    assert await mon.check() == []
    books(market, (0.70, 0.72), (0.05, 0.07))   # +4%: below 41 - 30, the trailing stop fires
    done = await mon.check()
    assert done and "trailing stop" in done[0]["reason"]


async def test_fixed_stop_loss(svc, market):
    await open_spread(svc, market, {"stop_loss_pct": 100})
    books(market, (1.60, 1.62), (0.20, 0.22))   # close mid 1.40 -> -106%
    done = await PositionMonitor(svc, "paper").check()
    assert done and "stop loss" in done[0]["reason"] and await svc.positions("paper") == []


async def test_time_exit_and_auto_flatten(svc, market):
    await open_spread(svc, market, {"exit_at": "11:00"})
    mon = PositionMonitor(svc, "paper")
    assert await mon.check() == []
    market.clock.set(datetime(2026, 11, 20, 11, 0, tzinfo=NY))
    assert "time exit" in (await mon.check())[0]["reason"]
    await open_spread(svc, market, {})
    market.clock.set(datetime(2026, 11, 20, 15, 49, tzinfo=NY))
    assert await mon.check() == []
    market.clock.set(datetime(2026, 11, 20, 15, 50, tzinfo=NY))
    done = await mon.check()
    assert len(done) == 1 and "auto-flatten" in done[0]["reason"] and done[0]["status"] == "filled"
    assert await svc.positions("paper") == []


def fill(exec_id: str, legs: list[tuple[str, Side, int, str]]) -> Fill:
    return Fill(exec_id, exec_id, datetime(2026, 11, 20, 15, 0, tzinfo=NY), 1, D(0),
                tuple(LegFill(s, side, q, D(p)) for s, side, q, p in legs), D("0"), D("0"))


async def test_expiry_exercise_assignment_cash_settlement_and_worthless(db, audit, market):
    with db.session("paper") as s:
        book_fill(s, fill("X1", [("SPY261120C00650000", Side.BUY, 2, "1.00"),     # long ITM call: exercise
                                 ("SPY261120P00655000", Side.SELL, 1, "3.00"),    # short ITM put: assigned
                                 ("SPY261120C00660000", Side.SELL, 1, "0.10"),    # short OTM call: expires
                                 ("SPY261120C00651000", Side.BUY, 1, "0.50")]), "X1")  # ITM by 0.005: expires
        book_fill(s, fill("X2", [("SPXW261120C05800000", Side.BUY, 1, "10.00"),   # cash settled, ITM 25.5
                                 ("SPXW261120P05700000", Side.SELL, 1, "2.00")]), "X2")
        cash0 = cash_balance(s)
    market.set_spot("SPY", 651.005)
    market.spots["SPX"] = 5825.5
    early = await process_expirations(db, audit, "paper", datetime(2026, 11, 20, 15, 59, tzinfo=NY),
                                      market_settlement(market))
    assert early == []
    events = await process_expirations(db, audit, "paper", datetime(2026, 11, 20, 16, 1, tzinfo=NY),
                                       market_settlement(market))
    by = {(e["symbol"], e["action"]): e for e in events}
    assert by[("SPY261120C00650000", "EXERCISE")]["quantity"] == 2
    assert sorted(e["quantity"] for e in events if e["symbol"] == "SPY") == [100, 200]
    assert ("SPY261120P00655000", "ASSIGN") in by and ("SPY261120C00660000", "EXPIRE") in by
    assert ("SPY261120C00651000", "EXPIRE") in by  # 0.005 is under the $0.01 OCC threshold
    assert by[("SPXW261120C05800000", "EXERCISE")]["price"] == D("25.5")
    assert by[("SPXW261120P05700000", "EXPIRE")]["price"] == 0
    with db.session("paper") as s:
        from engine.portfolio.ledger import open_positions

        left = {p.symbol: p.quantity for p in open_positions(s)}
        cash1 = cash_balance(s)
    assert left == {"SPY": 300}  # 200 bought by exercising the calls, 100 by the assigned put
    assert cash1 - cash0 == D("2550") - 650 * 200 - 655 * 100
    again = await process_expirations(db, audit, "paper", datetime(2026, 11, 20, 16, 5, tzinfo=NY),
                                      market_settlement(market))
    assert again == []
    rows = ledger_trades(db, "paper")
    sides = [r["side"] for r in rows]
    assert {"EXPIRE", "ASSIGN", "EXERCISE", "BUY", "SELL"} <= set(sides)
    assert all(r["datetime"].tzinfo is not None and r["quantity"] > 0 for r in rows)
    ex = next(r for r in rows if r["side"] == "EXERCISE" and r["symbol"].startswith("SPXW"))
    assert ex["price"] == D("25.5") and ex["closes"] == "long" and ex["account"] == "paper"


async def test_expiry_of_real_fills_through_the_service(svc, db, audit, market):
    await open_spread(svc, market, {})
    market.clear_books()
    market.set_spot("SPY", 637.0)  # between the strikes: short 640 put assigned, long 635 expires
    ev = await process_expirations(db, audit, "paper", datetime(2026, 11, 20, 16, 1, tzinfo=NY) + timedelta(0),
                                   market_settlement(market))
    actions = sorted((e["symbol"], e["action"]) for e in ev)
    assert actions == [("SPY", "BUY"), (P635, "EXPIRE"), (P640, "ASSIGN")]
    pos = {p["symbol"]: p["quantity"] for p in await svc.positions("paper")}
    assert pos == {"SPY": 100}


async def test_engine_tick_runs_exits_flatten_and_expiry(svc, market):
    await open_spread(svc, market, {"take_profit_pct": 50})
    books(market, (0.38, 0.40), (0.05, 0.07))
    out = await svc.tick("paper")
    assert len(out["exits"]) == 1 and out["expired"] == []
    await open_spread(svc, market, {})
    market.clear_books()
    market.set_spot("SPY", 650.0)
    market.clock.set(datetime(2026, 11, 20, 16, 1, tzinfo=NY))  # after the close: flatten refused, expiry books
    out = await svc.tick("paper")
    assert sorted(e["action"] for e in out["expired"]) == ["EXPIRE", "EXPIRE"]
    assert await svc.positions("paper") == []
    assert (await svc.tick("live"))["skipped"]


async def test_run_loop_stops_on_request(svc):
    import asyncio

    stop = asyncio.Event()
    task = asyncio.create_task(svc.run(stop, interval_s=0.01))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_flatten_does_not_stack_orders_when_nothing_fills(svc, market):
    await open_spread(svc, market, {})
    books(market, (0.0, 0.05), (0.0, 0.02))  # no bid for the long put: the market order cannot fill
    market.clock.set(datetime(2026, 11, 20, 15, 51, tzinfo=NY))
    mon = PositionMonitor(svc, "paper")
    first = await mon.check()
    assert first[0]["status"] == "accepted"
    second = await mon.check()
    assert second[0]["status"] == "pending" and len(await svc.orders("paper", "open")) == 1


async def test_after_expiry_the_broker_and_ledger_agree(svc, db, audit, market):
    await open_spread(svc, market, {})
    market.clear_books()
    market.set_spot("SPY", 637.0)
    await process_expirations(db, audit, "paper", datetime(2026, 11, 20, 16, 1, tzinfo=NY), market_settlement(market))
    oms = await svc.manager("paper")
    assert await oms.position_diffs() == []
    assert [(p.symbol, p.quantity) for p in await oms.broker.positions()] == [("SPY", 100)]
