"""`smart0dte serve` as a real process: uvicorn on loopback, Server-Sent Events of engine events."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.integration.surfaces.conftest import bearer

REPO = Path(__file__).resolve().parents[3]
EXE = str(REPO / ".venv" / "bin" / "smart0dte")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_streams_kill_switch_and_fill_events(fresh_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART0DTE_")}
    env.update(SMART0DTE_HOME=str(fresh_home), SMART0DTE_SIM_START="2026-11-20T10:30:00-05:00")
    admin = json.loads(subprocess.check_output([EXE, "users", "add", "ann", "--role", "admin", "--json"],
                                               env=env, text=True))["token"]
    port = _free_port()
    proc = subprocess.Popen([EXE, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("API did not start: " + proc.stderr.read1().decode())
        seen: list[tuple[str, dict]] = []
        with httpx.Client(base_url=base, headers=bearer(admin), timeout=30) as c, \
                c.stream("GET", "/events") as stream:
            assert stream.status_code == 200
            assert c.post("/admin/kill", json={"state": "reducing", "reason": "sse test"}).status_code == 200
            assert c.post("/admin/kill", json={"state": "active"}).status_code == 200
            staged = c.post("/tools/place_paper_order", json={
                "underlying": "SPY", "legs": [{"right": "call", "delta": 0.3, "side": "buy", "ratio": 1}],
                "quantity": 1, "order_type": "market"})
            assert staged.status_code == 200, staged.text
            ticket = staged.json().get("ticket_id") or staged.json()["ticket"]["ticket_id"]
            confirmed = c.post(f"/tickets/{ticket}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            event = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    seen.append((event, json.loads(line.split(":", 1)[1])))
                    if event == "order.fill":
                        break
        kinds = [k for k, _ in seen]
        assert kinds.count("kill_switch") >= 2
        assert "order.fill" in kinds
        assert all("hash" in data for _, data in seen)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
