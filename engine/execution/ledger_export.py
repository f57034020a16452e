"""The ledger's trades shaped like a tax CSV row, for the tax part (which reads LIVE only).

``ledger_trades(db, ledger)`` → one dict per leg execution or expiry event, oldest first::

    {"datetime": aware datetime, "account": "live", "symbol": "SPY261120P00640000" | "SPY",
     "side": "BUY"|"SELL"|"EXPIRE"|"ASSIGN"|"EXERCISE", "quantity": int (> 0),
     "price": Decimal per share, "fees": Decimal total of the row (commission + fees)}

Semantics of the expiry sides (see :mod:`engine.execution.expiry`): EXPIRE closes the option at 0;
for physically settled options EXERCISE/ASSIGN close the option at 0 and are followed by the stock
BUY/SELL at the strike (same ``datetime``); for cash-settled options EXERCISE/ASSIGN carry the
intrinsic value as ``price`` and no stock row. The closing direction is the opposite of the
position's: an EXPIRE of a long closes it by selling, of a short by buying (``closes`` says which).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.execution.models import TradeRow, aware


def ledger_trades(db: Any, ledger: str) -> list[dict]:
    with db.session(ledger) as s:
        rows = list(s.execute(select(TradeRow).order_by(TradeRow.ts, TradeRow.id)).scalars())
    out = []
    held: dict[str, int] = {}
    for r in rows:
        before = held.get(r.symbol, 0)
        if r.action == "BUY":
            held[r.symbol] = before + r.quantity
        elif r.action == "SELL":
            held[r.symbol] = before - r.quantity
        else:  # expiry events close whatever was held
            held[r.symbol] = before + (r.quantity if before < 0 else -r.quantity)
        out.append({"datetime": aware(r.ts), "account": ledger, "symbol": r.symbol, "side": r.action,
                    "quantity": int(r.quantity), "price": r.price, "fees": r.fees,
                    "closes": ("short" if before < 0 else "long") if r.action in ("EXPIRE", "ASSIGN", "EXERCISE")
                    else None})
    return out
