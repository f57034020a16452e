"""Commissions and regulatory fees, Interactive Brokers style, from a data table.

The standard option commission (``FillConfig.commission_per_contract``, $0.65) and the per-order
minimum (``commission_min_per_order``, $1.00) come from settings; everything else — reduced rates
for cheap options, the stock-leg commission, the Options Regulatory Fee (ORF), the OCC clearing
fee, the SEC Section 31 fee on sale proceeds and the FINRA Trading Activity Fee (TAF) — comes from
``fee_schedule.csv`` (or ``FillConfig.fee_table``), because regulators change these rates every
year and a rate change must be an edit of data, not of code.

Table columns: ``fee`` (commission|orf|occ|sec|taf), ``asset`` (option|stock), ``side``
(all|sell), ``basis`` (contract|share|proceeds), ``rate``, ``premium_below`` (commission tier: the
rate applies when the price per share is below this), ``min_per_order``, ``max_per_order``.

Commission minimums apply per ORDER; an order filled in pieces pays
``order_fees(all fills so far) - already charged`` on each piece (see :meth:`FeeSchedule.increment`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from engine.core.errors import InvalidInput
from engine.core.money import ZERO, D, cents
from engine.execution.broker import Side
from engine.execution.config import FillConfig

DEFAULT_TABLE = Path(__file__).with_name("fee_schedule.csv")
FEE_KINDS = ("commission", "orf", "occ", "sec", "taf")


@dataclass(frozen=True, slots=True)
class FeeRule:
    fee: str
    asset: str
    side: str
    basis: str
    rate: Decimal
    premium_below: Decimal | None = None
    min_per_order: Decimal | None = None
    max_per_order: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One leg of an execution: ``quantity`` contracts (or shares) at ``price`` per share."""

    side: Side
    quantity: int
    price: Decimal
    is_option: bool = True
    multiplier: int = 100


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    commission: Decimal = ZERO
    orf: Decimal = ZERO
    occ: Decimal = ZERO
    sec: Decimal = ZERO
    taf: Decimal = ZERO

    @property
    def regulatory(self) -> Decimal:
        """Pass-through fees (everything but the broker's commission)."""
        return self.orf + self.occ + self.sec + self.taf

    @property
    def total(self) -> Decimal:
        return self.commission + self.regulatory

    def __sub__(self, other: FeeBreakdown) -> FeeBreakdown:
        return FeeBreakdown(*(max(ZERO, getattr(self, k) - getattr(other, k)) for k in FEE_KINDS))

    def to_dict(self) -> dict[str, Decimal]:
        d = {k: getattr(self, k) for k in FEE_KINDS}
        d["regulatory"] = self.regulatory
        d["total"] = self.total
        return d


def _dec(text: str) -> Decimal | None:
    text = (text or "").strip()
    return D(text) if text else None


def load_rules(path: Path | str) -> tuple[FeeRule, ...]:
    """Read and validate a fee table; a bad row raises :class:`InvalidInput` naming the row."""
    rules = []
    with open(path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                rule = FeeRule(row["fee"].strip(), row["asset"].strip(), row["side"].strip(),
                               row["basis"].strip(), D(row["rate"]), _dec(row.get("premium_below", "")),
                               _dec(row.get("min_per_order", "")), _dec(row.get("max_per_order", "")))
            except (KeyError, ValueError) as err:
                raise InvalidInput(f"fee table {path} line {n}: {err}") from None
            if (rule.fee not in FEE_KINDS or rule.asset not in ("option", "stock")
                    or rule.side not in ("all", "sell") or rule.basis not in ("contract", "share", "proceeds")):
                raise InvalidInput(f"fee table {path} line {n}: unknown fee/asset/side/basis in {row}")
            rules.append(rule)
    return tuple(rules)


class FeeSchedule:
    """Computes :class:`FeeBreakdown` for an order's executions."""

    def __init__(self, rules: Iterable[FeeRule], *, commission_per_contract: Decimal = D("0.65"),
                 commission_min_per_order: Decimal = D("1.00")) -> None:
        self.rules = tuple(rules)
        self.commission_per_contract = D(commission_per_contract)
        self.commission_min_per_order = D(commission_min_per_order)
        # cheap-option tiers, lowest threshold first, so the first match is the right tier
        self._tiers = sorted((r for r in self.rules if r.fee == "commission" and r.asset == "option"
                              and r.premium_below is not None), key=lambda r: r.premium_below)
        self._stock_commission = next((r for r in self.rules if r.fee == "commission" and r.asset == "stock"),
                                      None)

    @classmethod
    def from_config(cls, config: FillConfig | None = None) -> FeeSchedule:
        cfg = config or FillConfig()
        return _cached(cfg.fee_table or str(DEFAULT_TABLE), cfg.commission_per_contract,
                       cfg.commission_min_per_order)

    def option_rate(self, price: Decimal) -> Decimal:
        """Commission per contract at this premium per share."""
        for tier in self._tiers:
            if abs(price) < tier.premium_below:
                return tier.rate
        return self.commission_per_contract

    def order_fees(self, lines: Iterable[FeeLine], *, apply_minimum: bool = True) -> FeeBreakdown:
        """Fees of one order (all legs, all fills together)."""
        lines = list(lines)
        opt_comm = sum((self.option_rate(x.price) * x.quantity for x in lines if x.is_option), ZERO)
        stk_comm = ZERO
        if self._stock_commission is not None:
            shares = sum(x.quantity for x in lines if not x.is_option)
            if shares:
                stk_comm = self._stock_commission.rate * shares
                if self._stock_commission.min_per_order is not None:
                    stk_comm = max(stk_comm, self._stock_commission.min_per_order)
        commission = opt_comm + stk_comm
        if apply_minimum and lines and commission < self.commission_min_per_order:
            commission = self.commission_min_per_order
        amounts = {k: ZERO for k in FEE_KINDS if k != "commission"}
        for rule in self.rules:
            if rule.fee == "commission":
                continue
            amount = sum((self._apply(rule, x) for x in lines), ZERO)
            if rule.max_per_order is not None:
                amount = min(amount, rule.max_per_order)
            if rule.min_per_order is not None and amount > 0:
                amount = max(amount, rule.min_per_order)
            amounts[rule.fee] += amount
        return FeeBreakdown(cents(commission), *(cents(amounts[k]) for k in ("orf", "occ", "sec", "taf")))

    def increment(self, before: Iterable[FeeLine], now: Iterable[FeeLine]) -> FeeBreakdown:
        """Fees due for the newest fill of an order: fees(all fills) - fees(earlier fills)."""
        before = list(before)
        after = before + list(now)
        charged = self.order_fees(before) if before else FeeBreakdown()
        return self.order_fees(after) - charged

    @staticmethod
    def _apply(rule: FeeRule, line: FeeLine) -> Decimal:
        if (rule.asset == "option") != line.is_option:
            return ZERO
        if rule.side == "sell" and line.side is not Side.SELL:
            return ZERO
        if rule.basis == "proceeds":
            return rule.rate * abs(line.price) * line.quantity * line.multiplier
        return rule.rate * line.quantity  # per contract or per share


@lru_cache(maxsize=8)
def _cached(path: str, per_contract: Decimal, minimum: Decimal) -> FeeSchedule:
    return FeeSchedule(load_rules(path), commission_per_contract=per_contract,
                       commission_min_per_order=minimum)
