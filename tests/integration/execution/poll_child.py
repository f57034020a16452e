"""Child process: one engine polling the paper book while the market has crossed a resting order."""

from __future__ import annotations

import asyncio
import sys
import time

from engine.execution.paper import PaperBroker
from engine.settings import load_settings
from engine.store.db import Database
from tests.integration.execution.market import ScriptedMarket


async def main(symbol: str, start_at: float) -> None:
    market = ScriptedMarket()
    market.set_book(symbol, 1.80, 1.85, 50, 50)
    db = Database(load_settings())
    broker = PaperBroker(db, market)
    await broker.open_orders()  # connect and warm up before the common start
    await asyncio.sleep(max(0.0, start_at - time.time()))  # every child polls at the same instant
    print(await broker.poll(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
