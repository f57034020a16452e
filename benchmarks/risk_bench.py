"""Pre-trade risk check latency and paper submit → fill latency, in process.

1. ``RiskGuard.check`` on a 4-leg iron condor with a realistic account context: distribution over
   many calls (p50/p90/p99/max). Goal: p99 <= 50 µs (the peer figure printed is that goal).
2. Paper order round trip through the order manager: intent written, SUBMITTED, paper broker
   fill model, fill booked (fill, trades, positions, cash) in a SQLite ledger — durable, as the
   engine runs it. Peer: backtrader's ``BackBroker`` processing one market order per bar in a
   Cerebro run (in memory, no durability), per order.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.core.clock import NY, SimClock  # noqa: E402
from engine.core.marketdata import Quote  # noqa: E402
from engine.execution.risk import RiskContext, RiskGuard, RiskLeg, RiskOrder  # noqa: E402

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=NY)
GOAL_US = 50.0


def condor() -> tuple[RiskOrder, RiskContext]:
    legs = tuple(RiskLeg(f"SPY261120{r[0].upper()}00{k}000", s, 2, True, r, float(k), NOW.date(), NOW, 0.5, 0.52)
                 for r, k, s in (("put", 630, 1), ("put", 635, -1), ("call", 655, -1), ("call", 660, 1)))
    order = RiskOrder("T1", "SPY", legs, 2, "limit", -1.10, -1.14, 220.0, 129_000.0, 780.0, 780.0, False, 644.0)
    ctx = RiskContext(now=NOW, session_close=datetime.combine(NOW.date(), dtime(16), NY),
                      positions={f"SPY261120P00{k}000": -1 for k in range(600, 640)}, open_contracts=40,
                      open_orders=3, buying_power=90_000.0, daily_pnl=-150.0,
                      recent_orders=[1000.0 - i for i in range(10)], wall_now=1000.0, known_client_ids=set())
    return order, ctx


def bench_risk(n: int = 50_000) -> dict:
    guard = RiskGuard()
    order, ctx = condor()
    for _ in range(2000):
        guard.check(order, ctx)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        guard.check(order, ctx)
        samples.append((clock() - t0) / 1000.0)
    samples.sort()
    pct = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]  # noqa: E731
    return {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": samples[-1], "mean": statistics.mean(samples)}


class StaticMarket:
    """Fixed quotes on a frozen clock: the benchmark measures the engine, not a feed."""

    def __init__(self) -> None:
        self.clock = SimClock(NOW)

    async def quote(self, symbol: str) -> Quote:
        return Quote(symbol, 1.00, 1.02, self.clock.now(), 500, 500)


async def bench_paper(n: int = 300) -> dict:
    from engine.execution.broker import BrokerOrder, OrderLeg, OrderType, Side
    from engine.execution.oms import OrderManager
    from engine.execution.paper import PaperBroker
    from engine.settings import load_settings
    from engine.store.audit import AuditLog
    from engine.store.db import Database

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home))
        db = Database(settings)
        market = StaticMarket()
        broker = PaperBroker(db, market)
        oms = OrderManager(db, AuditLog(db), broker, "paper")
        legs = (OrderLeg("SPY261120P00635000", Side.SELL), OrderLeg("SPY261120P00630000", Side.BUY))
        broker_only, round_trip = [], []
        for i in range(n):
            o = BrokerOrder(f"B{i}", "paper", "SPY", legs, 1, OrderType.MARKET)
            t0 = time.perf_counter()
            await broker.submit(o)
            broker.drain()
            broker_only.append(time.perf_counter() - t0)
        for i in range(n):
            o = BrokerOrder(f"O{i}", "paper", "SPY", legs, 1, OrderType.LIMIT, Decimal("0.10"))
            t0 = time.perf_counter()
            r = await oms.place(o, principal="bench")
            round_trip.append(time.perf_counter() - t0)
            assert r["status"] == "filled", r
        db.dispose()
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    return {"broker_ms": ms(broker_only), "oms_ms": ms(round_trip),
            "oms_p99_ms": sorted(round_trip)[int(0.99 * len(round_trip))] * 1000}


def bench_backtrader(n: int = 3000) -> float | None:
    """backtrader: one market buy per bar, filled by BackBroker at the next bar; ms per order."""
    try:
        import backtrader as bt
        import pandas as pd
    except ImportError:
        return None
    idx = pd.date_range("2026-01-02 09:30", periods=n + 1, freq="1min")
    df = pd.DataFrame({"open": 1.0, "high": 1.01, "low": 0.99, "close": 1.0, "volume": 1000}, index=idx)

    class EveryBar(bt.Strategy):
        def next(self):
            self.buy(size=1)

    def run(orders: bool) -> float:
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=df))
        if orders:
            cerebro.addstrategy(EveryBar)
        cerebro.broker.setcash(1e9)
        t0 = time.perf_counter()
        cerebro.run()
        return time.perf_counter() - t0

    base = run(False)  # the bar loop alone, subtracted so only order handling is compared
    return max(run(True) - base, 1e-9) / n * 1000


def main() -> None:
    risk = bench_risk()
    print("pre-trade risk check (17 checks, 4-leg condor), microseconds:")
    print(f"  ours p50 {risk['p50']:.1f}  p90 {risk['p90']:.1f}  p99 {risk['p99']:.1f}  max {risk['max']:.1f}")
    print(f"  peer (goal) p99 {GOAL_US:.1f}   ratio ours/goal {risk['p99'] / GOAL_US:.2f}"
          f"  {'OK' if risk['p99'] <= GOAL_US else 'ABOVE GOAL'}")
    paper = asyncio.run(bench_paper())
    bt_ms = bench_backtrader()
    print("paper submit -> fill, in process (median per order):")
    print(f"  ours paper broker alone     {paper['broker_ms']:.2f} ms (durable broker book, SQLite)")
    print(f"  ours full OMS round trip    {paper['oms_ms']:.2f} ms (p99 {paper['oms_p99_ms']:.2f} ms: intent, "
          "states, fill, trades, positions, cash, audit)")
    if bt_ms is not None:
        print(f"  peer backtrader BackBroker  {bt_ms:.3f} ms (in memory, nothing persisted)")
        print(f"  ratio ours(OMS)/peer {paper['oms_ms'] / bt_ms:.1f}x")
    else:
        print("  peer backtrader not installed")


if __name__ == "__main__":
    main()
