"""Every check of the risk guard: one passing and one failing case each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from engine.core.clock import NY
from engine.execution.config import RiskConfig
from engine.execution.risk import RiskContext, RiskGuard, RiskLeg, RiskOrder, is_risk_reducing

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=NY)
TODAY = NOW.date()


def leg(symbol="SPY261120P00640000", side=-1, contracts=2, right="put", strike=640.0, expiry=TODAY,
        quote_ts=NOW, is_option=True) -> RiskLeg:
    return RiskLeg(symbol, side, contracts, is_option, right, strike, expiry, quote_ts, 1.0, 1.05)


def spread(**kw) -> RiskOrder:
    """A 2-lot 5-wide put credit spread at 1.00 credit."""
    base = dict(client_order_id="T1", underlying="SPY",
                legs=(leg(), leg("SPY261120P00635000", 1, 2, strike=635.0)), quantity=2, order_type="limit",
                limit_price=-1.00, mid_price=-1.02, premium=200.0, notional=127_500.0, max_loss=800.0,
                margin=800.0, naked=False, spot=646.0)
    base.update(kw)
    return RiskOrder(**base)


def ctx(**kw) -> RiskContext:
    base = dict(now=NOW, kill_state="active", market_open=True,
                session_close=datetime.combine(TODAY, time(16, 0), NY), buying_power=100_000.0, wall_now=1000.0)
    base.update(kw)
    return RiskContext(**base)


def result(name: str, order: RiskOrder, context: RiskContext, config: RiskConfig | None = None):
    decision = RiskGuard(config).check(order, context)
    found = [c for c in decision.checks if c[0] == name]
    assert len(found) == 1, name
    return found[0][1], found[0][2], decision


def test_a_plain_spread_passes_every_check():
    d = RiskGuard().check(spread(), ctx())
    assert d.passed, d.summary()
    assert len(d.checks) == 17 and all(reason for _, _, reason in d.checks)
    assert d.to_dict()["checks"][0] == {"name": "kill_switch", "passed": True, "reason": "kill switch ACTIVE"}


CLOSING = {"SPY261120P00640000": 2, "SPY261120P00635000": -2}  # the spread closes these

CASES = [
    # name, passing (order kwargs, ctx kwargs, config), failing (order kwargs, ctx kwargs, config), fail text
    ("kill_switch", ({}, {"kill_state": "reducing", "positions": CLOSING}, None),
     ({}, {"kill_state": "reducing"}, None), "REDUCING"),
    ("market_hours", ({}, {}, None), ({}, {"market_open": False}, None), "market is closed"),
    ("odte_cutoff", ({}, {"now": NOW.replace(hour=15, minute=44)}, None),
     ({}, {"now": NOW.replace(hour=15, minute=46)}, None), "15:45"),
    ("stale_quote", ({}, {}, None), ({"legs": (leg(quote_ts=NOW - timedelta(seconds=30)),)}, {}, None), "stale"),
    ("duplicate_client_id", ({}, {"known_client_ids": {"OTHER"}}, None), ({}, {"known_client_ids": {"T1"}}, None),
     "already used"),
    ("max_contracts_per_order", ({}, {}, RiskConfig(max_contracts_per_order=4)), ({}, {}, RiskConfig(max_contracts_per_order=3)),
     "limit 3"),
    ("max_open_contracts", ({}, {"open_contracts": 196}, None), ({}, {"open_contracts": 197}, None), "limit 200"),
    ("max_open_orders", ({}, {"open_orders": 19}, None), ({}, {"open_orders": 20}, None), "limit 20"),
    ("order_rate", ({}, {"recent_orders": [999.0] * 29}, None), ({}, {"recent_orders": [999.0] * 30}, None),
     "last minute"),
    ("max_premium_per_order", ({"premium": 10_000.0}, {}, None), ({"premium": 10_000.01}, {}, None), "premium"),
    ("max_notional_per_order", ({"notional": 5_000_000.0}, {}, None), ({"notional": 5_000_001.0}, {}, None), "notional"),
    ("defined_risk", ({"naked": True}, {}, RiskConfig(allow_naked_short_options=True)), ({"naked": True}, {}, None),
     "undefined risk"),
    ("max_loss_per_order", ({"max_loss": 5000.0}, {}, None), ({"max_loss": 5000.01}, {}, None), "max loss"),
    ("buying_power", ({}, {"buying_power": 800.0}, None), ({}, {"buying_power": 799.0}, None), "buying power"),
    ("daily_loss_limit", ({}, {"daily_pnl": -1999.0}, None), ({}, {"daily_pnl": -2000.0}, None), "halts"),
    ("price_collar", ({"limit_price": -0.80}, {}, None), ({"limit_price": -0.70}, {}, None), "collar"),
    ("short_itm_into_close", ({"spot": 646.0}, {"now": NOW.replace(hour=15, minute=40)}, None),
     ({"spot": 630.0}, {"now": NOW.replace(hour=15, minute=40)}, None), "assignment"),
]


@pytest.mark.parametrize("name,good,bad,text", CASES, ids=[c[0] for c in CASES])
def test_each_check_passes_and_fails(name, good, bad, text):
    ok, reason, _ = result(name, spread(**good[0]), ctx(**good[1]), good[2])
    assert ok, reason
    ok, reason, decision = result(name, spread(**bad[0]), ctx(**bad[1]), bad[2])
    assert not ok and text in reason
    assert not decision.passed and name in decision.summary()


def test_every_check_is_covered():
    assert {c[0] for c in CASES} == {c[0] for c in RiskGuard().check(spread(), ctx()).checks}


def test_halted_refuses_even_closing_orders():
    ok, reason, _ = result("kill_switch", spread(), ctx(kill_state="halted", positions=CLOSING))
    assert not ok and "HALTED" in reason


def test_daily_loss_breach_asks_for_a_halt_but_lets_closing_orders_through():
    d = RiskGuard().check(spread(), ctx(daily_pnl=-2500.0, positions=CLOSING))
    assert d.halt and dict((n, p) for n, p, _ in d.checks)["daily_loss_limit"]


def test_unbounded_loss_fails_max_loss_unless_naked_allowed():
    ok, reason, _ = result("max_loss_per_order", spread(max_loss=None, naked=True), ctx())
    assert not ok and "unbounded" in reason
    ok, _, _ = result("max_loss_per_order", spread(max_loss=None, naked=True), ctx(),
                      RiskConfig(allow_naked_short_options=True))
    assert ok


def test_market_order_passes_the_collar_and_collar_has_a_dollar_floor():
    assert result("price_collar", spread(limit_price=None, order_type="market"), ctx())[0]
    cheap = spread(limit_price=0.14, mid_price=0.05)
    assert result("price_collar", cheap, ctx())[0]  # 0.09 off: inside the $0.10 floor
    assert not result("price_collar", replace(cheap, limit_price=0.16), ctx())[0]


def test_risk_reducing_needs_every_leg_against_a_position_and_no_flip():
    o = spread(legs=(leg(side=1, contracts=2),))
    assert is_risk_reducing(o, {"SPY261120P00640000": -2})
    assert not is_risk_reducing(o, {"SPY261120P00640000": -1})   # would flip long
    assert not is_risk_reducing(o, {"SPY261120P00640000": 3})    # adds to a long
    assert not is_risk_reducing(o, {})


def test_reducing_orders_skip_cutoff_and_buying_power():
    closing = spread(legs=(leg(side=1, contracts=2),))
    c = ctx(now=NOW.replace(hour=15, minute=55), positions={"SPY261120P00640000": -2}, buying_power=0.0)
    d = RiskGuard().check(closing, c)
    checks = {n: p for n, p, _ in d.checks}
    assert checks["odte_cutoff"] and checks["buying_power"] and checks["max_loss_per_order"]


def test_config_reads_hhmm_strings_and_decimal_limits():
    cfg = RiskConfig(odte_cutoff="15:30", max_loss_per_order="750")
    assert cfg.odte_cutoff == time(15, 30) and cfg.max_loss_per_order == Decimal("750")
    assert not result("odte_cutoff", spread(), ctx(now=NOW.replace(hour=15, minute=31)), cfg)[0]
    assert date(2026, 11, 20) == TODAY
