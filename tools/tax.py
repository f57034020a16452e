"""Tax tool: ``tax_summary`` — the year's Form 8949 / §1256 totals from the LIVE ledger and imports.

Paper trades are never part of tax; the engine's tax part reads only live fills and imported files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from engine.core.errors import Smart0DTEError
from engine.core.instruments import parse_symbol
from tools.common import Args, Out, num, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec


class TaxSummaryArgs(Args):
    year: int = Field(ge=2000, le=2100, description="Tax year, e.g. 2026")
    wash_sale_matching: Literal["identical", "underlying"] | None = Field(
        None, description="identical = same contract only (default); underlying = any option on the same "
                          "underlying (conservative)")
    rows_limit: int = Field(20, ge=0, le=1000, description="How many Form 8949 rows to include")


class TermTotals(Out):
    proceeds: float | None = None
    cost_basis: float | None = None
    adjustments: float | None = None
    gain: float | None = None


class Section1256(Out):
    net: float | None = None
    short_term_40: float | None = None
    long_term_60: float | None = None


class TaxSummaryResult(Out):
    year: int
    wash_sale_matching: str | None
    short_term: TermTotals
    long_term: TermTotals
    wash_sale_disallowed: float | None
    section_1256: Section1256
    row_count: int
    rows: list[dict] = Field(default_factory=list, description="First rows of Form 8949")


def _totals(model: type[Out], raw: Any) -> Any:
    raw = raw if isinstance(raw, dict) else {}
    return model(**{k: num(raw.get(k)) for k in model.model_fields})


def _json_row(row: dict) -> dict:
    return {k: (num(v) if hasattr(v, "as_tuple") else (v.isoformat() if hasattr(v, "isoformat") else v))
            for k, v in row.items()}


async def tax_summary(args: TaxSummaryArgs, ctx: ToolContext) -> TaxSummaryResult:
    raw = plain(await ctx.engine.tax_report(args.year, args.wash_sale_matching))
    rows = [r for r in raw.get("rows") or [] if isinstance(r, dict)]
    return TaxSummaryResult(
        year=int(raw.get("year", args.year)),
        wash_sale_matching=pick(raw, "wash_sale_matching", default=args.wash_sale_matching),
        short_term=_totals(TermTotals, raw.get("short_term")), long_term=_totals(TermTotals, raw.get("long_term")),
        wash_sale_disallowed=num(raw.get("wash_sale_disallowed")),
        section_1256=_totals(Section1256, raw.get("section_1256")), row_count=len(rows),
        rows=[_json_row(r) for r in rows[: args.rows_limit]])


TAX_SUMMARY = REGISTRY.register(ToolSpec(
    "tax_summary", "Tax year summary from the live ledger and imported trades: short/long-term proceeds, "
    "basis, adjustments and gain (Form 8949), wash-sale disallowed losses, Section 1256 60/40 split.",
    TaxSummaryArgs, TaxSummaryResult, tax_summary, effect=Effect.READ))


# --- wash_sale_check ----------------------------------------------------------------------------
class WashSaleCheckArgs(Args):
    symbol: str = Field(description="Ticker or OCC option symbol of the proposed trade, e.g. SPY250307C00510000")
    quantity: int = Field(1, ge=1, le=100_000, description="Contracts or shares")
    price: float = Field(ge=0, le=100_000, description="Price per share (option premium per share)")
    side: Literal["sell", "buy"] = Field("sell", description="sell = would selling now wash a loss; buy = would "
                                                             "buying now wash an earlier loss")
    account: str = Field("live", min_length=1, max_length=32, description="Tax account (live, ira, …); paper has no tax")
    wash_sale_matching: Literal["identical", "underlying"] | None = Field(
        None, description="identical = same contract only (default); underlying = any option on the same underlying")

    @field_validator("symbol")
    @classmethod
    def _known_form(cls, v: str) -> str:
        try:
            return str(parse_symbol(v, known_only=False))
        except Smart0DTEError as err:
            raise ValueError(err.message) from None

    @field_validator("account")
    @classmethod
    def _not_paper(cls, v: str) -> str:
        if v.strip().lower() == "paper":
            raise ValueError("paper trades are never part of tax; use live or another live account")
        return v.strip().lower()


class WashSaleCheckResult(Out):
    symbol: str
    side: str
    quantity: int
    price: float
    account: str
    wash_sale: bool = Field(description="True when the trade would be (or cause) a wash sale")
    loss: float | None = None
    disallowed: float | None = None
    permanent: bool = False
    replacements: list[dict] = Field(default_factory=list)
    message: str | None = Field(None, description="Why, in one sentence (the tax engine's own words)")


async def wash_sale_check(args: WashSaleCheckArgs, ctx: ToolContext) -> WashSaleCheckResult:
    warning = await ctx.engine.tax_whatif(args.symbol, args.quantity, args.price, args.account,
                                          side=args.side.upper(), wash_sale_matching=args.wash_sale_matching)
    base = {"symbol": args.symbol, "side": args.side, "quantity": args.quantity, "price": args.price,
            "account": args.account}
    if warning is None:
        return WashSaleCheckResult(**base, wash_sale=False)
    w = plain(warning)
    return WashSaleCheckResult(**base, wash_sale=True, loss=num(w.get("loss")), disallowed=num(w.get("disallowed")),
                               permanent=bool(w.get("permanent")), replacements=list(w.get("replacements") or []),
                               message=w.get("message"))


WASH_SALE_CHECK = REGISTRY.register(ToolSpec(
    "wash_sale_check", "What-if before a trade: would selling (or buying) this now be or cause a wash sale "
    "under IRC 1091, and how much loss would be disallowed? Reads the live tax lots; changes nothing.",
    WashSaleCheckArgs, WashSaleCheckResult, wash_sale_check, effect=Effect.READ))
