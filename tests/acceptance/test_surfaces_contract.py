"""Issue 10: ``users add``, ``serve`` (REST API with bearer tokens) and ``mcp`` (stdio), as started from a shell."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import httpx

from tests.acceptance.cli import SCRIPT

STAGE = {"underlying": "SPY", "legs": [{"right": "call", "strike": 650, "side": "buy", "ratio": 1}],
         "quantity": 1, "order_type": "market"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_users_and_rest_api(cli):
    trader = cli("users", "add", "alice", "--role", "trader", "--json").ok()
    assert {"name", "role", "token"} <= set(trader) and trader["role"] == "trader" and trader["token"]
    viewer, duplicate, bad_role = cli.many(("users", "add", "vic", "--role", "viewer", "--json"),
                                           ("users", "add", "alice", "--role", "trader", "--json"),
                                           ("users", "add", "eve", "--role", "god", "--json"))
    viewer_token = viewer.ok()["token"]
    duplicate.error()
    bad_role.error()
    listed = cli("users", "list", "--json").ok()
    assert {u["name"] for u in listed} == {"alice", "vic"} and "token" not in str(listed)

    port = free_port()
    proc = subprocess.Popen([str(SCRIPT), "serve", "--port", str(port)], env=cli.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "serve did not answer /health within 60 s"
                time.sleep(0.2)
        assert health.status_code == 200
        auth = {"authorization": f"Bearer {trader['token']}"}
        assert httpx.post(f"{base}/tools/quote", json={"symbol": "SPY"}, timeout=30).status_code == 401
        q = httpx.post(f"{base}/tools/quote", json={"symbol": "SPY"}, headers=auth, timeout=30)
        assert q.status_code == 200 and q.json()["symbol"] == "SPY"
        bad = httpx.post(f"{base}/tools/quote", json={"symbl": "SPY"}, headers=auth, timeout=30)
        assert bad.status_code == 422 and "symbol" in bad.text
        denied = httpx.post(f"{base}/tools/place_paper_order", json=STAGE, timeout=30,
                            headers={"authorization": f"Bearer {viewer_token}"})
        assert denied.status_code == 403
        assert trader["token"] not in (q.text + bad.text + denied.text)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _mcp_session(env: dict) -> dict:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=str(SCRIPT), args=["mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name: t for t in (await session.list_tools()).tools}
        quote = await session.call_tool("quote", {"symbol": "SPY"})
        staged = await session.call_tool("place_paper_order", STAGE)
        return {"tools": tools, "quote": quote, "staged": staged}


def test_mcp_stdio(cli):
    out = asyncio.run(asyncio.wait_for(_mcp_session(cli.env), timeout=120))
    tools = out["tools"]
    assert {"quote", "chain", "place_paper_order"} <= set(tools)
    assert not [n for n in tools if "confirm" in n]
    assert tools["quote"].annotations.readOnlyHint is True
    assert tools["place_paper_order"].annotations.destructiveHint is True
    assert tools["quote"].outputSchema
    quote = out["quote"]
    assert not quote.isError and quote.structuredContent["symbol"] == "SPY"
    staged = out["staged"]
    assert not staged.isError and staged.structuredContent["ticket_id"]
    assert cli("orders", "--json").ok() == []  # staged, pending a person
