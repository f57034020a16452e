"""Tax tool: ``tax_summary`` — the year's Form 8949 / §1256 totals from the LIVE ledger and imports.

Paper trades are never part of tax; the engine's tax part reads only live fills and imported files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

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
