"""Tax choices (``SMART0DTE_TAX__*``).

The rules themselves (IRC §1091 wash sales, §1256 60/40, §1222 holding periods) are code; what a
taxpayer or adviser may reasonably choose is here:

* ``wash_sale_matching`` — what counts as "substantially identical" for options, which no statute
  or regulation settles: ``identical`` (the same contract, as brokers report on Form 1099-B) or
  ``underlying`` (any option on the same underlying and the underlying itself: conservative).
* ``lot_method`` — which open lot a sale closes. FIFO is the IRS default when shares are not
  adequately identified (Treas. Reg. §1.1012-1(c)(1)); LIFO and highest-cost are specific
  identifications a trader makes at the broker, offered here for what-if planning and reports.
* ``ira_accounts`` — accounts whose purchases make a wash-sale loss permanently disallowed
  (Rev. Rul. 2008-5) and whose own sales are never reported.
* ``section_1256`` — per-root or per-symbol overrides of the broad-based index option table
  (:mod:`engine.tax.securities`), e.g. ``{"XSP": true, "SPY": false}``.

Env examples: ``SMART0DTE_TAX__WASH_SALE_MATCHING=underlying``,
``SMART0DTE_TAX__IRA_ACCOUNTS='["ira","roth"]'``, ``SMART0DTE_TAX__SECTION_1256='{"XSP":true}'``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

WashSaleMatching = Literal["identical", "underlying"]
LotMethod = Literal["fifo", "lifo", "hifo"]


class TaxConfig(BaseModel):
    """Tax settings of the one taxpayer whose live accounts this installation tracks."""

    wash_sale_matching: WashSaleMatching = Field(
        "identical", description="identical = same contract (1099-B-like); underlying = any option "
        "on the same underlying and the underlying itself (conservative)")
    lot_method: LotMethod = Field("fifo", description="Which open lot a sale closes: fifo, lifo, "
                                  "hifo (highest cost first)")
    ira_accounts: list[str] = Field(default_factory=lambda: ["ira"],
                                    description="Accounts that are IRAs (Rev. Rul. 2008-5)")
    paper_accounts: list[str] = Field(default_factory=lambda: ["paper"],
                                      description="Accounts never part of tax")
    section_1256: dict[str, bool] = Field(
        default_factory=dict, description="Overrides of the §1256 root table, by option root or "
        "full symbol: {\"XSP\": true}")
    basis_reported_to_irs: bool = Field(
        True, description="Form 8949 box A/D (basis reported on 1099-B) when true, else B/E")
    include_live_ledger: bool = Field(
        True, description="Read the live ledger's fills; turn off when broker statements covering "
        "the same fills are imported instead (else they would count twice)")
    flex_accounts: dict[str, str] = Field(
        default_factory=dict, description="IB account id -> tax account name, e.g. "
        "{\"U7654321\": \"ira\"}; unmapped IB accounts are 'live'")
    year_end_marks: dict[str, Decimal] = Field(
        default_factory=dict, description="§1256 year-end marks 'YYYY:SYMBOL' -> price per share; "
        "without one the last trade price of the symbol is used")

    @field_validator("ira_accounts", "paper_accounts")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [a.strip().lower() for a in v if a.strip()]

    @field_validator("section_1256")
    @classmethod
    def _upper(cls, v: dict[str, bool]) -> dict[str, bool]:
        return {k.strip().upper().replace(" ", ""): bool(b) for k, b in v.items()}

    @field_validator("year_end_marks")
    @classmethod
    def _marks(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        out = {}
        for key, price in v.items():
            year, sep, symbol = key.partition(":")
            if not sep or not year.strip().isdigit() or not symbol.strip():
                raise ValueError(f"year_end_marks key {key!r} must be 'YYYY:SYMBOL'")
            out[f"{year.strip()}:{symbol.upper().replace(' ', '')}"] = price
        return out

    def is_ira(self, account: str) -> bool:
        return account.lower() in self.ira_accounts

    def is_paper(self, account: str) -> bool:
        return account.lower() in self.paper_accounts
