"""TWAP for multi-leg orders: the parent quantity in N slices over M minutes, each slice a combo
limit order at the mid plus ``ticks`` ticks (toward the far side, i.e. more aggressive), re-priced
by cancel/replace when the mid moves, stopped when the market data goes stale.

* slice ``k`` asks for ``ceil(remaining / slices_left)`` units; what a slice leaves unfilled at
  its end is cancelled and rolls into the next slice;
* within a slice the mid is looked at ``checks`` times; a move of ``reprice_ticks`` or more
  replaces the working child at the new mid + ``ticks``;
* a parent ``limit_price`` (signed) caps every child: the TWAP never pays more than the person
  confirmed;
* a quote older than the stale limit cancels the working child and stops the TWAP (reason
  ``stale data``) — slicing blind is worse than not trading.

Every child passes the risk guard (``ExecutionService.submit_internal``); children carry the
parent's id in ``parent_id``; progress is audited (``twap.start``, ``twap.slice``, ``twap.end``).
``sleep`` is injectable so tests run the schedule without waiting real minutes.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.core.money import round_to_tick
from engine.execution.broker import BrokerOrder, OrderStatus, OrderType, TimeInForce
from engine.execution.fill_model import LegBook, mid_price


@dataclass(frozen=True, slots=True)
class TwapParams:
    minutes: float = 10.0
    slices: int = 5
    ticks: int = 1
    reprice_ticks: int = 1
    checks: int = 4

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.slices < 1 or self.checks < 1 or self.ticks < 0:
            raise ValueError("TWAP needs minutes > 0, slices >= 1, checks >= 1, ticks >= 0")


@dataclass
class TwapReport:
    parent_id: str
    quantity: int
    filled: int = 0
    status: str = "running"
    reason: str = ""
    children: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"order_id": self.parent_id, "quantity": self.quantity, "filled_quantity": self.filled,
                "status": self.status, "reason": self.reason, "children": self.children}


class Twap:
    def __init__(self, service: Any, parent: BrokerOrder, params: TwapParams, *,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.service, self.parent, self.params, self.sleep = service, parent, params, sleep
        self.tick = service.settings.fills.tick
        self.stale_s = service.settings.risk.stale_quote_seconds or service.settings.stale_quote_seconds

    async def _mid(self) -> Decimal | None:
        """Signed mid of the combo, or None when any leg's quote is stale."""
        market = self.service.market
        now = market.clock.now()
        books = []
        for leg in self.parent.legs:
            q = await market.quote(leg.symbol)
            if (now - q.ts).total_seconds() > self.stale_s:
                return None
            books.append(LegBook.from_quote(leg.side, leg.ratio, q))
        return mid_price(books)

    def _limit(self, mid: Decimal) -> Decimal:
        price = round_to_tick(mid + self.tick * self.params.ticks, self.tick)
        cap = self.parent.limit_price
        return min(price, cap) if cap is not None else price

    async def run(self) -> TwapReport:
        p, svc = self.params, self.service
        rep = TwapReport(self.parent.client_order_id, self.parent.quantity)
        audit = svc.audit
        audit.append("twap.start", actor="twap", ledger=self.parent.account,
                     data={"order_id": rep.parent_id, "order": self.parent.to_dict(), "minutes": p.minutes,
                           "slices": p.slices, "ticks": p.ticks})
        oms = await svc.manager(self.parent.account)
        slice_s = p.minutes * 60.0 / p.slices
        for k in range(p.slices):
            remaining = self.parent.quantity - rep.filled
            if remaining <= 0:
                break
            qty = math.ceil(remaining / (p.slices - k))
            mid = await self._mid()
            if mid is None:
                rep.status, rep.reason = "stopped", "stale data"
                break
            child = BrokerOrder(f"{rep.parent_id}-S{k + 1}-{uuid.uuid4().hex[:4]}", self.parent.account,
                                self.parent.underlying, self.parent.legs, qty, OrderType.LIMIT, self._limit(mid),
                                tif=TimeInForce.DAY)
            result = await svc.submit_internal(child, intent="twap", parent_id=rep.parent_id)
            last_mid = mid
            for _ in range(p.checks):
                if OrderStatus(result["status"]).is_terminal:
                    break
                await self.sleep(slice_s / p.checks)
                await svc.poll(self.parent.account)
                result = oms.get(child.client_order_id)
                if OrderStatus(result["status"]).is_terminal:
                    break
                mid = await self._mid()
                if mid is None:
                    rep.status, rep.reason = "stopped", "stale data"
                    break
                if abs(mid - last_mid) >= self.tick * p.reprice_ticks:
                    result = await oms.replace(child.client_order_id, limit_price=self._limit(mid), actor="twap")
                    last_mid = mid
            if not OrderStatus(result["status"]).is_terminal:
                result = await oms.cancel(child.client_order_id, actor="twap", reason="TWAP slice ended")
            rep.filled += int(result["filled_quantity"])
            rep.children.append({"order_id": child.client_order_id, "quantity": qty,
                                 "filled_quantity": result["filled_quantity"], "status": result["status"],
                                 "avg_fill_price": result["avg_fill_price"]})
            audit.append("twap.slice", actor="twap", ledger=self.parent.account,
                         data={"order_id": rep.parent_id, **rep.children[-1]})
            if rep.status == "stopped":
                break
        if rep.status != "stopped":
            rep.status = "filled" if rep.filled >= self.parent.quantity else "incomplete"
            rep.reason = rep.reason or f"{rep.filled} of {self.parent.quantity} filled"
        audit.append("twap.end", actor="twap", ledger=self.parent.account, data=rep.to_dict())
        return rep
