"""Run the installed ``smart0dte`` console script the way an outside program does.

Every call is a subprocess of ``.venv/bin/smart0dte`` with an environment cleaned of stray
``SMART0DTE_`` variables, a given state directory and a pinned simulated market. Calls are
timed; :data:`TIMINGS` collects ``(seconds, argv)`` for the session summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SCRIPT = Path(sys.prefix) / "bin" / "smart0dte"
FRIDAY = "2026-11-20T10:30:00-05:00"
WEDNESDAY = "2026-11-18T11:00:00-05:00"
AFTER_CUTOFF = "2026-11-20T15:55:00-05:00"
TIMINGS: list[tuple[float, str]] = []


@dataclass
class Result:
    argv: list[str]
    rc: int
    out: str
    err: str
    seconds: float

    @property
    def data(self):
        """stdout parsed as JSON (a failing assertion shows the raw output)."""
        try:
            return json.loads(self.out)
        except json.JSONDecodeError:
            raise AssertionError(f"{' '.join(self.argv)}: stdout is not JSON (rc={self.rc})\n"
                                 f"stdout: {self.out[:2000]}\nstderr: {self.err[-2000:]}") from None

    def expect(self, rc: int) -> Result:
        assert self.rc == rc, (f"{' '.join(self.argv)}: exit {self.rc}, expected {rc}\n"
                               f"stdout: {self.out[:2000]}\nstderr: {self.err[-2000:]}")
        return self

    def ok(self):
        """Exit 0 and the JSON output."""
        return self.expect(0).data

    def error(self, rc: int = 2) -> dict:
        """Exit ``rc`` with the ``{"error": {"type", "message"[, "field"]}}`` shape; the inner dict."""
        d = self.expect(rc).data
        assert set(d) == {"error"}, d
        err = d["error"]
        assert {"type", "message"} <= set(err) <= {"type", "message", "field"}, err
        assert isinstance(err["type"], str) and err["type"]
        assert isinstance(err["message"], str) and err["message"] and "\n" not in err["message"]
        return err


def clean_env(home: Path, sim_start: str | None = FRIDAY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART0DTE_")}
    env["SMART0DTE_HOME"] = str(home)
    if sim_start:
        env["SMART0DTE_SIM_START"] = sim_start
    env.update(extra)
    return env


class Cli:
    """``smart0dte`` against one state directory."""

    def __init__(self, home: Path, sim_start: str | None = FRIDAY, **extra_env: str) -> None:
        self.home = Path(home)
        self.env = clean_env(self.home, sim_start, **extra_env)

    def at(self, sim_start: str, **extra_env: str) -> Cli:
        """The same state directory, another simulated instant (or extra settings)."""
        other = Cli(self.home, sim_start)
        other.env.update(extra_env)
        return other

    def __call__(self, *args: str, timeout: float = 120) -> Result:
        argv = [str(SCRIPT), *args]
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        secs = time.perf_counter() - t0
        TIMINGS.append((secs, " ".join(args)))
        return Result(argv[1:], p.returncode, p.stdout, p.stderr, secs)

    def many(self, *calls: tuple[str, ...] | None, other: dict[int, tuple[Cli, tuple[str, ...]]] | None = None
             ) -> list[Result]:
        """Independent calls at once (each a tuple of arguments); results in call order.

        ``other`` places calls against another state directory: ``{index: (cli, args)}`` fills the
        ``None`` at that index.
        """
        jobs = [(self, a) if a is not None else (other or {})[i] for i, a in enumerate(calls)]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            return list(pool.map(lambda job: job[0](*job[1]), jobs))


def number(x) -> bool:
    """A JSON number (not a bool, not a string)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def iso_with_offset(text) -> datetime:
    """Parse an ISO 8601 timestamp and insist on a UTC offset."""
    assert isinstance(text, str), text
    ts = datetime.fromisoformat(text)
    assert ts.tzinfo is not None and ts.utcoffset() is not None, f"{text!r} has no UTC offset"
    return ts
