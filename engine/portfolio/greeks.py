"""Portfolio Greeks of a ledger's positions: the options part's ``portfolio_greeks`` fed with the
chains and spots of the positions held (units there: share delta, $ delta, $ gamma per 1 %, vega
per vol point, theta per day, model value)."""

from __future__ import annotations

from typing import Any


async def ledger_greeks(positions: list[dict], market: Any) -> dict:
    """``positions`` as returned by ``ExecutionService.positions``; chains fetched per expiry."""
    from engine.options.portfolio import portfolio_greeks

    chains: dict[tuple[str, Any], Any] = {}
    spots: dict[str, float] = {}
    for p in positions:
        und = p["underlying"]
        if und not in spots:
            spots[und] = float((await market.quote(und)).mid)
        if p.get("right") is not None and (und, p["expiry"]) not in chains:
            chains[(und, p["expiry"])] = await market.chain(und, p["expiry"])
    rows = [{"symbol": p["symbol"], "quantity": p["quantity"], "multiplier": p["multiplier"]} for p in positions]
    out = portfolio_greeks(rows, list(chains.values()), spots)
    rnd = lambda d: {k: round(v, 2) for k, v in d.items()}  # noqa: E731
    return {**out, "by_underlying": {u: rnd(v) for u, v in out["by_underlying"].items()}, "total": rnd(out["total"])}
