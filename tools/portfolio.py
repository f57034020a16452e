"""Portfolio tools: ``positions``, ``portfolio_greeks``, ``pnl`` and ``risk_status`` (read-only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tools.common import Account, Args, Out, num, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec


def _numbers(raw: Any) -> Any:
    """Decimals and numpy scalars inside nested engine data as JSON numbers; text stays text."""
    if isinstance(raw, dict):
        return {k: _numbers(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_numbers(v) for v in raw]
    if isinstance(raw, (str, bool, int)) or raw is None:
        return raw
    n = num(raw)
    return n if n is not None else (raw.isoformat() if hasattr(raw, "isoformat") else str(raw))


# --- positions ----------------------------------------------------------------------------------
class PositionsArgs(Args):
    account: Account | None = Field(None, description="paper or live; omitted = the current ledger")


class PositionRow(Out):
    symbol: str
    quantity: float
    avg_price: float | None = None
    mark: float | None = None
    market_value: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    underlying: str | None = None
    expiry: str | None = None


class PositionsResult(Out):
    account: str
    positions: list[PositionRow]


def position_row(obj: Any) -> PositionRow:
    raw = _numbers(plain(obj))
    return PositionRow(symbol=str(pick(raw, "symbol")), quantity=pick(raw, "quantity", "qty", default=0),
                       avg_price=pick(raw, "avg_price", "average_price", "avg_cost"),
                       mark=pick(raw, "mark", "price", "last"), market_value=pick(raw, "market_value", "value"),
                       unrealized_pnl=pick(raw, "unrealized_pnl", "unrealized"),
                       realized_pnl=pick(raw, "realized_pnl", "realized"), underlying=pick(raw, "underlying"),
                       expiry=pick(raw, "expiry"))


async def positions(args: PositionsArgs, ctx: ToolContext) -> PositionsResult:
    ledger = args.account or ctx.ledger
    rows = await ctx.engine.positions(ledger)
    return PositionsResult(account=ledger, positions=[position_row(p) for p in rows])


# --- greeks -------------------------------------------------------------------------------------
class PortfolioGreeksArgs(Args):
    pass


class GreeksRow(Out):
    symbol: str | None = None
    delta_shares: float | None = Field(None, description="Share-equivalent delta")
    delta_dollars: float | None = None
    gamma_dollars_1pct: float | None = Field(None, description="Dollar gamma per 1% move")
    vega_per_point: float | None = Field(None, description="Dollars per 1 vol point")
    theta_per_day: float | None = Field(None, description="Dollars per calendar day")
    value: float | None = Field(None, description="Model value in dollars")


class PortfolioGreeksResult(Out):
    ledger: str
    total: GreeksRow
    by_underlying: dict[str, GreeksRow] = Field(default_factory=dict)
    positions: list[GreeksRow] = Field(default_factory=list)
    raw: dict = Field(default_factory=dict, description="All figures as the engine reported them")


_GREEK_KEYS = {
    "delta_shares": ("delta_shares", "share_delta", "delta"),
    "delta_dollars": ("delta_dollars", "dollar_delta"),
    "gamma_dollars_1pct": ("gamma_dollars_1pct", "dollar_gamma_1pct", "dollar_gamma"),
    "vega_per_point": ("vega_per_point", "vega"),
    "theta_per_day": ("theta_per_day", "theta"),
    "value": ("value", "market_value"),
}


def greeks_row(raw: Any) -> GreeksRow:
    raw = raw if isinstance(raw, dict) else {}
    return GreeksRow(symbol=pick(raw, "symbol"),
                     **{k: num(pick(raw, *keys)) for k, keys in _GREEK_KEYS.items()})


async def portfolio_greeks(args: PortfolioGreeksArgs, ctx: ToolContext) -> PortfolioGreeksResult:
    raw = _numbers(plain(await ctx.engine.portfolio_greeks(ctx.ledger)))
    raw = raw if isinstance(raw, dict) else {"total": {}}
    total = pick(raw, "total", "totals", default=raw)
    rows = pick(raw, "positions", "per_position", default=[])
    by_und = pick(raw, "by_underlying", default={})
    return PortfolioGreeksResult(ledger=ctx.ledger, total=greeks_row(total),
                                 by_underlying={str(u): greeks_row(g) for u, g in by_und.items()}
                                 if isinstance(by_und, dict) else {},
                                 positions=[greeks_row(r) for r in rows if isinstance(r, dict)], raw=raw)


# --- pnl ----------------------------------------------------------------------------------------
class PnlArgs(Args):
    period: Literal["today", "week", "month", "year"] = Field("today", description="today, week, month or year")


class PnlResult(Out):
    ledger: str
    period: str
    realized: float | None = None
    unrealized: float | None = None
    total: float | None = None
    fees: float | None = None
    trades: int | None = None
    raw: dict = Field(default_factory=dict)


async def pnl(args: PnlArgs, ctx: ToolContext) -> PnlResult:
    raw = _numbers(plain(await ctx.engine.pnl(ctx.ledger, args.period)))
    raw = raw if isinstance(raw, dict) else {"total": raw}
    realized, unrealized = num(pick(raw, "realized", "realized_pnl")), num(pick(raw, "unrealized", "unrealized_pnl"))
    total = num(pick(raw, "total", "total_pnl", "net"))
    if total is None and realized is not None:
        total = realized + (unrealized or 0.0)
    trades = pick(raw, "trades", "fills", "round_trips")
    return PnlResult(ledger=ctx.ledger, period=args.period, realized=realized, unrealized=unrealized, total=total,
                     fees=num(pick(raw, "fees", "commissions")),
                     trades=int(trades) if isinstance(trades, (int, float)) else None, raw=raw)


# --- risk ---------------------------------------------------------------------------------------
class RiskStatusArgs(Args):
    pass


class RiskStatusResult(Out):
    ledger: str
    state: str = Field(description="Kill-switch state: active, reducing or halted")
    limits: dict = Field(default_factory=dict)
    usage: dict = Field(default_factory=dict)
    kill_switch: dict = Field(default_factory=dict, description="Who set the kill switch, when and why")


async def risk_status(args: RiskStatusArgs, ctx: ToolContext) -> RiskStatusResult:
    raw = _numbers(plain(await ctx.engine.risk_status(ctx.ledger)))
    return RiskStatusResult(ledger=ctx.ledger, state=str(pick(raw, "state", default="unknown")),
                            limits=pick(raw, "limits", default={}), usage=pick(raw, "usage", default={}),
                            kill_switch=pick(raw, "kill_switch", default={}))


POSITIONS = REGISTRY.register(ToolSpec(
    "positions", "Open positions of the paper or live ledger with average price, mark and P&L.",
    PositionsArgs, PositionsResult, positions, effect=Effect.READ))
PORTFOLIO_GREEKS = REGISTRY.register(ToolSpec(
    "portfolio_greeks", "Greeks of the open positions, per position and in total: share delta, dollar delta, "
    "dollar gamma per 1%, vega per vol point, theta per day.",
    PortfolioGreeksArgs, PortfolioGreeksResult, portfolio_greeks, effect=Effect.READ))
PNL = REGISTRY.register(ToolSpec(
    "pnl", "Realised and unrealised profit and loss for today, this week, month or year.",
    PnlArgs, PnlResult, pnl, effect=Effect.READ))
RISK_STATUS = REGISTRY.register(ToolSpec(
    "risk_status", "Kill-switch state, risk limits and how much of each is used.",
    RiskStatusArgs, RiskStatusResult, risk_status, effect=Effect.READ))
