"""IB adapter overhead: order round trip over the TWS API socket protocol, in process.

Both sides talk TCP to the loopback TWS (``tests/loopback/tws_server.py``) through the real
``ib_async`` client, placing a 2-leg BAG that fills at once and waiting until its fill (with
commissions) is known:

* **ours** — ``IBBroker.submit`` (contract qualification cached after the first order, idempotency
  bookkeeping, status mapping) → the assembled :class:`~engine.execution.broker.Fill` on the
  adapter's event stream (legs, net price, commissions, fill-before-FILLED ordering);
* **peer** — bare ``ib_async``: ``IB.placeOrder`` on a pre-qualified BAG → ``Trade.fills`` of the
  legs with their commission reports in.

The ratio is the adapter's overhead on the same wire; the loopback's own work is in both.
``ib_async``'s request pacing (45 messages/s, IB's limit) is switched off on both sides: it would
make both wait, and this measures code, not the rate limit.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ib_async import IB, Bag, ComboLeg, LimitOrder, Option  # noqa: E402

from engine.execution.broker import BrokerOrder, Fill, OrderLeg, Side  # noqa: E402
from engine.execution.ib import IBBroker  # noqa: E402
from tests.loopback.tws_server import LoopbackTWS  # noqa: E402

N = 300
C590, C595 = "SPY261120C00590000", "SPY261120C00595000"


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


async def ours(tws: LoopbackTWS, n: int) -> list[float]:
    broker = IBBroker(host="127.0.0.1", port=tws.port, client_id=1, ledger="paper", heartbeat=0)
    broker.ib.client.MaxRequests = 0  # no pacing (45 msg/s): measure the code, not IB's rate limit
    await broker.connect()
    events = broker.events()
    legs = (OrderLeg(C590, Side.BUY), OrderLeg(C595, Side.SELL))
    out = []
    for i in range(n + 20):
        order = BrokerOrder(f"ours-{i}", "paper", "SPY", legs, 1, limit_price=Decimal("1.50"))
        t0 = time.perf_counter()
        await broker.submit(order)
        while True:
            ev = await events.__anext__()
            if isinstance(ev, Fill) and ev.client_order_id == order.client_order_id:
                break
        if i >= 20:  # warm-up done
            out.append((time.perf_counter() - t0) * 1e6)
    await broker.disconnect()
    return out


async def peer(tws: LoopbackTWS, n: int) -> list[float]:
    ib = IB()
    ib.client.MaxRequests = 0
    await ib.connectAsync("127.0.0.1", tws.port, clientId=2, timeout=4)
    a, b = await ib.qualifyContractsAsync(Option("SPY", "20261120", 590, "C", "SMART", tradingClass="SPY"),
                                          Option("SPY", "20261120", 595, "C", "SMART", tradingClass="SPY"))
    bag = Bag(symbol="SPY", exchange="SMART", currency="USD",
              comboLegs=[ComboLeg(conId=a.conId, ratio=1, action="BUY", exchange="SMART"),
                         ComboLeg(conId=b.conId, ratio=1, action="SELL", exchange="SMART")])
    out = []
    complete = asyncio.Event()

    def check(trade, *_args) -> None:  # both legs' commissions in and the order done
        if trade.isDone() and sum(1 for f in trade.fills if f.commissionReport.execId) >= 2:
            complete.set()

    ib.commissionReportEvent += check
    ib.orderStatusEvent += check
    for i in range(n + 20):
        complete.clear()
        t0 = time.perf_counter()
        ib.placeOrder(bag, LimitOrder("BUY", 1, 1.50, orderRef=f"peer-{i}"))
        await complete.wait()
        if i >= 20:
            out.append((time.perf_counter() - t0) * 1e6)
    ib.disconnect()
    return out


async def run() -> tuple[list[float], list[float]]:
    """Each side against its own fresh loopback (same listings), ours first then the peer, twice,
    so neither profits from a warmer process or an emptier server."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(2):
        for side, out in ((ours, mine), (peer, theirs)):
            tws = LoopbackTWS(equity=1e9)
            tws.list_option("SPY", "20261120", "C", 590, bid=1.60, ask=1.64)
            tws.list_option("SPY", "20261120", "C", 595, bid=0.20, ask=0.23)
            await tws.start()
            try:
                out += await side(tws, N // 2)
            finally:
                await tws.stop()
    return mine, theirs


def main() -> int:
    with tempfile.TemporaryDirectory():
        mine, theirs = asyncio.run(run())
    m, t = statistics.median(mine), statistics.median(theirs)
    print(f"IB BAG order → fill over the TWS socket protocol (loopback TWS), {N} orders each")
    print(f"  ours  (IBBroker.submit → Fill event): median {m:8.0f} µs   p90 {percentile(mine, 0.9):8.0f} µs")
    print(f"  peer  (bare ib_async placeOrder → fills): median {t:8.0f} µs   p90 {percentile(theirs, 0.9):8.0f} µs")
    print(f"  ratio ours/peer: {m / t:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
