"""The REST API through httpx: every route × every role, confirmation by people only, errors."""

from __future__ import annotations

import pytest

from tests.integration.surfaces.conftest import ROLES, bearer
from tools.catalog import load as load_tools

IC = {"underlying": "SPY", "structure": "iron_condor", "short_delta": 0.10, "wing_width": 5, "quantity": 1,
      "order_type": "limit", "limit_price": 0.50}

#: A valid body for every tool, so the matrix tests authorization, not validation.
BODIES = {
    "quote": {"symbol": "SPY"},
    "chain": {"underlying": "SPY", "strikes_around_atm": 2},
    "market_summary": {"symbol": "SPY"},
    "place_paper_order": IC,
    "orders": {},
    "cancel_order": {"order_id": "nope"},
    "positions": {},
    "portfolio_greeks": {},
    "pnl": {"period": "today"},
    "risk_status": {},
    "backtest": {"strategy": "iron_condor", "underlying": "SPY", "start": "2026-11-16", "end": "2026-11-18"},
    "strategy_payoff": {"strategy": "iron_condor", "underlying": "SPY"},
    "signals": {"underlying": "SPY"},
    "tax_summary": {"year": 2026},
    "wash_sale_check": {"symbol": "SPY261120C00650000", "quantity": 1, "price": 1.25},
    "audit_log": {"limit": 5},
}

LEVEL = {"viewer": 0, "trader": 1, "live-trader": 2, "admin": 3}
NEEDS = {"read": 0, "stage": 1, "write": 1}


def test_every_tool_has_a_matrix_body():
    assert set(BODIES) == set(load_tools().names())


async def test_health_is_open(client):
    r = await client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["mode"] == "paper"


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_tool_routes_by_role(client, tokens, name):
    spec = load_tools().get(name)
    r = await client.post(f"/tools/{name}", json=BODIES[name])
    assert r.status_code == 401, "no token, no answer"
    r = await client.post(f"/tools/{name}", json=BODIES[name], headers=bearer("s0d_forged"))
    assert r.status_code == 401
    for role in ROLES:
        r = await client.post(f"/tools/{name}", json=BODIES[name], headers=bearer(tokens[role]))
        if LEVEL[role] >= NEEDS[spec.effect.value]:
            assert r.status_code not in (401, 403, 500), (role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            assert r.json()["error"]["type"] == "permission_denied"
    r = await client.post(f"/tools/{name}", json=BODIES[name], headers=bearer(tokens["service"]))
    if spec.effect.value == "write":
        assert r.status_code == 403, "state changes are a person's"
    else:
        assert r.status_code not in (401, 403, 500), r.text


async def _stage(client, token) -> str:
    r = await client.post("/tools/place_paper_order", json=IC, headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    return body.get("ticket_id") or body["ticket"]["ticket_id"]


@pytest.mark.parametrize("role", ROLES)
async def test_confirm_by_role(client, tokens, role):
    ticket = await _stage(client, tokens["trader" if role == "viewer" else role])
    r = await client.post(f"/tickets/{ticket}/confirm", headers=bearer(tokens[role]))
    if role == "viewer":
        assert r.status_code == 403
    else:
        assert r.status_code == 200, r.text
        assert r.json()["order_id"] and r.json()["status"]


async def test_service_token_can_stage_but_never_confirm(client, tokens):
    ticket = await _stage(client, tokens["service"])
    r = await client.post(f"/tickets/{ticket}/confirm", headers=bearer(tokens["service"]))
    assert r.status_code == 403
    assert "person" in r.json()["error"]["message"]
    r = await client.post(f"/tickets/{ticket}/confirm", headers=bearer(tokens["trader"]))
    assert r.status_code == 409, "a ticket is confirmed only by the person it was staged for"
    mine = await _stage(client, tokens["trader"])
    assert (await client.post(f"/tickets/{mine}/confirm", headers=bearer(tokens["trader"]))).status_code == 200
    r = await client.post(f"/tickets/{mine}/confirm", headers=bearer(tokens["trader"]))
    assert r.status_code == 409, "a ticket confirms once"


async def test_cancel_ticket_then_confirm_is_refused(client, tokens):
    ticket = await _stage(client, tokens["trader"])
    assert (await client.post(f"/tickets/{ticket}/cancel", headers=bearer(tokens["viewer"]))).status_code == 403
    assert (await client.post(f"/tickets/{ticket}/cancel", headers=bearer(tokens["trader"]))).status_code == 200
    r = await client.post(f"/tickets/{ticket}/confirm", headers=bearer(tokens["trader"]))
    assert r.status_code == 409


@pytest.mark.parametrize("path", ["/positions", "/orders", "/audit"])
async def test_ledger_routes_need_a_token(client, tokens, path):
    assert (await client.get(path)).status_code == 401
    for role in ROLES:
        assert (await client.get(path, headers=bearer(tokens[role]))).status_code == 200


async def test_admin_routes_are_admin_only(client, tokens):
    for role in ROLES:
        r = await client.post("/admin/kill", json={"state": "halted", "reason": "test"},
                              headers=bearer(tokens[role]))
        assert r.status_code == (200 if role == "admin" else 403), (role, r.text)
    r = await client.post("/admin/kill", json={"state": "active"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200
    r = await client.post("/admin/mode", json={"mode": "live", "confirmation": "live"}, headers=bearer(tokens["trader"]))
    assert r.status_code == 403


async def test_bad_body_is_422_naming_the_field(client, tokens):
    r = await client.post("/tools/chain", json={"underlying": "SPY", "strikes_around_atm": 0},
                          headers=bearer(tokens["viewer"]))
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "strikes_around_atm"
    r = await client.post("/tools/quote", json={"symbol": "SPY", "extra": 1}, headers=bearer(tokens["viewer"]))
    assert r.status_code == 422 and r.json()["error"]["field"] == "extra"


async def test_ask_goes_through_the_agent_and_never_places(client, tokens):
    r = await client.post("/ask", json={"text": "paper sell a 10 delta spy iron condor 5 wide"},
                          headers=bearer(tokens["trader"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["orders_placed"] == []
    assert body["tool_calls"] and body["tool_calls"][0]["name"] == "place_paper_order"
    assert (await client.post("/ask", json={"text": "hi"})).status_code == 401


async def test_rate_limit_per_token(api_engine, tokens):
    import httpx

    from tools.api.app import create_app

    api_engine.settings.api_rate_limit_per_minute = 3
    app = create_app(api_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        codes = [(await c.post("/tools/quote", json={"symbol": "SPY"}, headers=bearer(tokens["viewer"]))).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        other = await c.post("/tools/quote", json={"symbol": "SPY"}, headers=bearer(tokens["trader"]))
        assert other.status_code == 200


async def test_secrets_never_in_responses(monkeypatch, fresh_home):
    import httpx

    from agent.surfaces_api import build_api
    from engine.runtime import Engine
    from engine.settings import load_settings
    from tools.auth import UserStore

    secret = "sk-never-show-this-0123456789"
    engine = Engine(load_settings(openai_api_key=None, polygon_api_key=secret))
    token = UserStore(engine.db).add("a", "admin")
    app = build_api(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        for path in ("/health", "/audit", "/openapi.json"):
            r = await c.get(path, headers=bearer(token))
            assert secret not in r.text
        r = await c.post("/tools/risk_status", json={}, headers=bearer(token))
        assert secret not in r.text
    await engine.close()
