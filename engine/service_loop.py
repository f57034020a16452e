"""The engine as a long-running service: feed → signals → guarded execution.

``python -m engine`` runs :func:`run_service`. Three loops share one :class:`Engine`:

* the market pump copies streamed quotes into the latest-quote cache (Redis when configured, so
  every other process — API, bots, UI, CLI — reads the same book);
* the signal loop looks at the signals every ``signal_every_s`` and writes each change of
  direction to the audit log (kind ``signal.<name>``), which push surfaces follow;
* the execution loop ticks every ledger that can trade: resting paper orders re-examined, exits
  and the 0DTE auto-flatten, expiry processing, the daily loss limit (every order still passes the
  one risk guard inside the engine).

SIGINT/SIGTERM stop all three cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from engine.core.instruments import PRODUCT_UNDERLYINGS

log = logging.getLogger("smart0dte.engine")


async def _signals(engine: Any, stop: asyncio.Event, every_s: float) -> None:
    async for changed in engine.signal_engine.watch(every_s=every_s):
        for sig in changed:
            data = {"underlying": sig.underlying, "direction": sig.direction, "strength": sig.strength,
                    "confidence": sig.confidence, "reasons": list(sig.reasons), "ts": sig.ts}
            await asyncio.to_thread(engine.audit.append, f"signal.{sig.name}", actor="signal-engine", data=data)
        if stop.is_set():
            return


async def _guard(name: str, coro: Any) -> None:
    """A failing loop is logged and restarted after a pause; the service keeps serving."""
    while True:
        try:
            await coro()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s loop failed; restarting in 5 s", name)
            await asyncio.sleep(5)


async def run_service(engine: Any, stop: asyncio.Event | None = None, *, signal_every_s: float = 60.0,
                      tick_s: float = 1.0) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    engine.audit.append("engine.start", actor="engine", data={"feed": engine.settings.feed})
    tasks = [
        asyncio.create_task(_guard("market", lambda: engine.market.pump_quotes(list(PRODUCT_UNDERLYINGS)))),
        asyncio.create_task(_guard("signals", lambda: _signals(engine, stop, signal_every_s))),
        asyncio.create_task(_guard("execution", lambda: engine.execution.run(stop, interval_s=tick_s))),
    ]
    log.info("engine running: feed=%s, ledgers ticking every %.1f s", engine.settings.feed, tick_s)
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        engine.audit.append("engine.stop", actor="engine", data={})
        await engine.close()
