"""The Polygon feed behind the market service and the CLI contract (``SMART0DTE_FEED=polygon``)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime

import pytest

from engine.core.clock import NY
from engine.market import calendar
from engine.market.service import MarketService
from engine.settings import load_settings
from tests.loopback.polygon_server import PolygonLoopback

KEY = "svc-key"


@pytest.fixture
async def server(shared_data):
    async with PolygonLoopback(shared_data, api_key=KEY) as srv:
        yield srv


def _env(srv) -> dict[str, str]:
    return {"SMART0DTE_FEED": "polygon", "SMART0DTE_POLYGON_API_KEY": KEY,
            "SMART0DTE_POLYGON_BASE_URL": srv.rest_url, "SMART0DTE_POLYGON_WS_URL": srv.ws_url}


def _expiry_arg() -> str:
    """Today's expiry while it still trades, else the next session's: after the close today's 0DTE
    contracts have expired (delta 0), which is right but not what these checks are about."""
    now = datetime.now(NY)
    today = now.date()
    if calendar.is_session(today) and now < calendar.session_close(today):
        return "0dte"
    return calendar.next_session(today).isoformat()


async def test_market_service_quote_and_chain(server, tmp_path):
    svc = MarketService(load_settings(home=tmp_path / "home", **{k[10:].lower(): v for k, v in _env(server).items()}))
    try:
        assert svc.feed.name == "polygon"
        q = await svc.quote("SPY")
        assert q.source == "polygon" and q.bid < q.ask
        assert svc.cache.get("SPY").bid == q.bid
        chain = await svc.chain("SPY", _expiry_arg())
        rows = chain.rows(strikes_around_atm=2)
        assert rows and {r["right"] for r in rows} == {"call", "put"}
        assert all(r["bid"] <= r["ask"] for r in rows)
        assert chain.spot == pytest.approx(600.0)
        atm = next(r for r in rows if r["strike"] == 600.0 and r["right"] == "call")
        assert 0.3 < atm["delta"] < 0.7  # computed locally from the vendor's quotes
    finally:
        await svc.close()


async def _cli(env: dict[str, str], *args: str) -> tuple[int, dict]:
    exe = os.path.join(os.path.dirname(sys.executable), "smart0dte")
    proc = await asyncio.create_subprocess_exec(exe, *args, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert out, err.decode()
    return proc.returncode, json.loads(out)


@pytest.mark.slow
async def test_cli_contract_over_polygon(server):
    code, quote = await _cli(_env(server), "quote", "SPY", "--json")
    assert code == 0, quote
    assert set(quote) >= {"symbol", "bid", "ask", "last", "bid_size", "ask_size", "ts", "source"}
    assert quote["symbol"] == "SPY" and quote["source"] == "polygon" and quote["last"] == 600.0
    code, chain = await _cli(_env(server), "chain", "SPY", "--expiry", _expiry_arg(), "--strikes", "2", "--json")
    assert code == 0, chain
    assert chain["underlying"] == "SPY" and chain["spot"] == 600.0 and chain["rows"]
    code, err = await _cli({**_env(server), "SMART0DTE_POLYGON_API_KEY": "nope"}, "quote", "SPY", "--json")
    assert code == 2 and err["error"]["type"] == "auth_error" and "nope" not in json.dumps(err)
