"""Portfolio Greeks of a ledger's positions, from the options part's chains.

Per position (contracts x multiplier): share delta, dollar delta (x spot), dollar gamma per 1%
move (``0.5 x gamma x (1% spot)^2`` is the P&L; we report the change of dollar delta per 1%:
``gamma x spot x 1% x spot x shares``), vega per vol point, theta per calendar day. Stock
positions add delta 1 per share. Greeks come from :class:`engine.options.chain.Chain` (our IVs).
"""

from __future__ import annotations

import math
from typing import Any

KEYS = ("delta_shares", "delta_dollars", "gamma_dollars_1pct", "vega", "theta")


def _zero() -> dict[str, float]:
    return dict.fromkeys(KEYS, 0.0)


def _num(x: Any) -> float:
    x = float(x)
    return x if math.isfinite(x) else 0.0


async def ledger_greeks(positions: list[dict], market: Any) -> dict:
    """``positions`` as returned by ``ExecutionService.positions``; chains fetched per expiry."""
    chains: dict[tuple[str, Any], Any] = {}
    spots: dict[str, float] = {}
    rows, by_und = [], {}
    for p in positions:
        und, qty, mult = p["underlying"], int(p["quantity"]), int(p["multiplier"])
        if und not in spots:
            spots[und] = float((await market.quote(und)).mid)
        spot = spots[und]
        if p.get("right") is None:  # stock
            g = {"delta_shares": float(qty), "delta_dollars": qty * spot, "gamma_dollars_1pct": 0.0,
                 "vega": 0.0, "theta": 0.0}
        else:
            key = (und, p["expiry"])
            if key not in chains:
                chains[key] = await market.chain(und, p["expiry"])
            side = chains[key].side(p["right"])
            i = side.symbols.index(p["symbol"]) if p["symbol"] in side.symbols else None
            n = qty * mult
            if i is None:
                g = _zero()
            else:
                delta, gamma = _num(side.delta[i]), _num(side.gamma[i])
                g = {"delta_shares": delta * n, "delta_dollars": delta * n * spot,
                     "gamma_dollars_1pct": gamma * n * spot * spot * 0.01,
                     "vega": _num(side.vega[i]) * n, "theta": _num(side.theta[i]) * n}
        rows.append({"symbol": p["symbol"], "quantity": qty, **{k: round(v, 4) for k, v in g.items()}})
        agg = by_und.setdefault(und, _zero())
        for k in KEYS:
            agg[k] += g[k]
    total = _zero()
    for agg in by_und.values():
        for k in KEYS:
            total[k] += agg[k]
    rnd = lambda d: {k: round(v, 2) for k, v in d.items()}  # noqa: E731
    return {"positions": rows, "by_underlying": {u: rnd(v) for u, v in by_und.items()}, "total": rnd(total),
            "spots": spots}
