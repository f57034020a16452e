"""Live trading end to end from the command line: arming, a person's mode switch, the typed
ticket-id confirmation, and the Interactive Brokers adapter against the loopback TWS server."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from tests.loopback.tws_server import LoopbackTWS

SPREAD = {"underlying": "SPY", "expiry": "0dte", "quantity": 1, "order_type": "market", "account": "live"}


class TwsThread:
    """The loopback TWS on its own event loop (the CLI runs ``asyncio.run`` per command)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.srv: LoopbackTWS = self.call(self._make())

    async def _make(self) -> LoopbackTWS:
        return await LoopbackTWS(equity=250_000.0).start()

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.call(self.srv.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def live_env(monkeypatch):
    from engine.market.service import MarketService
    from engine.settings import load_settings, reset_settings_cache

    tws = TwsThread()
    chain = asyncio.run(MarketService(load_settings()).chain("SPY", "0dte"))
    atm = float(chain.atm_strike())
    strikes = (atm - 5, atm - 10)

    async def listing():
        for k in strikes:
            q = chain.quote(chain.contract("put", k).occ)
            tws.srv.list_option("SPY", f"{chain.expiry:%Y%m%d}", "P", k, bid=q.bid, ask=q.ask)

    tws.call(listing())
    for key, value in {"LIVE_TRADING": "armed", "LIVE_BROKER": "ib", "IB_PORT_LIVE": str(tws.srv.port),
                       "IB_CLIENT_ID": "41"}.items():
        monkeypatch.setenv(f"SMART0DTE_{key}", value)
    reset_settings_cache()
    yield tws, strikes
    tws.stop()


@pytest.mark.slow
def test_live_order_needs_mode_switch_and_typed_ticket_id(live_env):
    tws, (short_k, long_k) = live_env
    cli = CliRunner()
    run = lambda *a, input=None: cli.invoke(app, list(a), input=input)  # noqa: E731
    request = json.dumps({**SPREAD, "legs": [{"right": "put", "strike": short_k, "side": "sell"},
                                             {"right": "put", "strike": long_k, "side": "buy"}]})

    staged = run("order", "stage", request)
    assert staged.exit_code == 0, staged.output
    refused = run("order", "confirm", json.loads(staged.stdout)["ticket_id"], input="x\n")
    assert refused.exit_code == 2 and "trading mode is paper" in refused.output

    assert run("mode", "live", input="yes\n").exit_code == 2
    switched = run("mode", "live", "--json", input="LIVE\n")
    assert switched.exit_code == 0 and json.loads(switched.stdout)["mode"] == "live"

    live_ticket = json.loads(run("order", "stage", request).stdout)
    assert "initial_margin_change" in live_ticket["preview"]["broker_what_if"]
    tid = live_ticket["ticket_id"]
    r = run("order", "confirm", tid, "--yes")
    assert r.exit_code == 2 and "--yes is not accepted for live" in r.output
    r = run("order", "confirm", tid, input="TWRONG\n")
    assert r.exit_code == 2 and "nothing was sent" in r.output
    with pytest.raises(KeyError):
        tws.srv.order_by_ref(tid)
    r = run("order", "confirm", tid, input=f"{tid}\n")
    assert r.exit_code == 0, r.output
    done = json.loads(r.stdout[r.stdout.index("{"):])
    assert done["order_id"] == tid and done["status"] == "filled" and done["account"] == "live"
    assert tws.srv.order_by_ref(tid).contract.sec_type == "BAG"

    live = json.loads(run("positions", "--account", "live", "--json").stdout)
    assert sorted(p["quantity"] for p in live) == [-1, 1]
    assert json.loads(run("positions", "--account", "paper", "--json").stdout) == []
    assert run("audit", "verify").exit_code == 0
    kinds = [x["kind"] for x in json.loads(run("audit", "tail", "-n", "200", "--json").stdout)]
    assert "mode.switch" in kinds and "order.confirmed" in kinds
