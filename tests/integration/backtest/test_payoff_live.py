"""``BacktestService.payoff`` on the simulated market's current chain (the chat's payoff question)."""

from __future__ import annotations

import asyncio

import pytest

from engine.backtest import BacktestService, PayoffParams
from engine.market.service import MarketService
from engine.settings import get_settings
from engine.strategies import payoff_figure


def ask(params):
    s = get_settings()
    market = MarketService(s)

    async def go():
        try:
            chain = await market.chain(params["underlying"] if isinstance(params, dict) else params.underlying)
            return await BacktestService(s, market=market).payoff(params), chain
        finally:
            await market.close()
    return asyncio.run(go())


def test_iron_condor_on_the_live_chain():
    p, chain = ask(PayoffParams(strategy="iron_condor", underlying="SPY", short_delta=0.15, wing_width=5))
    k = [leg.strike for leg in p.structure.legs]
    assert k[1] - k[0] == 5 and k[3] - k[2] == 5 and k[1] < chain.spot < k[2]
    assert p.is_credit and p.max_profit > 0 and p.max_loss == pytest.approx(500 - p.max_profit, abs=0.5)
    assert len(p.breakevens) == 2 and p.margin == pytest.approx(p.max_loss)
    short_put = chain.by_strike("put", k[1])
    assert abs(abs(chain.puts.delta[short_put]) - 0.15) < 0.08
    assert payoff_figure(p, spot=chain.spot).data


def test_tools_dict_and_calendar():
    p, _ = ask({"strategy": "vertical", "underlying": "QQQ", "side": "buy", "right": "call", "short_delta": 0.4,
                "wing_width": 2})
    assert not p.is_credit and p.legs[0]["side"] == "buy" and p.max_profit is not None
    cal, _ = ask({"strategy": "calendar", "underlying": "SPY", "right": "put"})
    assert cal.structure.is_calendar and cal.net_premium > 0 and cal.margin > 0
