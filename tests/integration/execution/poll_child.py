"""Child process: one engine polling the paper book while the market has crossed a resting order."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from engine.core.clock import SimClock
from engine.core.marketdata import Quote
from engine.execution.paper import PaperBroker
from engine.settings import load_settings
from engine.store.db import Database

START = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


class CrossedMarket:
    """The market after the move: the offer has dropped through the resting bid (no options math
    imported, so the children start fast)."""

    def __init__(self) -> None:
        self.clock = SimClock(START)

    async def quote(self, symbol: str) -> Quote:
        return Quote(symbol, 1.80, 1.85, self.clock.now(), 50, 50)


async def main(barrier: str, symbol: str) -> None:
    market = CrossedMarket()
    db = Database(load_settings())
    broker = PaperBroker(db, market)
    await broker.open_orders()  # connect and warm up before the common start
    gate = Path(barrier)
    (gate / f"ready-{os.getpid()}").touch()
    while not (gate / "go").exists():  # every child polls at the same instant
        time.sleep(0.002)
    print(await broker.poll(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
