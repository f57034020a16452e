"""Offline ``ask`` round trip, in process: text → router → tool → engine → template answer → memory.

Goal: p50 ≤ 50 ms. Printed side by side, in the same run and on the same questions:

* ``floor``: the bare tool calls through the registry (what any surface must pay at least);
* ``peer``: the same questions through the LangChain agent (``create_agent`` + ``ChatOpenAI``,
  the real ``openai`` client) against a loopback OpenAI-compatible server that answers instantly —
  the agent machinery alone, with no model latency at all.

Run: ``.venv/bin/python benchmarks/agent_bench.py`` (simulated market, a temporary home).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUESTIONS = [
    ("quote spy", "quote", {"symbol": "SPY"}),
    ("what's the qqq 0dte chain, 5 strikes around atm", "chain", {"underlying": "QQQ", "strikes_around_atm": 5}),
    ("what happened to SPY volatility yesterday?", "market_summary", {"symbol": "SPY", "date": "2026-11-19"}),
    ("what are my positions", "positions", {}),
    ("pnl this week", "pnl", {"period": "week"}),
    ("risk status", "risk_status", {}),
    ("iwm bid ask", "quote", {"symbol": "IWM"}),
    ("tell me a joke", None, {}),
]
ROUNDS = 40


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def bench() -> dict:
    from agent.core import Assistant
    from engine.core.principal import Principal
    from engine.runtime import Engine
    from engine.settings import load_settings
    from tools.catalog import load
    from tools.registry import ToolContext

    person = Principal.person("bench", "bench")
    engine = Engine(load_settings())
    registry = load()
    assistant = Assistant(engine, person, llm="offline")
    ctx = ToolContext(engine, Principal.agent_for(person))
    for text, _, _ in QUESTIONS:  # warm-up: caches, numba kernels, tables
        await assistant.ask(text, "warm")

    ours, floor = [], []
    for i in range(ROUNDS):
        for text, tool, args in QUESTIONS:
            t0 = time.perf_counter()
            await assistant.ask(text, f"t{i % 4}")
            ours.append(time.perf_counter() - t0)
            if tool:
                t0 = time.perf_counter()
                await registry.call(tool, args, ctx)
                floor.append(time.perf_counter() - t0)

    peer = await _peer(person)
    await engine.close()
    return {"ours": ours, "floor": floor, "peer": peer}


async def _peer(person) -> list[float]:
    """The same tool round trips through the LangChain agent against an instant loopback model."""
    from agent.core import Assistant
    from engine.runtime import Engine
    from engine.settings import load_settings
    from tests.loopback.openai_server import OpenAIServer, call, say

    times: list[float] = []
    with OpenAIServer() as srv:
        engine = Engine(load_settings(openai_base_url=srv.base_url, openai_api_key="sk-bench"))
        assistant = Assistant(engine, person)
        rounds = [(text, tool, args) for text, tool, args in QUESTIONS if tool] * 4
        for n, (text, tool, args) in enumerate(rounds):
            srv.add(call(tool, args), say("Here are the numbers."))
            t0 = time.perf_counter()
            await assistant.ask(text, "peer")
            if n >= len(QUESTIONS):  # the first pass warms the client and graph
                times.append(time.perf_counter() - t0)
        await engine.close()
    return times


def main() -> None:
    home = tempfile.mkdtemp(prefix="agent-bench-")
    os.environ["SMART0DTE_HOME"] = home
    os.environ.setdefault("SMART0DTE_SIM_START", "2026-11-20T10:30:00-05:00")
    for key in ("SMART0DTE_OPENAI_API_KEY", "SMART0DTE_OPENAI_BASE_URL"):
        os.environ.pop(key, None)
    r = asyncio.run(bench())
    ours, floor, peer = r["ours"], r["floor"], r["peer"]
    p50, p95 = statistics.median(ours) * 1000, pct(ours, 0.95) * 1000
    f50, k50 = statistics.median(floor) * 1000, statistics.median(peer) * 1000
    print(f"offline ask round trip  : p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({len(ours)} asks)  goal p50 <= 50 ms")
    print(f"floor (bare tool calls) : p50 {f50:7.2f} ms  ({len(floor)} calls)")
    print(f"peer (LangChain agent, loopback model, no model latency): p50 {k50:7.2f} ms  ({len(peer)} asks)")
    print(f"ratio ours/floor {p50 / f50:5.2f}x   ours/peer {p50 / k50:5.2f}x (peer is {k50 / p50:4.1f}x slower)")
    print("PASS" if p50 <= 50 else "FAIL: p50 above 50 ms")


if __name__ == "__main__":
    main()
