"""Bot fixtures: the embedded default engine (simulated market, paper broker) on a fresh home."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from engine.runtime import Engine
from engine.settings import load_settings

ALLOWED = 4242
STRANGER = 9999
ORDER_TEXT = "paper buy 1 spy 0dte call at 30 delta market"


@pytest.fixture
async def engine(fresh_home):
    eng = Engine(load_settings())
    yield eng
    await eng.close()
    eng.db.dispose()


async def until(cond: Callable[[], object], timeout: float = 20.0, step: float = 0.05) -> object:
    """Wait on a condition (never a fixed sleep): the machine may be slow, the test stays exact."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)


def quoted_bid_ask(text: str, symbol: str = "SPY") -> tuple[float, float]:
    m = re.search(rf"{symbol}: bid ([\d,]+\.\d+) / ask ([\d,]+\.\d+)", text)
    assert m, text
    return float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))


def kinds(engine: Engine, kind: str) -> list[dict]:
    return [r for r in engine.audit_tail(500) if r["kind"] == kind]
