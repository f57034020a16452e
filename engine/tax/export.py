"""CSV exports of Form 8949, Form 6781 Part I and Schedule D (one header row, one row per line).

Amounts are plain decimal dollars with two places (``-312.40``), dates ISO ``YYYY-MM-DD``, so a
spreadsheet reads them as numbers and dates. Columns follow the forms' own letters:

* ``8949``: part, box, (a) description, (b) date_acquired, (c) date_sold, (d) proceeds,
  (e) cost_basis, (f) code, (g) adjustment, (h) gain, then term, symbol, quantity, account and the
  plain-English explanation;
* ``6781``: line, account, description, date_acquired, date_sold, (b) loss, (c) gain — line 1 rows,
  then summary lines 2-9;
* ``schedule-d``: line, description, proceeds, cost_basis, adjustments, gain.
"""

from __future__ import annotations

from decimal import Decimal

from engine.core.money import cents
from engine.tax.report import TaxReport

HEADERS = {
    "8949": ["part", "box", "description", "date_acquired", "date_sold", "proceeds", "cost_basis", "code",
             "adjustment", "gain", "term", "symbol", "quantity", "account", "explanation"],
    "6781": ["line", "account", "description", "date_acquired", "date_sold", "loss", "gain", "explanation"],
    "schedule-d": ["line", "description", "proceeds", "cost_basis", "adjustments", "gain"],
}


def money(x: Decimal) -> str:
    return f"{cents(x):.2f}"


def write_form(report: TaxReport, form: str, writer) -> int:
    """Write ``form`` through a ``csv.writer``; returns the number of data rows."""
    writer.writerow(HEADERS[form])
    rows = list(_rows(report, form))
    writer.writerows(rows)
    return len(rows)


def _rows(report: TaxReport, form: str):
    if form == "8949":
        for r in report.rows:
            q = r.quantity
            yield ["I" if r.term == "short" else "II", r.box, r.description, r.date_acquired.isoformat(),
                   r.date_sold.isoformat(), money(r.proceeds), money(r.cost_basis), r.code, money(r.adjustment),
                   money(r.gain), r.term, r.symbol, str(int(q) if q == q.to_integral_value() else q), r.account,
                   r.explanation]
    elif form == "6781":
        s = report.section_1256
        for e in s.entries:
            yield ["1", e.account, e.description, e.date_acquired.isoformat(), e.date_sold.isoformat(),
                   money(e.loss_column), money(e.gain_column), e.explanation]
        for line, text, loss, gain in s.lines():
            yield [line, "", text, "", "", money(loss), money(gain), ""]
    else:
        for line, text, t in report.schedule_d():
            yield [line, text, money(t.proceeds), money(t.cost_basis), money(t.adjustments), money(t.gain)]
