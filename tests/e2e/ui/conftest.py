"""Browser fixtures: the real app (`smart0dte ui --demo`) as a subprocess, Debian's Chromium via Playwright.

The app runs with a fresh SMART0DTE_HOME and the simulated market pinned to a Friday morning; the
browser is /usr/bin/chromium (never a downloaded one). A missing Chromium FAILS the tests with a
clear message (`make browser` installs it). Screenshots go to tests/artifacts/ui/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.ui.helpers import ARTIFACTS, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SIM_START = "2026-11-20T10:30:00-05:00"
ALICE_PASSWORD = "correct horse battery staple"
WAIT_MS = 90_000  # the machine may be loaded: generous, but every wait is for a selector


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """One `smart0dte ui --demo` process on a free loopback port with its own state directory."""

    def __init__(self, name: str, **env: str) -> None:
        self.name = name
        self.home = Path(tempfile.mkdtemp(prefix=f"smart0dte-ui-{name}-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.home / "server.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("SMART0DTE_", "CHAINLIT_"))}
        environ.update({"SMART0DTE_HOME": str(self.home), "SMART0DTE_SIM_START": SIM_START, **env})
        exe = Path(sys.executable).with_name("smart0dte")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([str(exe), "ui", "--demo", "--port", str(self.port)], cwd=ROOT, env=environ,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the UI server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/smart0dte/mode", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the UI server did not answer within {timeout:.0f} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: browser tests need Debian's Chromium (run `make browser` or "
                    "`apt-get install -y chromium`); a downloaded browser is never used")
    return CHROMIUM


@pytest.fixture(scope="session")
def servers(chromium_path):
    """Two apps started together: default settings, and one with a 5-second ticket TTL and live trading
    armed (a live broker named but never contacted: only the mode switch is exercised there)."""
    from argon2 import PasswordHasher

    users = json.dumps({"alice": PasswordHasher().hash(ALICE_PASSWORD)})  # a second person besides demo
    started = {"default": AppServer("default", SMART0DTE_USERS=users),
               "ttl5": AppServer("ttl5", SMART0DTE_TICKET_TTL_SECONDS="5", SMART0DTE_LIVE_TRADING="armed",
                                 SMART0DTE_LIVE_BROKER="ib")}
    try:
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", color_scheme="light")
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"))
    context.close()
