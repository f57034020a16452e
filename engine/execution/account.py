"""Reading a ledger as a trader does: positions with marks, P&L by period, buying power, the
account state the risk guard needs, and the kill switch stored per ledger.

Marks are quote mids from the market service; a position without a usable quote is marked at its
average price (no unrealized P&L invented) and flagged ``mark_source = "cost"``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engine.core.clock import NY
from engine.core.instruments import looks_like_option, parse_occ
from engine.core.money import ZERO, D, cents
from engine.execution.analysis import profile
from engine.execution.broker import Side
from engine.execution.models import OrderRow, StateRow, aware, utcnow
from engine.execution.oms import OPEN_STATUSES
from engine.execution.structures import ResolvedLeg
from engine.portfolio.ledger import cash_balance, open_positions, realized_since
from engine.portfolio.positions import market_value, unrealized

KILL_KEY = "kill_switch"


def period_start(period: str, now: datetime) -> datetime:
    """Start (UTC) of ``today|week|month|year|all`` in New York time."""
    ny = now.astimezone(NY)
    day0 = ny.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = {"today": day0, "week": day0 - timedelta(days=ny.weekday()), "month": day0.replace(day=1),
              "year": day0.replace(month=1, day=1), "all": datetime(1970, 1, 1, tzinfo=UTC)}
    if period not in starts:
        from engine.core.errors import InvalidInput

        raise InvalidInput(f"period must be one of {', '.join(starts)}, not {period!r}", field="period")
    return starts[period].astimezone(UTC)


def kill_state(db: Any, ledger: str) -> dict:
    with db.session(ledger) as s:
        row = s.get(StateRow, KILL_KEY)
        return dict(row.value) if row else {"state": "active", "reason": "", "by": "", "ts": None}


def write_kill_state(db: Any, ledger: str, state: str, by: str, reason: str) -> dict:
    value = {"state": state, "reason": reason, "by": by, "ts": utcnow().isoformat()}
    with db.session(ledger) as s:
        row = s.get(StateRow, KILL_KEY)
        if row is None:
            s.add(StateRow(key=KILL_KEY, value=value, updated_at=utcnow()))
        else:
            row.value, row.updated_at = value, utcnow()
    return value


class LedgerView:
    """Marks, P&L and margin of one ledger."""

    def __init__(self, db: Any, market: Any, ledger: str, *, naked_pct: float = 0.20) -> None:
        self.db, self.market, self.ledger, self.naked_pct = db, market, ledger, naked_pct

    async def _mid(self, symbol: str) -> tuple[Decimal | None, Any]:
        try:
            q = await self.market.quote(symbol)
        except Exception:  # no quote: marked at cost by the caller
            return None, None
        m = q.mid
        return (D(round(m, 4)) if m and m > 0 else None), q

    async def positions(self) -> list[dict]:
        with self.db.session(self.ledger) as s:
            rows = open_positions(s)
        marks = await asyncio.gather(*(self._mid(r.symbol) for r in rows))
        out = []
        for r, (mark, _q) in zip(rows, marks, strict=True):
            avg = D(r.avg_price)
            source = "mid" if mark is not None else "cost"
            mark = mark if mark is not None else avg
            c = parse_occ(r.symbol) if r.multiplier != 1 else None
            out.append({"symbol": r.symbol, "underlying": r.underlying, "quantity": r.quantity,
                        "right": c.right.value if c else None, "strike": c.strike if c else None,
                        "expiry": r.expiry, "avg_price": avg, "mark": mark, "mark_source": source,
                        "multiplier": r.multiplier,
                        "market_value": cents(market_value(r.quantity, mark, r.multiplier)),
                        "unrealized_pnl": cents(unrealized(r.quantity, avg, mark, r.multiplier)),
                        "realized_pnl": cents(D(r.realized_pnl)), "opened_at": aware(r.opened_at)})
        return out

    async def pnl(self, period: str, now: datetime, positions: list[dict] | None = None) -> dict:
        """P&L since the start of ``period``; pass ``positions`` already marked to save the quotes."""
        since = period_start(period, now)
        with self.db.session(self.ledger) as s:
            realized, fees = realized_since(s, since)
            cash = cash_balance(s)
        pos = positions if positions is not None else await self.positions()
        unreal = sum((p["unrealized_pnl"] for p in pos), ZERO)
        value = sum((p["market_value"] for p in pos), ZERO)
        return {"account": self.ledger, "period": period, "since": since, "realized": cents(realized),
                "fees": cents(fees), "unrealized": cents(unreal), "total": cents(realized - fees + unreal),
                "cash": cents(cash), "net_liquidation": cents(cash + value), "positions": len(pos)}

    async def margin_held(self) -> Decimal:
        """Margin of the open positions: per underlying and expiry set, the worst loss of the legs at
        expiry ignoring premium (already in cash), or the naked-option requirement."""
        with self.db.session(self.ledger) as s:
            rows = open_positions(s)
        groups: dict[str, list[ResolvedLeg]] = {}
        for r in rows:
            c = parse_occ(r.symbol) if r.multiplier != 1 else None
            side = Side.BUY if r.quantity > 0 else Side.SELL
            groups.setdefault(r.underlying, []).append(ResolvedLeg(r.symbol, side, abs(r.quantity), c))
        total = ZERO
        for underlying, legs in groups.items():
            if all(leg.side is Side.BUY for leg in legs):
                continue
            mid, _ = await self._mid(underlying)
            spot = float(mid) if mid is not None else float(max((leg.contract.strike for leg in legs
                                                                  if leg.contract), default=0))
            pr = profile(legs, ZERO, 1, spot, naked_pct=self.naked_pct)
            total += pr.max_loss if pr.max_loss is not None and pr.defined_risk else pr.margin
        return cents(total)

    def working(self) -> tuple[int, int]:
        """(working orders, contracts still to fill on them)."""
        with self.db.session(self.ledger) as s:
            rows = list(s.execute(select(OrderRow).where(OrderRow.status.in_(OPEN_STATUSES))).scalars())
        contracts = sum((r.quantity - r.filled_quantity) * sum(int(x.get("ratio", 1)) for x in r.legs
                                                                if looks_like_option(x["symbol"])) for r in rows)
        return len(rows), contracts

    def recent_order_times(self, window_s: float = 60.0) -> list[float]:
        cutoff = datetime.now(UTC) - timedelta(seconds=window_s)
        with self.db.session(self.ledger) as s:
            rows = s.execute(select(OrderRow.created_at).where(OrderRow.created_at >= cutoff)).scalars()
            return [(t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp() for t in rows]

    def order_exists(self, order_id: str) -> bool:
        with self.db.session(self.ledger) as s:
            return s.get(OrderRow, order_id) is not None


def wall_now() -> float:
    return time.time()
