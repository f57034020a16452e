"""Market tools: ``quote``, ``chain`` and ``market_summary`` (read-only)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Literal

from pydantic import Field, model_validator

from tools.common import Args, ExpirySpec, Out, Symbol, Underlying, num, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec


# --- quote --------------------------------------------------------------------------------------
class QuoteArgs(Args):
    symbol: Symbol = Field(description="Ticker (SPY, QQQ, IWM, VIX, SPX) or an OCC option symbol "
                                       "such as SPY261120C00600000")


class QuoteResult(Out):
    symbol: str
    bid: float | None
    ask: float | None
    mid: float | None
    last: float | None = None
    spread: float | None
    bid_size: int = 0
    ask_size: int = 0
    ts: datetime
    source: str
    session: date | None = None


async def quote(args: QuoteArgs, ctx: ToolContext) -> QuoteResult:
    q = await ctx.engine.quote(args.symbol)
    return QuoteResult(symbol=q.symbol, bid=num(q.bid, 4), ask=num(q.ask, 4), mid=num(q.mid, 4), last=num(q.last, 4),
                       spread=num(q.spread, 4), bid_size=int(q.bid_size or 0), ask_size=int(q.ask_size or 0),
                       ts=q.ts, source=q.source, session=q.session)


# --- chain --------------------------------------------------------------------------------------
class ChainArgs(Args):
    underlying: Underlying = Field(description="SPY, QQQ, IWM or VIX")
    expiry: ExpirySpec = Field("0dte", description='"0dte" (the expiry of today\'s session) or YYYY-MM-DD')
    strikes_around_atm: int = Field(10, ge=1, le=100,
                                    description="How many strikes on each side of the at-the-money strike")
    min_delta: float | None = Field(None, ge=0, le=1, description="Keep contracts with |delta| ≥ this (0.10 = 10 delta)")
    max_delta: float | None = Field(None, ge=0, le=1, description="Keep contracts with |delta| ≤ this")
    right: Literal["call", "put", "both"] = Field("both", description="Calls, puts or both")

    @model_validator(mode="after")
    def _delta_band(self) -> ChainArgs:
        if self.min_delta is not None and self.max_delta is not None and self.min_delta > self.max_delta:
            raise ValueError("min_delta must not exceed max_delta")
        return self


class ChainRow(Out):
    symbol: str
    strike: float
    right: str
    bid: float | None
    ask: float | None
    mid: float | None
    iv: float | None = Field(None, description="Implied volatility as a decimal (0.153 = 15.3%)")
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = Field(None, description="Per calendar day, dollars per share")
    vega: float | None = Field(None, description="Per 1 vol point, dollars per share")
    volume: int | None = None
    open_interest: int | None = None


class ChainResult(Out):
    underlying: str
    expiry: date
    spot: float | None
    ts: datetime
    source: str = ""
    atm_strike: float | None = None
    rows: list[ChainRow]


_PRICES = ("strike", "bid", "ask", "mid")


def _row(raw: dict) -> ChainRow:
    ints = ("volume", "open_interest")
    data = {k: (num(v, 4 if k in _PRICES else 6) if k not in ("symbol", "right") else str(v)) for k, v in raw.items()}
    for k in ints:
        if data.get(k) is not None:
            data[k] = int(data[k])
    return ChainRow.model_validate(data)


async def chain(args: ChainArgs, ctx: ToolContext) -> ChainResult:
    ch = await ctx.engine.chain(args.underlying, args.expiry)
    rows = ch.rows(args.strikes_around_atm, right=args.right, min_delta=args.min_delta, max_delta=args.max_delta)
    try:
        atm = num(ch.atm_strike())
    except Exception:  # an empty or one-sided chain has no ATM strike; the rows still stand
        atm = None
    return ChainResult(underlying=ch.underlying, expiry=ch.expiry, spot=num(ch.spot), ts=ch.ts,
                       source=str(getattr(ch, "source", "") or ""), atm_strike=atm,
                       rows=[_row(plain(r)) for r in rows])


# --- market summary -----------------------------------------------------------------------------
class MarketSummaryArgs(Args):
    symbol: Underlying = Field(description="SPY, QQQ, IWM or VIX")
    date: dt.date | None = Field(None, description="Session date YYYY-MM-DD; omitted = the latest session")


class MarketSummaryResult(Out):
    symbol: str
    date: dt.date
    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    prev_close: float | None = None
    change_pct: float | None = Field(None, description="Close over previous close − 1, as a decimal")
    range: float | None = Field(None, description="High − low in price units")
    range_pct: float | None = Field(None, description="(High − low) / previous close, as a decimal")
    realized_vol: float | None = Field(None, description="Annualised realised volatility of minute returns")
    atm_iv: float | None = Field(None, description="At-the-money implied volatility at the close")
    iv_change: float | None = Field(None, description="ATM IV change over the previous session, vol as decimal")
    vix: float | None = None
    vix_change: float | None = None
    volume: int | None = None
    extra: dict = Field(default_factory=dict, description="Further fields the market part reports")


_SUMMARY_ALIASES = {
    "range": ("range", "day_range"),
    "realized_vol": ("realized_vol", "realised_vol", "rv"),
    "atm_iv": ("atm_iv", "iv", "iv_close"),
    "iv_change": ("iv_change", "atm_iv_change"),
    "vix": ("vix", "vix_close"),
    "date": ("date", "day", "session"),
    "prev_close": ("prev_close", "previous_close"),
}


async def market_summary(args: MarketSummaryArgs, ctx: ToolContext) -> MarketSummaryResult:
    raw = plain(await ctx.engine.market_summary(args.symbol, args.date))
    data: dict = {"symbol": raw.get("symbol", args.symbol)}
    used = {"symbol"}
    for name in MarketSummaryResult.model_fields:
        if name in ("symbol", "extra"):
            continue
        keys = _SUMMARY_ALIASES.get(name, (name,))
        value = pick(raw, *keys)
        used.update(keys)
        if value is None:
            continue
        data[name] = value if name == "date" else (int(value) if name == "volume" else num(value))
    data["extra"] = {k: v for k, v in raw.items() if k not in used and isinstance(v, (int, float, str))}
    return MarketSummaryResult.model_validate(data)


QUOTE = REGISTRY.register(ToolSpec(
    "quote", "Latest bid/ask/last of a ticker (SPY, QQQ, IWM, VIX) or an OCC option symbol.",
    QuoteArgs, QuoteResult, quote, effect=Effect.READ))
CHAIN = REGISTRY.register(ToolSpec(
    "chain", "Option chain of one underlying and expiry (0DTE by default) near the money: bid/ask/mid, "
    "implied volatility and Greeks per strike; filter by right and by delta band.",
    ChainArgs, ChainResult, chain, effect=Effect.READ))
MARKET_SUMMARY = REGISTRY.register(ToolSpec(
    "market_summary", "What happened in one session: open/high/low/close, range, realised volatility, "
    "ATM implied-vol change and VIX. Use for questions like 'what happened to SPY volatility yesterday?'.",
    MarketSummaryArgs, MarketSummaryResult, market_summary, effect=Effect.READ))
