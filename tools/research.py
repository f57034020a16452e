"""Research tools: ``backtest``, ``strategy_payoff`` and ``signals`` (read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from tools.common import Args, ExpirySpec, Out, Underlying, num, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec

Strategy = Literal["iron_condor", "vertical", "straddle", "strangle", "butterfly", "iron_butterfly",
                   "long_call", "long_put", "short_put", "short_call", "calendar"]


class BacktestArgs(Args):
    strategy: Strategy = Field(description="Structure traded every session")
    underlying: Underlying = Field(description="SPY, QQQ or IWM")
    start: dt.date = Field(description="First session, YYYY-MM-DD")
    end: dt.date = Field(description="Last session, YYYY-MM-DD")
    entry_time: dt.time | None = Field(None, description="Entry time of day ET, HH:MM (default 10:00)")
    exit_time: dt.time | None = Field(None, description="Time exit ET, HH:MM (default 15:50)")
    short_delta: float | None = Field(None, gt=0, lt=1, description="Delta of the short strikes, 0.10 = 10 delta")
    wing_width: float | None = Field(None, gt=0, le=100, description="Wing width in points")
    quantity: int | None = Field(None, ge=1, le=1000, description="Units per trade")
    take_profit_pct: float | None = Field(None, gt=0, le=10,
                                          description="Take profit as a fraction of the credit/debit (0.5 = 50%)")
    stop_loss_pct: float | None = Field(None, gt=0, le=20,
                                        description="Stop loss as a multiple of the credit/debit (2.0 = 200%)")
    right: Literal["call", "put"] | None = Field(None, description="Vertical/butterfly/calendar: call or put version")
    side: Literal["buy", "sell"] | None = Field(None, description="sell = credit (sold), buy = debit (bought)")
    data_source: Literal["store", "synthetic"] | None = Field(
        None, description="store = imported minute bars; synthetic = the simulated market's history")
    report: bool = Field(False, description="Also write the HTML report and PNG chart (takes seconds)")

    @model_validator(mode="after")
    def _order(self) -> BacktestArgs:
        if self.start > self.end:
            raise ValueError("start must be on or before end")
        if self.entry_time and self.exit_time and self.entry_time >= self.exit_time:
            raise ValueError("entry_time must be before exit_time")
        return self


class EquityPoint(Out):
    date: dt.date
    equity: float


class BacktestResult(Out):
    strategy: str
    underlying: str
    start: dt.date
    end: dt.date
    data: str = Field(description="quoted (recorded option quotes) or modeled (priced from bars)")
    trades: int
    total_pnl: float | None
    win_rate: float | None
    profit_factor: float | None
    max_drawdown: float | None
    sharpe: float | None
    sortino: float | None = None
    expectancy: float | None = None
    avg_win: float | None = None
    avg_loss: float | None = None
    sessions: int | None = None
    source: str | None = Field(None, description="store (imported bars) or synthetic history")
    notes: list[str] = Field(default_factory=list)
    equity_curve: list[EquityPoint] = Field(default_factory=list)
    report: str | None = Field(None, description="Path of the HTML report")
    png: str | None = Field(None, description="Path of the PNG chart (equity, drawdown, P&L distribution)")


def _params(args: BacktestArgs) -> Any:
    """The backtester's own parameter type when it has one; a plain dict otherwise."""
    data = args.model_dump(exclude_none=True)
    for key in ("entry_time", "exit_time"):
        if key in data:
            data[key] = data[key].strftime("%H:%M")
    if "side" in data:
        sold = data.pop("side") == "sell"
        data["side"], data["credit"] = ("short" if sold else "long"), sold
    if "data_source" in data:
        data["source"] = data.pop("data_source")
    return data


def backtest_result(res: Any) -> BacktestResult:
    raw = plain(res)
    metrics = raw.get("metrics") if isinstance(raw.get("metrics"), dict) else {}
    trades = pick(raw, "trades", default=0)
    curve = [EquityPoint(date=p["date"], equity=num(p["equity"]) or 0.0)
             for p in (pick(raw, "equity_curve", default=[]) or []) if isinstance(p, dict)]
    return BacktestResult(
        strategy=str(raw.get("strategy")), underlying=str(raw.get("underlying")), start=raw["start"],
        end=raw["end"], data=str(pick(raw, "data", "data_source", default="modeled")),
        trades=len(trades) if isinstance(trades, list) else int(trades or 0),
        **{k: num(pick(raw, k, default=metrics.get(k))) for k in (
            "total_pnl", "win_rate", "profit_factor", "max_drawdown", "sharpe", "sortino", "expectancy",
            "avg_win", "avg_loss")},
        sessions=pick(raw, "sessions"), source=pick(raw, "source"),
        notes=[str(n) for n in raw.get("notes") or []][:10],
        equity_curve=curve, report=str(raw["report"]) if raw.get("report") else None,
        png=str(raw["png"]) if raw.get("png") else None)


async def backtest(args: BacktestArgs, ctx: ToolContext) -> BacktestResult:
    return backtest_result(await ctx.engine.backtest(_params(args)))


# --- payoff -------------------------------------------------------------------------------------
class StrategyPayoffArgs(Args):
    strategy: Literal["iron_condor", "vertical", "straddle", "strangle", "butterfly", "iron_butterfly",
                      "long_call", "long_put", "short_put", "short_call", "calendar"] = Field(
        description="Structure to price")
    underlying: Underlying = Field(description="SPY, QQQ or IWM")
    expiry: ExpirySpec = Field("0dte", description='"0dte" or YYYY-MM-DD')
    short_delta: float | None = Field(None, gt=0, lt=1, description="Delta of the short strike(s)")
    strike: float | None = Field(None, gt=0, le=100_000, description="Centre/short strike instead of a delta")
    wing_width: float | None = Field(None, gt=0, le=100, description="Wing width in points")
    right: Literal["call", "put"] | None = Field(None, description="For verticals and butterflies")
    side: Literal["buy", "sell"] | None = Field(None, description="sell = credit, buy = debit")
    quantity: int = Field(1, ge=1, le=1000, description="Units of the structure")


class PayoffPoint(Out):
    spot: float
    pnl: float


class StrategyPayoffResult(Out):
    strategy: str
    underlying: str
    spot: float | None = None
    legs: list[dict] = Field(default_factory=list)
    net_premium: float | None = Field(None, description="Per share; > 0 debit, < 0 credit")
    max_profit: float | None = None
    max_loss: float | None = None
    breakevens: list[float] = Field(default_factory=list)
    curve: list[PayoffPoint] = Field(default_factory=list, description="P&L at expiry in dollars by spot")


def payoff_result(args: StrategyPayoffArgs, res: Any) -> StrategyPayoffResult:
    raw = plain(res)
    curve_raw = pick(raw, "curve", "points", default=[]) or []
    if not curve_raw and raw.get("spots") is not None:
        curve_raw = [{"spot": s, "pnl": p} for s, p in zip(raw["spots"], raw.get("pnl") or [], strict=False)]
    curve = [PayoffPoint(spot=num(p["spot"]) or 0.0, pnl=num(p["pnl"]) or 0.0) for p in curve_raw
             if isinstance(p, dict)]
    if len(curve) > 81:  # a chat needs the shape, not thousands of points
        step = len(curve) / 81
        curve = [curve[int(i * step)] for i in range(81)]
    return StrategyPayoffResult(
        strategy=str(pick(raw, "strategy", "name", default=args.strategy)),
        underlying=str(pick(raw, "underlying", default=args.underlying)), spot=num(pick(raw, "spot")),
        legs=[plain(x) for x in pick(raw, "legs", default=[]) or []],
        net_premium=num(pick(raw, "net_premium", "net_price", "premium")), max_profit=num(raw.get("max_profit")),
        max_loss=num(raw.get("max_loss")),
        breakevens=[b for b in (num(x) for x in raw.get("breakevens") or []) if b is not None], curve=curve)


async def strategy_payoff(args: StrategyPayoffArgs, ctx: ToolContext) -> StrategyPayoffResult:
    return payoff_result(args, await ctx.engine.strategy_payoff(args.model_dump(exclude_none=True)))


# --- signals ------------------------------------------------------------------------------------
class SignalsArgs(Args):
    underlying: Underlying | None = Field(None, description="SPY, QQQ, IWM or VIX; omitted = all")


class SignalRow(Out):
    name: str | None = None
    underlying: str
    direction: str
    strength: float | None = None
    confidence: float | None = None
    reasons: list[str] = Field(default_factory=list)
    ts: dt.datetime | None = None
    kind: str | None = Field(None, description="price (about the underlying), volatility (about option premium) "
                                               "or regime (market-wide)")
    values: dict[str, float | None] = Field(default_factory=dict, description="Raw readings behind the signal")


class SignalsResult(Out):
    signals: list[SignalRow]


def signal_row(obj: Any) -> SignalRow:
    raw = plain(obj)
    reasons = raw.get("reasons") or []
    return SignalRow(name=pick(raw, "name", "kind", "source"), underlying=str(raw.get("underlying")),
                     direction=str(pick(raw, "direction", default="neutral")), strength=num(raw.get("strength")),
                     confidence=num(raw.get("confidence")),
                     reasons=[str(r) for r in (reasons if isinstance(reasons, list) else [reasons])],
                     ts=pick(raw, "ts", "timestamp"), kind=pick(raw, "kind"),
                     values={str(k): num(v) for k, v in (raw.get("values") or {}).items()})


async def signals(args: SignalsArgs, ctx: ToolContext) -> SignalsResult:
    return SignalsResult(signals=[signal_row(s) for s in await ctx.engine.signals(args.underlying)])


BACKTEST = REGISTRY.register(ToolSpec(
    "backtest", "Minute-level 0DTE backtest of one structure over a date range: entry/exit times, short "
    "delta, wing width, take-profit and stop-loss. Returns trades, total P&L, win rate, profit factor, "
    "drawdown, Sharpe and the equity curve.", BacktestArgs, BacktestResult, backtest, effect=Effect.READ))
STRATEGY_PAYOFF = REGISTRY.register(ToolSpec(
    "strategy_payoff", "Payoff at expiry of a structure priced from the current chain: legs, net premium, "
    "max profit, max loss, breakevens and the P&L curve.",
    StrategyPayoffArgs, StrategyPayoffResult, strategy_payoff, effect=Effect.READ))
SIGNALS = REGISTRY.register(ToolSpec(
    "signals", "Current trade signals (opening-range breakout, VWAP deviation, IV rank, VIX regime, "
    "correlation, momentum) with direction, strength and reasons.",
    SignalsArgs, SignalsResult, signals, effect=Effect.READ))
