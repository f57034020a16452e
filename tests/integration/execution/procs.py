"""Running engine code in child processes for the crash and concurrency tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def child_env(home: Path, settings=None) -> dict[str, str]:
    """The test's environment for a child: its HOME, its database (PostgreSQL when the test uses it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART0DTE_")}
    env.update({"SMART0DTE_HOME": str(home), "PYTHONPATH": str(ROOT)})
    if settings is not None and settings.database_url:
        env.update({"SMART0DTE_DATABASE_URL": settings.database_url,
                    "SMART0DTE_DATABASE_SCHEMA_PREFIX": settings.database_schema_prefix})
    return env


def run_together(module: str, args: list[str], n: int, home: Path, settings=None) -> list[tuple[int, str, str]]:
    """Start ``n`` children of ``module`` that wait at a file gate, open it when all are ready (so they
    really run at the same instant), and return their (exit code, stdout, stderr)."""
    gate = home / f"gate-{module.rsplit('.', 1)[-1]}"
    gate.mkdir(parents=True)
    procs = [subprocess.Popen([sys.executable, "-m", module, str(gate), *args], cwd=ROOT, env=child_env(home, settings),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    deadline = time.time() + 90
    while len(list(gate.glob("ready-*"))) < n and time.time() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.01)
    (gate / "go").touch()
    outs = [p.communicate(timeout=120) for p in procs]
    return [(p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]
