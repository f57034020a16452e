"""CLI latency: ``smart0dte quote SPY --json`` and ``chain SPY --json``, process start to output.

Peer: a bare ``python -c`` that prints the same JSON shape (the floor any Python CLI pays), in the
same run. Also the in-process cost of one simulated quote and one 0DTE chain, cold (fresh
session path) and warm (cached), which is the simulator's own share. Target: a quote call well
under 1 s total, ideally < 300 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5


def _wall(cmd: list[str], env: dict) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _in_process() -> tuple[float, float, float]:
    from datetime import datetime

    from engine.core.clock import NY
    from engine.market.sim import SimMarket

    m = SimMarket(7)
    ts = datetime(2026, 11, 20, 10, 30, tzinfo=NY)
    t0 = time.perf_counter()
    m.quote("SPY", ts)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(1000):
        m.quote("SPY", ts)
    warm = (time.perf_counter() - t0) / 1000
    m.chain("SPY", ts.date(), ts)
    t0 = time.perf_counter()
    for _ in range(20):
        m.chain("SPY", ts.date(), ts)
    chain = (time.perf_counter() - t0) / 20
    return cold, warm, chain


def main() -> None:
    script = str(Path(sys.executable).with_name("smart0dte"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SMART0DTE_HOME": home, "SMART0DTE_SIM_START": "2026-11-20T10:30:00-05:00"}
        ours_quote = _wall([script, "quote", "SPY", "--json"], env)
        ours_chain = _wall([script, "chain", "SPY", "--strikes", "10", "--json"], env)
        peer = _wall([sys.executable, "-c", "import json; print(json.dumps({'symbol': 'SPY', 'bid': 1.0}))"], env)
    cold, warm, chain = _in_process()
    print(f"smart0dte quote SPY --json : {ours_quote * 1000:7.1f} ms (median of {RUNS})")
    print(f"smart0dte chain SPY --json : {ours_chain * 1000:7.1f} ms")
    print(f"bare python -c json (peer) : {peer * 1000:7.1f} ms")
    print(f"ratio quote / peer         : {ours_quote / peer:7.1f}x")
    print(f"in-process sim quote       : cold {cold * 1000:.1f} ms (new session path), warm {warm * 1e6:.0f} us")
    print(f"in-process SPY 0DTE chain  : {chain * 1000:.1f} ms ({'meets' if ours_quote < 0.3 else 'misses'} "
          "the 300 ms CLI target)")


if __name__ == "__main__":
    main()
