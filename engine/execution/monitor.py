"""The position monitor: take-profit, stop-loss (fixed or trailing), time exits and the 0DTE
auto-flatten, acting through the same risk guard as every other order.

Exit rules belong to the structure one order opened (``exit_rules``), so a condor is judged as a
condor, not leg by leg. Its P&L is measured in percent of the entry credit or debit:
``pnl_pct = (-entry_net - close_mid) / |entry_net| x 100`` where ``close_mid`` is the signed mid
of the closing trade (the opposite legs). Decisions use the mid so a momentarily wide spread does
not fire a stop; the exit itself is a market order (far side) because an exit that does not fill
is no exit.

* take profit: ``pnl_pct >= take_profit_pct`` (50 = half the credit kept);
* stop loss: ``pnl_pct <= -stop_loss_pct`` (200 = lost twice the credit);
* trailing: the stop follows the best ``pnl_pct`` seen, ``stop_loss_pct`` points below it;
* time exit: at ``exit_at`` (HH:MM ET) on any day;
* auto-flatten: at ``RiskConfig.auto_flatten_time`` (15:50 ET) every position expiring today is
  closed, rules or not — a 0DTE option left to the close risks pin and assignment surprises.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from math import gcd
from typing import Any

from sqlalchemy import select

from engine.core.clock import NY
from engine.core.money import D
from engine.execution.broker import BrokerOrder, OrderLeg, OrderType, Side
from engine.execution.fill_model import LegBook, mid_price
from engine.execution.models import ExitRuleRow
from engine.portfolio.ledger import open_positions


def register_exits(db: Any, ledger: str, order: dict, exits: dict) -> int | None:
    """Attach exits to the structure ``order`` opened (once it has fills); returns the rule id."""
    if not order.get("filled_quantity") or order.get("avg_fill_price") is None:
        return None
    if not any(exits.get(k) for k in ("take_profit_pct", "stop_loss_pct", "exit_at")):
        return None
    with db.session(ledger) as s:
        row = ExitRuleRow(order_id=order["order_id"], underlying=order["underlying"], legs=order["legs"],
                          quantity=int(order["filled_quantity"]), entry_net=D(order["avg_fill_price"]),
                          take_profit_pct=exits.get("take_profit_pct"), stop_loss_pct=exits.get("stop_loss_pct"),
                          trailing=bool(exits.get("trailing")), exit_at=exits.get("exit_at"))
        s.add(row)
        s.flush()
        return row.id


@dataclass(frozen=True, slots=True)
class ExitDecision:
    rule_id: int | None
    reason: str
    pnl_pct: float | None = None


def exit_reason(rule: ExitRuleRow, pnl_pct: float, now_ny: datetime) -> tuple[str | None, float]:
    """Why ``rule`` fires now (or None) and the best P&L to remember for trailing."""
    best = max(rule.best_pnl_pct or 0.0, pnl_pct)
    if rule.take_profit_pct is not None and pnl_pct >= rule.take_profit_pct:
        return f"take profit: {pnl_pct:.1f}% of entry >= {rule.take_profit_pct:g}%", best
    if rule.stop_loss_pct is not None:
        floor = (best - rule.stop_loss_pct) if rule.trailing else -rule.stop_loss_pct
        if pnl_pct <= floor:
            kind = "trailing stop" if rule.trailing else "stop loss"
            return f"{kind}: {pnl_pct:.1f}% of entry <= {floor:.1f}%", best
    if rule.exit_at:
        h, m = (int(x) for x in rule.exit_at.split(":"))
        if now_ny.time() >= time(h, m):
            return f"time exit at {rule.exit_at} ET", best
    return None, best


def closing_legs(positions: dict[str, int], legs: list[dict], quantity: int) -> list[OrderLeg]:
    """Opposite legs of ``legs`` x ``quantity`` units, capped by what is still held."""
    out = []
    for x in legs:
        held = positions.get(x["symbol"], 0)
        side = Side(x["side"])
        want = int(x.get("ratio", 1)) * quantity
        if held == 0 or (held > 0) != (side is Side.BUY):
            continue
        out.append(OrderLeg(x["symbol"], side.opposite, min(want, abs(held))))
    return out


def as_order(underlying: str, ledger: str, legs: list[OrderLeg], prefix: str) -> BrokerOrder:
    """One market order closing ``legs``: common factor as quantity, the rest as ratios."""
    g = 0
    for leg in legs:
        g = gcd(g, leg.ratio)
    return BrokerOrder(f"{prefix}-{uuid.uuid4().hex[:10]}", ledger, underlying,
                       tuple(OrderLeg(x.symbol, x.side, x.ratio // g) for x in legs), g, OrderType.MARKET)


class PositionMonitor:
    """``await PositionMonitor(service, ledger).check()`` — one pass; returns what it did."""

    def __init__(self, service: Any, ledger: str = "paper") -> None:
        self.service, self.ledger = service, ledger
        self.db = service.db

    def _positions(self) -> dict[str, int]:
        with self.db.session(self.ledger) as s:
            return {p.symbol: p.quantity for p in open_positions(s)}

    async def _close_mid(self, legs: list[OrderLeg]) -> Decimal:
        quotes = [await self.service.market.quote(x.symbol) for x in legs]
        return mid_price([LegBook.from_quote(x.side, x.ratio, q) for x, q in zip(legs, quotes, strict=True)])

    async def check(self, now: datetime | None = None) -> list[dict]:
        now_ny = (now or self.service.market.clock.now()).astimezone(NY)
        done: list[dict] = []
        positions = self._positions()
        with self.db.session(self.ledger) as s:
            rules = list(s.execute(select(ExitRuleRow).where(ExitRuleRow.active.is_(True))).scalars())
        for rule in rules:
            legs = closing_legs(positions, rule.legs, rule.quantity)
            if not legs:
                self._deactivate(rule.id, "position already closed")
                continue
            entry = D(rule.entry_net)
            per_unit = [OrderLeg(x["symbol"], Side(x["side"]).opposite, int(x.get("ratio", 1))) for x in rule.legs]
            pnl_pct = float((-entry - await self._close_mid(per_unit)) / abs(entry) * 100) if entry else 0.0
            reason, best = exit_reason(rule, pnl_pct, now_ny)
            self._remember_best(rule.id, best)
            if reason:
                done.append(await self._close(rule.underlying, legs, "exit", reason, rule.id, pnl_pct))
                positions = self._positions()
        done += await self.flatten_expiring(now_ny)
        return done

    async def flatten_expiring(self, now_ny: datetime) -> list[dict]:
        cfg = self.service.settings.risk
        if not cfg.auto_flatten_enabled or now_ny.time() < cfg.auto_flatten_time:
            return []
        today = now_ny.date()
        by_underlying: dict[str, list[OrderLeg]] = {}
        with self.db.session(self.ledger) as s:
            for p in open_positions(s):
                if p.expiry == today and p.multiplier != 1:
                    side = Side.SELL if p.quantity > 0 else Side.BUY
                    by_underlying.setdefault(p.underlying, []).append(OrderLeg(p.symbol, side, abs(p.quantity)))
        out = []
        hours = self.service.market.hours
        for underlying, legs in by_underlying.items():
            if not hours.option_trading(underlying, today, now_ny):
                continue  # after the option close there is nothing to flatten into: expiry books it
            for i in range(0, len(legs), 4):
                out.append(await self._close(underlying, legs[i:i + 4], "flatten",
                                             f"0DTE auto-flatten at {cfg.auto_flatten_time:%H:%M} ET", None, None))
        return out

    async def _close(self, underlying: str, legs: list[OrderLeg], intent: str, reason: str, rule_id: int | None,
                     pnl_pct: float | None) -> dict:
        from engine.core.errors import Smart0DTEError

        busy = await self._closing_symbols()
        if any(x.symbol in busy for x in legs):
            return {"order_id": None, "status": "pending", "reason": "a closing order is already working",
                    "rule_id": rule_id}
        order = as_order(underlying, self.ledger, legs, intent[:4].upper())
        self.service.audit.append(f"monitor.{intent}", actor="position-monitor", ledger=self.ledger,
                                  data={"order_id": order.client_order_id, "reason": reason, "rule_id": rule_id,
                                        "pnl_pct": pnl_pct, "legs": [x.to_dict() for x in order.legs]})
        try:
            result = await self.service.submit_internal(order, intent=intent)
        except Smart0DTEError as err:
            return {"order_id": order.client_order_id, "status": "refused", "reason": str(err), "rule_id": rule_id}
        if rule_id is not None and result["status"] == "filled":
            self._deactivate(rule_id, reason)
        return {"order_id": result["order_id"], "status": result["status"], "reason": reason, "rule_id": rule_id}

    async def _closing_symbols(self) -> set[str]:
        """Symbols with a working exit/flatten order: never send a second one on top."""
        oms = await self.service.manager(self.ledger)
        return {leg["symbol"] for o in oms.list(status="open") if o["intent"] in ("exit", "flatten")
                for leg in o["legs"]}

    def _deactivate(self, rule_id: int, reason: str) -> None:
        with self.db.session(self.ledger) as s:
            row = s.get(ExitRuleRow, rule_id)
            row.active, row.closed_reason = False, reason

    def _remember_best(self, rule_id: int, best: float) -> None:
        with self.db.session(self.ledger) as s:
            row = s.get(ExitRuleRow, rule_id)
            if best > (row.best_pnl_pct or 0.0):
                row.best_pnl_pct = best
