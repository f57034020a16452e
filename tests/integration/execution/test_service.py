"""Stage → confirm through the real service, paper broker and ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from engine.core.errors import InvalidInput, PermissionDenied, RiskRejected, TicketError
from engine.core.principal import Principal, Role
from engine.execution.models import CashRow, OrderEventRow, TicketRow
from engine.execution.service import ExecutionService
from engine.store.audit import AuditLog

ALICE = Principal.person("alice", "cli")
BOB = Principal.person("bob", "cli")
SPREAD = {"underlying": "SPY", "expiry": "0dte", "quantity": 2, "order_type": "market", "account": "paper",
          "legs": [{"right": "put", "strike": 640, "side": "sell"}, {"right": "put", "strike": 635, "side": "buy"}]}


@pytest.mark.both_backends
async def test_stage_then_confirm_fills_and_books(svc, db, audit, market):
    t = await svc.stage(SPREAD, Principal.agent_for(ALICE))
    d = t.to_dict()
    assert set(d) >= {"ticket_id", "expires_at", "preview", "risk"}
    assert set(d["preview"]) >= {"legs", "net_price", "max_profit", "max_loss", "breakevens", "margin", "fees"}
    assert d["risk"]["passed"] and {c["name"] for c in d["risk"]["checks"]} >= {"buying_power", "price_collar"}
    assert [leg["symbol"] for leg in d["preview"]["legs"]] == ["SPY261120P00640000", "SPY261120P00635000"]
    assert d["preview"]["net_price"] < 0 and d["preview"]["max_loss"] == D(1000) + d["preview"]["net_price"] * 200

    result = await svc.confirm(t.ticket_id, ALICE)  # the agent staged it for alice; alice confirms
    assert result["order_id"] == t.ticket_id and result["status"] == "filled"
    assert len(result["fills"]) == 1 and result["fills"][0]["quantity"] == 2
    positions = {p["symbol"]: p for p in await svc.positions("paper")}
    assert positions["SPY261120P00640000"]["quantity"] == -2 and positions["SPY261120P00635000"]["quantity"] == 2
    pnl = await svc.pnl("paper", "today")
    fill = result["fills"][0]
    assert pnl["cash"] == D("100000") - fill["net_price"] * 200 - fill["commission"] - fill["fees"]
    with db.session("paper") as s:
        moves = [r.to_status for r in s.execute(select(OrderEventRow).where(OrderEventRow.order_id == t.ticket_id)
                                                 .order_by(OrderEventRow.id)).scalars()]
    assert moves == ["initialized", "submitted", "accepted", "filled"]
    kinds = [r["kind"] for r in audit.tail(50)]
    for k in ("order.staged", "risk.decision", "order.confirmed", "order.intent", "order.state", "order.fill"):
        assert k in kinds
    assert audit.verify()[0]


@pytest.mark.both_backends
async def test_only_a_person_confirms(svc, audit):
    t = await svc.stage(SPREAD, ALICE)
    for who in (Principal.agent_for(ALICE), Principal.engine()):
        with pytest.raises(PermissionDenied, match="only a person"):
            await svc.confirm(t.ticket_id, who)
    assert await svc.orders("paper") == []
    assert audit.tail(1)[0]["kind"] == "order.confirm_denied"
    assert (await svc.confirm(t.ticket_id, ALICE))["status"] == "filled"  # the ticket is still good


@pytest.mark.both_backends
async def test_replayed_foreign_expired_and_unknown_tickets(svc):
    t = await svc.stage(SPREAD, ALICE)
    with pytest.raises(TicketError, match="someone else"):
        await svc.confirm(t.ticket_id, BOB)
    await svc.confirm(t.ticket_id, ALICE)
    with pytest.raises(TicketError, match="already confirmed"):
        await svc.confirm(t.ticket_id, ALICE)
    t2 = await svc.stage(SPREAD, ALICE)
    svc.tickets.wall = lambda: time.time() + 121  # the person took longer than 120 s (wall clock)
    with pytest.raises(TicketError, match="expired"):
        await svc.confirm(t2.ticket_id, ALICE)
    with pytest.raises(TicketError, match="unknown"):
        await svc.confirm("TNOPE", ALICE)
    assert len(await svc.orders("paper")) == 1


async def test_ticket_expiry_uses_wall_time_not_market_time(svc, market):
    t = await svc.stage(SPREAD, ALICE)
    market.clock.advance(timedelta(minutes=10))  # the simulated market races ahead of the person
    assert (await svc.confirm(t.ticket_id, ALICE))["status"] == "filled"


async def test_failed_risk_ticket_cannot_be_confirmed(svc):
    t = await svc.stage({**SPREAD, "quantity": 11}, ALICE)
    assert not t.risk["passed"]
    assert [c["name"] for c in t.risk["checks"] if not c["passed"]] == ["max_contracts_per_order"]
    with pytest.raises(TicketError, match="risk"):
        await svc.confirm(t.ticket_id, ALICE)


async def test_confirm_rechecks_risk_on_fresh_quotes(svc, market):
    t = await svc.stage(SPREAD, ALICE)
    market.stale("SPY261120P00640000", 60)
    with pytest.raises(RiskRejected, match="stale") as err:
        await svc.confirm(t.ticket_id, ALICE)
    assert err.value.checks[0]["name"] == "stale_quote"
    assert await svc.orders("paper") == []
    with pytest.raises(TicketError):
        await svc.confirm(t.ticket_id, ALICE)


@pytest.mark.parametrize("bad,text", [
    ({"structure": "condor"}, "unknown structure"),
    ({"legs": [{"right": "put", "strike": 640.5, "side": "sell"}]}, "not listed"),
    ({"quantity": 0}, "quantity"),
    ({"order_type": "limit", "limit_price": 1.234}, "off tick"),
    ({"underlying": "TSLA"}, "not traded"),
    ({"legs": [{"right": "put", "strike": 640, "delta": 0.2, "side": "sell"}]}, "exactly one of strike or delta"),
    ({"account": "margin"}, "account"),
])
async def test_bad_requests_change_nothing(svc, db, audit, bad, text):
    before = audit.count()
    with pytest.raises(InvalidInput, match=text):
        await svc.stage({**SPREAD, **bad}, ALICE)
    assert audit.count() == before
    with db.session("paper") as s:
        assert s.execute(select(func.count()).select_from(TicketRow)).scalar_one() == 0


async def test_delta_legs_and_named_structures(svc):
    t = await svc.stage({"underlying": "SPY", "quantity": 1, "order_type": "market",
                         "legs": [{"right": "put", "delta": 0.2, "side": "sell"},
                                  {"right": "put", "delta": 0.1, "side": "buy"}]}, ALICE)
    strikes = [leg["strike"] for leg in t.preview["legs"]]
    assert strikes[0] > strikes[1] and t.risk["passed"]
    ic = await svc.stage({"underlying": "SPY", "structure": "iron_condor", "delta": 0.15, "width": 5,
                          "quantity": 1, "order_type": "limit", "limit_price": 0.5}, ALICE)
    legs = ic.preview["legs"]
    assert [(x["right"], x["side"]) for x in legs] == [("put", "buy"), ("put", "sell"), ("call", "sell"),
                                                       ("call", "buy")]
    assert ic.preview["net_price"] == D("-0.50")  # positive limit on a credit structure = credit wanted
    assert len(ic.preview["breakevens"]) == 2


@pytest.mark.both_backends
async def test_limit_order_rests_then_fills_when_market_crosses(svc, market):
    sym = "SPY261120C00650000"
    market.set_book(sym, 2.00, 2.10)
    t = await svc.stage({"underlying": "SPY", "quantity": 3, "order_type": "limit", "limit_price": 1.90,
                         "legs": [{"right": "call", "strike": 650, "side": "buy"}]}, ALICE)
    r = await svc.confirm(t.ticket_id, ALICE)
    assert r["status"] == "accepted" and r["fills"] == []
    market.set_book(sym, 1.80, 1.88, 2, 2)  # offer drops through our bid, 2 shown
    await svc.poll("paper")
    o = (await svc.orders("paper"))[0]
    assert o["status"] == "partially_filled" and o["filled_quantity"] == 2 and o["avg_fill_price"] == D("1.90")
    market.set_book(sym, 1.80, 1.85, 5, 5)
    await svc.poll("paper")
    o = (await svc.orders("paper"))[0]
    assert o["status"] == "filled" and o["filled_quantity"] == 3


@pytest.mark.both_backends
async def test_kill_switch_states(svc, market, audit):
    sym = "SPY261120C00650000"
    market.set_book(sym, 2.00, 2.10)
    t = await svc.stage({"underlying": "SPY", "quantity": 1, "order_type": "limit", "limit_price": 1.95,
                         "legs": [{"right": "call", "strike": 650, "side": "buy"}]}, ALICE)
    await svc.confirm(t.ticket_id, ALICE)
    with pytest.raises(PermissionDenied):
        await svc.set_kill_switch("halted", Principal.agent_for(ALICE), "model wants it")
    out = await svc.set_kill_switch("halted", ALICE, "lunch")
    assert out["ledgers"]["paper"]["canceled"] == [t.ticket_id]
    assert (await svc.orders("paper"))[0]["status"] == "canceled"
    assert (await svc.risk_status("paper"))["state"] == "halted"
    t2 = await svc.stage(SPREAD, ALICE)
    assert not t2.risk["passed"] and t2.risk["checks"][0]["name"] == "kill_switch"
    await svc.set_kill_switch("reducing", ALICE)
    opening = await svc.stage(SPREAD, ALICE)
    assert not opening.risk["passed"]
    await svc.set_kill_switch("active", ALICE)
    filled = await svc.confirm((await svc.stage(SPREAD, ALICE)).ticket_id, ALICE)
    await svc.set_kill_switch("reducing", ALICE)
    closing = {**SPREAD, "legs": [{"right": "put", "strike": 640, "side": "buy"},
                                   {"right": "put", "strike": 635, "side": "sell"}]}
    t3 = await svc.stage(closing, ALICE)
    assert t3.risk["passed"], t3.risk
    assert (await svc.confirm(t3.ticket_id, ALICE))["status"] == "filled" and filled["status"] == "filled"
    assert await svc.positions("paper") == []
    assert [r["data"]["to"] for r in audit.tail(200) if r["kind"] == "kill_switch"] == [
        "halted", "reducing", "active", "reducing"]


@pytest.mark.both_backends
async def test_daily_loss_limit_halts_trading(settings, db, market, audit):
    settings.risk.daily_loss_limit = D("100")
    svc = ExecutionService(settings, db=db, market=market, audit=audit)
    await svc.confirm((await svc.stage(SPREAD, ALICE)).ticket_id, ALICE)
    market.set_spot("SPY", 636.0)  # the short put goes deep in the money
    t = await svc.stage(SPREAD, ALICE)
    names = [c["name"] for c in t.risk["checks"] if not c["passed"]]
    assert "daily_loss_limit" in names
    assert (await svc.risk_status("paper"))["state"] == "halted"
    assert audit.tail(20, kind="kill_switch")[-1]["actor"] == "risk-guard"
    await svc.close()


async def test_live_needs_arming_broker_and_a_person_switch(svc, settings, audit):
    with pytest.raises(PermissionDenied, match="not armed"):
        await svc.stage({**SPREAD, "account": "live"}, ALICE)
    with pytest.raises(PermissionDenied, match="not armed"):
        await svc.switch_mode("live", ALICE, "LIVE")
    settings.live_trading = "armed"
    with pytest.raises(PermissionDenied, match="no live broker"):
        await svc.switch_mode("live", ALICE, "LIVE")
    settings.live_broker = "ib"
    with pytest.raises(PermissionDenied, match="person"):
        await svc.switch_mode("live", Principal.agent_for(ALICE), "LIVE")
    with pytest.raises(PermissionDenied, match="typed confirmation"):
        await svc.switch_mode("live", ALICE, "yes")
    viewer = Principal.person("vera", "cli", frozenset({Role.TRADER}))
    with pytest.raises(PermissionDenied, match="live-trader"):
        await svc.switch_mode("live", viewer, "LIVE")
    assert (await svc.switch_mode("live", ALICE, "LIVE"))["mode"] == "live"
    assert await svc.trading_mode() == "live"
    assert audit.tail(1)[0]["kind"] == "mode.switch"
    assert (await svc.switch_mode("paper", ALICE, ""))["previous"] == "live"


@pytest.mark.both_backends
async def test_paper_and_live_ledgers_never_mix(svc, db):
    await svc.confirm((await svc.stage(SPREAD, ALICE)).ticket_id, ALICE)
    assert len(await svc.positions("paper")) == 2
    assert await svc.positions("live") == [] and await svc.orders("live") == []
    with db.session("live") as s:
        assert s.execute(select(func.count()).select_from(CashRow)).scalar_one() == 0


@pytest.mark.both_backends
async def test_idempotent_client_order_id(svc):
    from engine.execution.broker import BrokerOrder, OrderLeg, OrderType, Side

    oms = await svc.manager("paper")
    order = BrokerOrder("CID-1", "paper", "SPY", (OrderLeg("SPY261120C00650000", Side.BUY),), 1, OrderType.MARKET)
    first = await oms.place(order, principal="test")
    again = await oms.place(order, principal="test")
    assert first["order_id"] == again["order_id"] and len(await svc.orders("paper")) == 1
    assert (await oms.broker.submit(order)).broker_order_id == first["broker_order_id"]
    assert len(await oms.broker.executions()) == 1


async def test_risk_status_shape(svc):
    st = await svc.risk_status("paper")
    assert set(st) >= {"state", "limits", "usage"} and st["state"] == "active"
    assert st["limits"]["max_contracts_per_order"] == 20 and "buying_power" in st["usage"]


async def test_greeks_and_pnl(svc):
    await svc.confirm((await svc.stage(SPREAD, ALICE)).ticket_id, ALICE)
    g = await svc.portfolio_greeks("paper")
    assert g["total"]["delta_shares"] > 0  # short put spread is long delta
    assert g["total"]["theta"] > 0        # and collects time decay
    assert (await svc.pnl("paper", "all"))["positions"] == 2


async def test_audit_verify_after_a_session(svc, audit):
    await svc.confirm((await svc.stage(SPREAD, ALICE)).ticket_id, ALICE)
    assert AuditLog(svc.db).verify()[0]


async def test_settings_changes_are_audited(settings, db, market, audit):
    first = ExecutionService(settings, db=db, market=market, audit=audit)
    await first.risk_status("paper")
    assert audit.tail(50, kind="settings.change")[-1]["data"]["first_run"] is True
    await ExecutionService(settings, db=db, market=market, audit=audit).risk_status("paper")
    assert len(audit.tail(50, kind="settings.change")) == 1  # unchanged: nothing new
    settings.risk.max_contracts_per_order = 7
    await ExecutionService(settings, db=db, market=market, audit=audit).risk_status("paper")
    rec = audit.tail(50, kind="settings.change")[-1]["data"]
    assert rec["changed"] == {"risk.max_contracts_per_order": [20, 7]}


async def test_stop_order_waits_for_its_trigger(svc, market):
    sym = "SPY261120C00650000"
    market.set_book(sym, 2.00, 2.10)
    t = await svc.stage({"underlying": "SPY", "quantity": 1, "order_type": "stop", "stop_price": 2.30,
                         "legs": [{"right": "call", "strike": 650, "side": "buy"}]}, ALICE)
    assert t.risk["passed"], t.risk
    r = await svc.confirm(t.ticket_id, ALICE)
    assert r["status"] == "accepted"
    market.set_book(sym, 2.25, 2.35)
    await svc.poll("paper")
    o = (await svc.orders("paper"))[0]
    assert o["status"] == "filled" and o["avg_fill_price"] == D("2.35") and o["stop_price"] == D("2.30")


async def test_calendar_across_two_expiries(svc):
    t = await svc.stage({"underlying": "SPY", "structure": "calendar", "right": "call", "strike": 645,
                         "far_expiry": "2026-11-27", "quantity": 1, "order_type": "market"}, ALICE)
    legs = t.preview["legs"]
    assert [(x["expiry"].isoformat(), x["side"]) for x in legs] == [("2026-11-20", "sell"), ("2026-11-27", "buy")]
    assert t.preview["net_price"] > 0 and t.preview["max_profit"] is None
    assert t.preview["max_loss"] == (t.preview["net_price"] * 100).quantize(D("0.01"))
    assert (await svc.confirm(t.ticket_id, ALICE))["status"] == "filled"


async def test_covered_call_with_a_stock_leg(settings, db, market, audit):
    settings.risk.max_loss_per_order = D("100000")  # the stock can go to zero: a real max loss
    svc = ExecutionService(settings, db=db, market=market, audit=audit)
    t = await svc.stage({"underlying": "SPY", "quantity": 1, "order_type": "market",
                         "stock": {"side": "buy", "ratio": 100},
                         "legs": [{"right": "call", "strike": 650, "side": "sell"}]}, ALICE)
    assert t.risk["passed"], t.risk
    assert t.preview["legs"][-1]["symbol"] == "SPY" and t.preview["defined_risk"]
    r = await svc.confirm(t.ticket_id, ALICE)
    assert r["status"] == "filled"
    pos = {p["symbol"]: p["quantity"] for p in await svc.positions("paper")}
    assert pos == {"SPY": 100, "SPY261120C00650000": -1}
    stock_price = next(D(x["price"]) for x in r["fills"][0]["legs"] if x["symbol"] == "SPY")
    call_price = next(D(x["price"]) for x in r["fills"][0]["legs"] if x["symbol"] != "SPY")
    fill = r["fills"][0]
    cash = (await svc.pnl("paper", "today"))["cash"]
    assert cash == D("100000") - stock_price * 100 + call_price * 100 - fill["commission"] - fill["fees"]
    await svc.close()
