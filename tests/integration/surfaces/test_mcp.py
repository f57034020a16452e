"""The MCP server through the official SDK's own client: stdio subprocess and streamable HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

REPO = Path(__file__).resolve().parents[3]
EXE = shutil.which("smart0dte", path=str(REPO / ".venv" / "bin")) or "smart0dte"


def _env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART0DTE_")}
    env.update(SMART0DTE_HOME=str(home), SMART0DTE_SIM_START="2026-11-20T10:30:00-05:00")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _exercise(session: ClientSession) -> None:
    await session.initialize()
    listed = {t.name: t for t in (await session.list_tools()).tools}
    assert {"quote", "chain", "place_paper_order"} <= set(listed)
    assert not any("confirm" in name for name in listed), "no tool may confirm an order"
    assert listed["quote"].annotations.readOnlyHint is True
    assert listed["place_paper_order"].annotations.destructiveHint is True
    assert listed["chain"].inputSchema["additionalProperties"] is False

    quote = await session.call_tool("quote", {"symbol": "SPY"})
    assert not quote.isError, quote.content
    assert quote.structuredContent["symbol"] == "SPY"
    assert 0 < quote.structuredContent["bid"] <= quote.structuredContent["ask"]

    chain = await session.call_tool("chain", {"underlying": "SPY", "strikes_around_atm": 3})
    assert not chain.isError, chain.content
    rows = chain.structuredContent["rows"]
    assert rows and all(r["iv"] is None or 0 < r["iv"] < 3 for r in rows)

    bad = await session.call_tool("chain", {"underlying": "SPY", "strikes_around_atm": 0})
    assert bad.isError and "strikes_around_atm" in bad.content[0].text

    staged = await session.call_tool("place_paper_order", {
        "underlying": "SPY", "legs": [{"right": "put", "delta": 0.10, "side": "sell", "ratio": 1},
                                      {"right": "put", "delta": 0.05, "side": "buy", "ratio": 1}],
        "quantity": 1, "order_type": "limit", "limit_price": 0.10})
    assert not staged.isError, staged.content
    assert "person must confirm" in staged.content[0].text
    ticket = staged.structuredContent
    ticket_id = ticket.get("ticket_id") or ticket["ticket"]["ticket_id"]

    orders = await session.call_tool("orders", {})
    assert not orders.isError
    assert json.dumps(orders.structuredContent).count(ticket_id) == 0, "a staged ticket is not an order"
    return ticket_id


async def test_mcp_stdio_lists_quotes_chains_and_stages(fresh_home):
    params = StdioServerParameters(command=EXE, args=["mcp"], env=_env(fresh_home))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await _exercise(session)


async def test_mcp_http_needs_a_bearer_token(fresh_home):
    env = _env(fresh_home)
    token = json.loads(subprocess.check_output([EXE, "users", "add", "bot", "--role", "trader", "--service",
                                                "--json"], env=env, text=True))["token"]
    port = _free_port()
    proc = subprocess.Popen([EXE, "mcp", "--http", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        import httpx

        r = httpx.post(f"http://127.0.0.1:{port}/mcp/", json={})
        assert r.status_code == 401
        url = f"http://127.0.0.1:{port}/mcp/"
        async with streamablehttp_client(url, headers={"Authorization": f"Bearer {token}"}) as (read, write, _), \
                ClientSession(read, write) as session:
            await _exercise(session)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.returncode not in (0, -15):
            sys.stderr.write(proc.stderr.read().decode())
