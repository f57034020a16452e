"""Plain-English explanations of dispositions and wash sales, one line each.

Examples::

    loss of $312.40 disallowed: replaced by SPY250307C00510000 bought 2025-03-05
    loss of $500.00, $300.00 of it disallowed: replaced by 3 of 5 SPY250307C00510000 bought 2025-03-05
    loss of $120.00 permanently disallowed: replaced in IRA account ira by SPY bought 2025-03-06
    basis includes $312.40 of disallowed loss from SPY250307C00510000 sold 2025-03-04
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from engine.core.money import cents
from engine.tax.lots import Disposition, WashLink


def usd(x: Decimal) -> str:
    return f"${cents(x):,.2f}"


def _qty(units: int, multiplier: int) -> str:
    q = Decimal(units) / multiplier
    return str(q.normalize()) if q != q.to_integral_value() else str(int(q))


def replaced_by(links: Iterable[WashLink], partial_of: int | None = None) -> str:
    """``replaced by X bought D[; Y bought E]`` (with "n of m" when only part was replaced)."""
    parts = []
    for w in links:
        where = f"in IRA account {w.repl_account} " if w.ira else ""
        count = ""
        if partial_of is not None:
            count = f"{_qty(w.units, w.repl_multiplier)} of {_qty(partial_of, w.repl_multiplier)} "
        verb = "sold short" if w.short else "bought"
        parts.append(f"{where}by {count}{w.repl_symbol} {verb} {w.repl_date.isoformat()}")
    return "replaced " + "; ".join(parts)


def explain(d: Disposition) -> str:
    """Why this row has the numbers it has."""
    bits: list[str] = []
    loss = d.loss
    if d.washes:
        permanent = all(w.ira for w in d.washes)
        full = d.disallowed == loss
        verb = "permanently disallowed" if permanent else "disallowed"
        if full:
            head = f"loss of {usd(loss)} {verb}"
            tail = replaced_by(d.washes)
        else:
            head = f"loss of {usd(loss)}, {usd(d.disallowed)} of it {verb}"
            tail = replaced_by(d.washes, d.units)
        if any(w.ira for w in d.washes) and not permanent:
            tail += " (IRA part permanently disallowed, Rev. Rul. 2008-5)"
        bits.append(f"{head}: {tail}")
    elif d.kind == "mtm":
        bits.append(f"§1256 year-end mark: {d.note}; next year's basis is the mark")
    elif loss > 0:
        bits.append(f"loss of {usd(loss)} allowed")
    else:
        bits.append(f"gain of {usd(-loss)}")
    if d.sec.section_1256 and d.kind != "mtm":
        bits.append("§1256 contract: 60% long-term / 40% short-term, no wash-sale rule")
    if d.kind == "expire":
        bits.append("expired worthless" if d.direction > 0 else "written option expired: premium kept")
    if d.direction < 0 and d.kind != "mtm":
        bits.append(f"short opened {d.opened_on.isoformat() if d.opened_on else '?'}, short-term (IRC §1233)")
    if d.carried and d.carried_adj:
        src = ", ".join(f"{w.loss_symbol} closed {w.loss_date.isoformat()}" for w in d.carried)
        what = "basis" if d.direction > 0 else "cost"
        bits.append(f"{what} includes {usd(d.carried_adj)} of disallowed loss from {src}")
    if d.note and d.kind != "mtm":
        bits.append(d.note)
    return "; ".join(bits)
