"""Rich tables for ``smart0dte tax report`` without ``--json`` (imported only by that command)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _m(x) -> str:
    return f"{x:,.2f}"


def show_report(rep) -> None:
    console = Console()
    totals = Table(title=f"Tax year {rep.year} — wash-sale matching: {rep.wash_sale_matching}")
    for col in ("", "proceeds", "cost basis", "adjustments", "gain"):
        totals.add_column(col, justify="right" if col else "left")
    for name, t in (("short-term (8949)", rep.short_term), ("long-term (8949)", rep.long_term)):
        totals.add_row(name, _m(t.proceeds), _m(t.cost_basis), _m(t.adjustments), _m(t.gain))
    console.print(totals)
    s = rep.section_1256
    console.print(f"wash-sale losses disallowed: {_m(rep.wash_sale_disallowed)}   "
                  f"§1256 net {_m(s.net)} = 40% short {_m(s.short_term_40)} + 60% long {_m(s.long_term_60)}")
    rows = Table(title="Form 8949 rows")
    for col in ("#", "box", "description", "acquired", "sold", "proceeds", "basis", "code", "adj", "gain"):
        rows.add_column(col, no_wrap=True)
    for i, r in enumerate(rep.rows, start=1):
        rows.add_row(str(i), r.box, r.description, r.date_acquired.isoformat(), r.date_sold.isoformat(),
                     _m(r.proceeds), _m(r.cost_basis), r.code, _m(r.adjustment), _m(r.gain))
    console.print(rows)
    for i, r in enumerate(rep.rows, start=1):
        console.print(f"{i:>4}. {r.explanation}", highlight=False)
