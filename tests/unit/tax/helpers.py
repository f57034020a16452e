"""Helpers of the tax tests: trades from compact CSV lines, reports by both implementations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.tax.config import TaxConfig
from engine.tax.matching import run_walk
from engine.tax.report import TaxReport, build_report
from engine.tax.trades import CSV_HEADER, TaxTrade, make_trade

IMPLS = ("fast", "reference")
FAR = date(2099, 1, 1)


def trades(text: str, config: TaxConfig | None = None) -> list[TaxTrade]:
    """``datetime,account,symbol,side,quantity,price,fees`` lines (no header) -> trades."""
    out = []
    for n, line in enumerate(x.strip() for x in text.strip().splitlines()):
        if not line or line.startswith("#"):
            continue
        f = dict(zip(CSV_HEADER, (c.strip() for c in line.split(",")), strict=True))
        out.append(make_trade(datetime_=f["datetime"], account=f["account"], symbol=f["symbol"], side=f["side"],
                              quantity=f["quantity"], price=f["price"], fees=f["fees"], ref=f"line {n + 1}",
                              overrides=(config or TaxConfig()).section_1256))
    return out


def report(text: str, year: int, *, impl: str = "fast", matching: str | None = None,
           config: TaxConfig | None = None, lot_method: str | None = None, as_of: date = FAR,
           marks: dict[str, Decimal] | None = None) -> TaxReport:
    cfg = config or TaxConfig()
    walk = run_walk(trades(text, cfg), cfg, matching=matching, lot_method=lot_method, impl=impl, as_of=as_of,
                    marks=marks)
    return build_report(walk.dispositions, year, matching or cfg.wash_sale_matching, cfg.basis_reported_to_irs)


def D(x: object) -> Decimal:
    return Decimal(str(x))


def row(rep: TaxReport, i: int) -> dict:
    """Row ``i`` of the report as the contract's dict (Decimals kept)."""
    return rep.rows[i].to_dict()


def totals(rep: TaxReport, term: str = "short") -> tuple[Decimal, Decimal, Decimal, Decimal]:
    t = rep.short_term if term == "short" else rep.long_term
    return t.proceeds, t.cost_basis, t.adjustments, t.gain
