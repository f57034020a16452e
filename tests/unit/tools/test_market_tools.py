"""quote, chain and market_summary through the registry against the simulated market."""

from __future__ import annotations

from datetime import date

import pytest

from tools.registry import ToolInputError


async def test_quote_matches_engine(registry, agent_ctx, engine):
    out = await registry.call("quote", {"symbol": " spy "}, agent_ctx)
    q = await engine.quote("SPY")
    assert out.symbol == "SPY" and out.source == "sim"
    assert 0 < out.bid <= out.ask and out.mid == pytest.approx((out.bid + out.ask) / 2)
    assert abs(out.mid - q.mid) / q.mid < 0.01  # same simulated market, same instant ± drift
    assert out.ts.tzinfo is not None and out.session == date(2026, 11, 20)


async def test_quote_of_an_option_symbol(registry, agent_ctx):
    chain = await registry.call("chain", {"underlying": "SPY", "strikes_around_atm": 1}, agent_ctx)
    sym = chain.rows[0].symbol
    out = await registry.call("quote", {"symbol": sym}, agent_ctx)
    assert out.symbol == sym and out.ask >= out.bid >= 0


async def test_chain_rows_are_near_the_money_with_greeks(registry, agent_ctx):
    out = await registry.call("chain", {"underlying": "spy", "strikes_around_atm": 3}, agent_ctx)
    assert out.underlying == "SPY" and out.expiry == date(2026, 11, 20)
    strikes = sorted({r.strike for r in out.rows})
    assert len(strikes) == 7 and strikes[0] < out.spot < strikes[-1]
    assert {r.right for r in out.rows} == {"call", "put"}
    for r in out.rows:
        assert 0 < r.iv < 3 and r.gamma > 0 and r.theta < 0
        assert (0 < r.delta < 1) if r.right == "call" else (-1 < r.delta < 0)


async def test_chain_filters_by_right_and_delta(registry, agent_ctx):
    out = await registry.call("chain", {"underlying": "QQQ", "right": "put", "min_delta": 0.1, "max_delta": 0.3,
                                        "strikes_around_atm": 40}, agent_ctx)
    assert out.rows and all(r.right == "put" and 0.1 <= abs(r.delta) <= 0.3 for r in out.rows)


async def test_chain_bad_delta_band_names_the_problem(registry, agent_ctx):
    with pytest.raises(ToolInputError, match="min_delta"):
        await registry.call("chain", {"underlying": "SPY", "min_delta": 0.5, "max_delta": 0.2}, agent_ctx)


async def test_market_summary_of_yesterday(registry, agent_ctx):
    out = await registry.call("market_summary", {"symbol": "SPY", "date": "2026-11-19"}, agent_ctx)
    assert out.date == date(2026, 11, 19)
    assert out.low <= out.close <= out.high and out.range == pytest.approx(out.high - out.low, abs=0.02)
    assert out.realized_vol > 0 and out.vix > 0 and out.atm_iv > 0

