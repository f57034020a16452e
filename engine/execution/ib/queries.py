"""Read-only questions to IB: positions, account summary, and the numbers of a what-if order."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from ib_async import IB, OrderState

from engine.core.errors import BrokerError
from engine.core.money import ZERO, D
from engine.execution.broker import AccountSummary, BrokerPosition, WhatIf
from engine.execution.ib.contracts import ContractBook
from engine.execution.ib.orders import UNSET, plain

SUMMARY_TAGS = ("NetLiquidation", "TotalCashValue", "BuyingPower", "InitMarginReq", "MaintMarginReq")


async def positions(ib: IB, contracts: ContractBook, account: str | None, timeout: float) -> list[BrokerPosition]:
    """Positions of ``account`` in our symbols; IB's average cost per contract becomes per share."""
    raw = await asyncio.wait_for(ib.reqPositionsAsync(), timeout)
    out = []
    for p in raw:
        if account and p.account != account:
            continue
        sym = contracts.remember(p.contract)
        if sym is None or not p.position:
            continue
        mult = int(p.contract.multiplier or 1)
        out.append(BrokerPosition(sym, int(round(p.position)), plain(p.avgCost / mult), p.account))
    return sorted(out, key=lambda x: x.symbol)


async def account_summary(ib: IB, account: str, timeout: float) -> AccountSummary:
    values = await asyncio.wait_for(ib.accountSummaryAsync(account), timeout)
    tags = {v.tag: v.value for v in values if v.currency in ("USD", "BASE", "")}

    def num(tag: str) -> Decimal:
        try:
            return D(tags.get(tag) or 0)
        except ValueError:
            return ZERO

    net, cash, bp, init, maint = (num(t) for t in SUMMARY_TAGS)
    return AccountSummary(account, net, cash, bp, init, maint, "USD",
                          {k: v for k, v in tags.items() if k not in SUMMARY_TAGS})


def _number(text: str | float) -> Decimal | None:
    """IB sends OrderState margins as text and marks "no value" with its UNSET double."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return None if v == UNSET else plain(v)


def what_if_of(state: OrderState) -> WhatIf:
    return WhatIf(initial_margin_change=_number(state.initMarginChange) or ZERO,
                  maintenance_margin_change=_number(state.maintMarginChange) or ZERO,
                  commission=_number(state.commission) or ZERO,
                  equity_with_loan_after=_number(state.equityWithLoanAfter), warning=state.warningText)


def pick_account(configured: str | None, managed: list[str], where: str) -> str:
    """The IB account orders go to: the configured one (it must be managed by this gateway), or
    the only one the gateway manages."""
    if configured:
        if configured not in managed:
            raise BrokerError(f"SMART0DTE_IB_ACCOUNT={configured} is not managed by the gateway at {where} "
                              f"(it manages {', '.join(managed)})")
        return configured
    if len(managed) != 1:
        raise BrokerError(f"the gateway at {where} manages {len(managed)} accounts ({', '.join(managed)}): "
                          "set SMART0DTE_IB_ACCOUNT")
    return managed[0]
