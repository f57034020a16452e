"""``python -m engine`` as a real process: it pumps quotes, writes signal changes, ticks the ledgers,
and stops cleanly on SIGTERM with its start and stop in the audit log."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from engine.runtime import Engine
from engine.service_loop import run_service
from engine.settings import load_settings


def test_python_m_engine_runs_and_stops_on_sigterm(fresh_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART0DTE_")}
    env.update(SMART0DTE_HOME=str(fresh_home), SMART0DTE_SIM_START="2026-11-20T10:30:00-05:00")
    proc = subprocess.Popen([sys.executable, "-m", "engine"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    engine = Engine(load_settings())
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not engine.audit.tail(50, kind="engine.start"):
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        assert engine.audit.tail(50, kind="engine.start"), "the engine never started"
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert engine.audit.tail(50, kind="engine.stop")
        assert engine.audit.verify()[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.db.dispose()


async def test_loop_ticks_ledgers_and_writes_signal_changes(fresh_home):
    from engine.core.principal import Principal

    engine = Engine(load_settings())
    person = Principal.person("ann", "test")
    ticket = await engine.stage({"underlying": "SPY", "legs": [{"right": "call", "delta": 0.5, "side": "buy",
                                                               "ratio": 1}],
                                 "quantity": 1, "order_type": "market", "account": "paper"}, person)
    await engine.confirm(ticket.ticket_id, person)
    stop = asyncio.Event()
    task = asyncio.create_task(run_service(engine, stop, signal_every_s=0.5, tick_s=0.2))
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            kinds = {r["kind"] for r in engine.audit.tail(500)}
            if any(k.startswith("signal.") for k in kinds):
                break
            await asyncio.sleep(0.3)
        kinds = {r["kind"] for r in engine.audit.tail(500)}
        assert any(k.startswith("signal.") for k in kinds), kinds
        assert len(await engine.positions("paper")) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
