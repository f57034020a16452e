"""place_paper_order stages (never confirms), orders/cancel/positions/pnl/risk/greeks, the role rules."""

from __future__ import annotations

import pytest

from engine.core.errors import PermissionDenied
from engine.core.principal import Principal, Role
from tools.registry import ToolContext, ToolInputError
from tools.trading import PlacePaperOrderArgs

IC = {"underlying": "SPY", "structure": "iron_condor", "side": "sell", "short_delta": 0.1, "wing_width": 5}


async def test_place_paper_order_stages_a_ticket_priced_at_mid(registry, agent_ctx, engine):
    out = await registry.call("place_paper_order", IC, agent_ctx)
    assert out.ticket_id and out.ledger == "paper" and out.needs_person_confirmation
    assert out.priced_at == "mid" and out.preview.price_effect == "credit"
    assert len(out.preview.legs) == 4 and {leg.side for leg in out.preview.legs} == {"buy", "sell"}
    assert out.preview.max_loss > 0 and len(out.preview.breakevens) == 2
    assert abs(abs(out.preview.net_price) - abs(out.preview.mid_price)) <= 0.02
    assert out.risk.checks and out.risk.passed
    assert (await engine.orders("paper")) == []  # staged only: nothing reached the broker


async def test_place_paper_order_explicit_legs_and_limit(registry, agent_ctx):
    chain = await registry.call("chain", {"underlying": "SPY", "right": "put", "strikes_around_atm": 8}, agent_ctx)
    k = sorted(r.strike for r in chain.rows)
    args = {"underlying": "SPY", "legs": [{"right": "put", "strike": k[3], "side": "sell"},
                                          {"right": "put", "strike": k[1], "side": "buy"}],
            "quantity": 2, "limit_price": 0.5}
    out = await registry.call("place_paper_order", args, agent_ctx)
    assert out.priced_at == "limit" and [leg.strike for leg in out.preview.legs] == [k[3], k[1]]
    assert [leg.quantity for leg in out.preview.legs] == [2, 2]


async def test_place_paper_order_is_paper_only_and_has_no_account_field(registry, agent_ctx):
    with pytest.raises(ToolInputError) as err:
        await registry.call("place_paper_order", {**IC, "account": "live"}, agent_ctx)
    assert err.value.field == "account"


@pytest.mark.parametrize("bad, field", [
    ({"underlying": "SPY"}, None),
    ({**IC, "legs": [{"right": "put", "strike": 600, "side": "sell"}]}, None),
    ({"underlying": "SPY", "legs": [{"right": "put", "side": "sell"}]}, "legs.0"),
    ({**IC, "quantity": 0}, "quantity"),
    ({**IC, "order_type": "market", "limit_price": 1.0}, None),
    ({**IC, "underlying": "TSLA"}, "underlying"),
])
def test_place_paper_order_bad_arguments(registry, bad, field):
    with pytest.raises(ToolInputError) as err:
        registry.parse("place_paper_order", bad)
    assert err.value.field == field and err.value.message


async def test_unlisted_strike_is_a_clear_error_and_stages_nothing(registry, agent_ctx, engine):
    args = {"underlying": "SPY", "legs": [{"right": "call", "strike": 612.5, "side": "buy"}], "limit_price": 1}
    with pytest.raises(Exception, match="612.5"):
        await registry.call("place_paper_order", args, agent_ctx)
    assert (await engine.orders("paper")) == []


async def test_cancel_order_is_write_only_for_a_person(registry, agent_ctx, person_ctx):
    with pytest.raises(PermissionDenied):
        await registry.call("cancel_order", {"order_id": "12345"}, agent_ctx)
    with pytest.raises(Exception, match="12345"):  # the person may ask; the order does not exist
        await registry.call("cancel_order", {"order_id": "12345"}, person_ctx)


async def test_a_viewer_cannot_stage(registry, engine):
    viewer = ToolContext(engine, Principal.person("bob", "test", frozenset({Role.VIEWER})))
    assert (await registry.call("positions", {}, viewer)).positions == []
    with pytest.raises(PermissionDenied):
        await registry.call("place_paper_order", IC, viewer)


async def test_confirmed_order_shows_in_orders_positions_pnl_and_greeks(registry, agent_ctx, engine):
    staged = await registry.call("place_paper_order", {"underlying": "SPY", "legs": [
        {"right": "call", "delta": 0.3, "side": "buy"}], "order_type": "market"}, agent_ctx)
    done = await engine.confirm(staged.ticket_id, Principal.person("alice", "test"))  # the person's action
    orders = await registry.call("orders", {"status": "all"}, agent_ctx)
    assert [o.order_id for o in orders.orders] == [done["order_id"]]
    pos = await registry.call("positions", {}, agent_ctx)
    assert pos.positions and pos.positions[0].quantity == 1
    greeks = await registry.call("portfolio_greeks", {}, agent_ctx)
    assert greeks.total.delta_shares == pytest.approx(30, abs=12)
    pnl = await registry.call("pnl", {"period": "today"}, agent_ctx)
    assert pnl.total is not None and pnl.fees > 0


async def test_risk_status_reports_state_limits_usage(registry, agent_ctx):
    out = await registry.call("risk_status", {}, agent_ctx)
    assert out.state == "active" and out.limits and "open_orders" in out.usage


def test_leg_needs_exactly_one_selector():
    with pytest.raises(ValueError):
        PlacePaperOrderArgs.model_validate({"underlying": "SPY", "legs": [
            {"right": "put", "strike": 600, "delta": 0.2, "side": "sell"}]})


async def test_greeks_by_underlying_sum_to_the_total(registry, agent_ctx, engine):
    for underlying in ("SPY", "QQQ"):
        staged = await registry.call("place_paper_order", {"underlying": underlying, "legs": [
            {"right": "put", "delta": 0.25, "side": "buy"}], "order_type": "market"}, agent_ctx)
        await engine.confirm(staged.ticket_id, Principal.person("alice", "test"))
    g = await registry.call("portfolio_greeks", {}, agent_ctx)
    assert set(g.by_underlying) == {"SPY", "QQQ"}
    assert g.total.delta_shares < 0
    assert sum(r.delta_shares for r in g.by_underlying.values()) == pytest.approx(g.total.delta_shares, abs=0.05)


async def test_exits_ride_along_in_percent_points(registry, agent_ctx, engine):
    from tools.trading import _stage_request

    args = registry.parse("place_paper_order", {**IC, "take_profit_pct": 0.5, "stop_loss_pct": 2.0,
                                                "exit_time": "15:45"})[1]
    req = _stage_request(args, 0.3)
    assert req["exits"] == {"take_profit_pct": 50.0, "stop_loss_pct": 200.0, "exit_at": "15:45", "trailing": False}
    assert req["account"] == "paper" and req["direction"] == "short" and req["limit_price"] == "0.3"
    out = await registry.call("place_paper_order", {**IC, "take_profit_pct": 0.5, "exit_time": "15:45"}, agent_ctx)
    assert out.ticket_id and out.risk.passed
