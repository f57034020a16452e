"""Acceptance checks: the public contracts of issues 3-8 and 10, through the installed console script."""

from __future__ import annotations

import pytest

from tests.acceptance.cli import TIMINGS, Cli


@pytest.fixture
def cli(fresh_home) -> Cli:
    """``smart0dte`` on this test's fresh state directory, the market pinned to Friday 2026-11-20 10:30 ET."""
    return Cli(fresh_home)


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    slow = sorted(TIMINGS, reverse=True)[:12]
    total = sum(s for s, _ in TIMINGS)
    terminalreporter.write_sep("-", f"smart0dte CLI calls: {len(TIMINGS)}, {total:.1f} s in total; slowest")
    for secs, argv in slow:
        terminalreporter.write_line(f"{secs:6.2f} s  smart0dte {argv[:110]}")
