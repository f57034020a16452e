"""Run the loopback TWS on its own, to try the engine's IB path by hand without IB Gateway::

    .venv/bin/python -m tests.loopback.tws_main --port 4002 --expiry 20261120
    SMART0DTE_LIVE_BROKER=ib SMART0DTE_IB_PORT_PAPER=4002 … (then use the engine as usual)

It lists SPY, QQQ and IWM 0DTE calls and puts around a spot (±10 strikes, $1 apart), SPXW and VIX
options, with plausible quotes (intrinsic value plus a time value that shrinks away from the
money), and fills marketable orders at once.
"""

from __future__ import annotations

import argparse
import asyncio

from tests.loopback.tws_server import LoopbackTWS

SPOTS = {"SPY": 590.0, "QQQ": 510.0, "IWM": 225.0}


def list_chain(tws: LoopbackTWS, root: str, expiry: str, spot: float, step: float, n: int) -> None:
    atm = round(spot / step) * step
    for k in range(-n, n + 1):
        strike = atm + k * step
        for right in ("C", "P"):
            intrinsic = max(spot - strike, 0) if right == "C" else max(strike - spot, 0)
            time_value = max(0.02, 1.5 * step * 0.8 ** abs(k))
            mid = round(intrinsic + time_value, 2)
            half = max(0.01, round(mid * 0.01, 2))
            tws.list_option(root, expiry, right, strike, bid=max(0.01, mid - half), ask=mid + half)


async def serve(port: int, expiry: str, vix_expiry: str) -> None:
    tws = LoopbackTWS()
    for root, spot in SPOTS.items():
        list_chain(tws, root, expiry, spot, 1.0, 10)
    list_chain(tws, "SPXW", expiry, 5900.0, 5.0, 10)
    list_chain(tws, "VIX", vix_expiry, 16.0, 1.0, 5)
    await tws.start(port=port)
    print(f"loopback TWS on 127.0.0.1:{tws.port} (account {tws.accounts[0]}), {len(tws.listings)} contracts;"
          " Ctrl-C to stop", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=4002)
    p.add_argument("--expiry", default="20261120", help="YYYYMMDD of the 0DTE listings")
    p.add_argument("--vix-expiry", default="20261118", help="YYYYMMDD of the VIX listings")
    a = p.parse_args()
    try:
        asyncio.run(serve(a.port, a.expiry, a.vix_expiry))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
