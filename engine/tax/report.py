"""One tax year on paper: Form 8949 rows, Form 6781 Part I, Schedule D totals.

Form 8949 (Instructions for Form 8949):

* one row per lot sold; column (a) description, (b) date acquired, (c) date sold, (d) proceeds,
  (e) cost or other basis, (f) code, (g) adjustment, (h) gain or loss = (d) − (e) + (g);
* code ``W`` with the nondeductible wash-sale loss as a positive amount in (g);
* box A/D (short/long-term, basis reported to the IRS on Form 1099-B) by default: the files this
  tool reads carry no 1099-B box, and options and ETF shares bought since 2014 are "covered
  securities" whose basis brokers must report (IRC §6045(g); Treas. Reg. §1.6045-1(a)(15)). With
  ``basis_reported_to_irs=False`` rows go to box B/E. Box C/F (no 1099-B at all) is never assumed;
* date acquired of a wash-sale replacement is the tacked holding-period start (§1223(3)), so
  column (b) agrees with the short/long-term part the row is in; a short closed (bought back or
  expired) shows the closing date in (b) and (c) (instructions, "Short sales").

Section 1256 contracts are not on Form 8949: Form 6781 Part I line 1 lists each (loss in (b),
gain in (c)); line 7 net is split 40% short-term (line 8 → Schedule D line 4) and 60% long-term
(line 9 → Schedule D line 11) (IRC §1256(a)(3)). Rows of IRA accounts are never reported.

Schedule D: all Form 8949 rows go through lines 1b/2 (short) and 8b/9 (long); lines 1a/8a (the
optional direct entry) stay empty because every row is on Form 8949.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from engine.core.money import ZERO, cents
from engine.tax.explain import explain
from engine.tax.lots import Disposition
from engine.tax.matching import gc_paused, is_long_term


@dataclass(slots=True)
class Totals:
    proceeds: Decimal = ZERO
    cost_basis: Decimal = ZERO
    adjustments: Decimal = ZERO
    gain: Decimal = ZERO

    def add(self, proceeds: Decimal, cost: Decimal, adjustment: Decimal) -> None:
        self.proceeds += proceeds
        self.cost_basis += cost
        self.adjustments += adjustment
        self.gain += proceeds - cost + adjustment

    def to_dict(self) -> dict[str, Decimal]:
        return {"proceeds": self.proceeds, "cost_basis": self.cost_basis,
                "adjustments": self.adjustments, "gain": self.gain}


@dataclass(slots=True)
class Form8949Row:
    description: str
    symbol: str
    quantity: Decimal
    date_acquired: date
    date_sold: date
    proceeds: Decimal
    cost_basis: Decimal
    code: str
    adjustment: Decimal
    gain: Decimal
    term: str
    box: str
    account: str
    source: Disposition

    @property
    def explanation(self) -> str:
        """Plain-English reason for the numbers (computed on demand: reports of 100k rows stay fast)."""
        return explain(self.source)

    def to_dict(self) -> dict[str, object]:
        """The contract's row fields (JSON numbers in dollars, dates ISO)."""
        q = self.quantity
        return {"description": self.description, "symbol": self.symbol,
                "quantity": int(q) if q == q.to_integral_value() else q,
                "date_acquired": self.date_acquired.isoformat(), "date_sold": self.date_sold.isoformat(),
                "proceeds": self.proceeds, "cost_basis": self.cost_basis, "code": self.code,
                "adjustment": self.adjustment, "gain": self.gain, "term": self.term, "box": self.box}


@dataclass(slots=True)
class Form6781Entry:
    """Form 6781 Part I line 1: (a) identification, (b) loss, (c) gain."""

    account: str
    description: str
    symbol: str
    date_acquired: date
    date_sold: date
    gain: Decimal
    source: Disposition

    @property
    def explanation(self) -> str:
        return explain(self.source)

    @property
    def loss_column(self) -> Decimal:
        return -self.gain if self.gain < 0 else ZERO

    @property
    def gain_column(self) -> Decimal:
        return self.gain if self.gain > 0 else ZERO


@dataclass(slots=True)
class Section1256:
    entries: list[Form6781Entry] = field(default_factory=list)
    net: Decimal = ZERO

    @property
    def short_term_40(self) -> Decimal:
        """Line 8: 40% of line 7."""
        return cents(self.net * Decimal("0.4"))

    @property
    def long_term_60(self) -> Decimal:
        """Line 9: 60% of line 7 (the rest, so lines 8 + 9 = line 7 to the cent)."""
        return self.net - self.short_term_40

    def lines(self) -> list[tuple[str, str, Decimal, Decimal]]:
        """Part I summary lines 2-9 as (line, text, column (b) loss, column (c) gain/amount)."""
        loss = sum((e.loss_column for e in self.entries), ZERO)
        gain = sum((e.gain_column for e in self.entries), ZERO)
        return [("2", "Add the amounts on line 1 in columns (b) and (c)", loss, gain),
                ("3", "Net gain or (loss): combine line 2 columns (b) and (c)", ZERO, self.net),
                ("4", "Form 1099-B adjustments", ZERO, ZERO),
                ("5", "Combine lines 3 and 4", ZERO, self.net),
                ("6", "Net section 1256 loss carryback (not elected)", ZERO, ZERO),
                ("7", "Combine lines 5 and 6", ZERO, self.net),
                ("8", "Short-term: 40% of line 7 (Schedule D line 4)", ZERO, self.short_term_40),
                ("9", "Long-term: 60% of line 7 (Schedule D line 11)", ZERO, self.long_term_60)]


class TaxReport:
    """A tax year. :meth:`to_dict` is exactly the ``smart0dte tax report --json`` contract.

    Deliberately not a dataclass: generic serializers then use :meth:`to_dict` (the contract)
    instead of the raw fields.
    """

    __slots__ = ("year", "wash_sale_matching", "short_term", "long_term", "wash_sale_disallowed",
                 "section_1256", "rows")

    def __init__(self, year: int, wash_sale_matching: str, short_term: Totals, long_term: Totals,
                 wash_sale_disallowed: Decimal, section_1256: Section1256, rows: list[Form8949Row]) -> None:
        self.year = year
        self.wash_sale_matching = wash_sale_matching
        self.short_term = short_term
        self.long_term = long_term
        self.wash_sale_disallowed = wash_sale_disallowed
        self.section_1256 = section_1256
        self.rows = rows

    def to_dict(self) -> dict[str, object]:
        s = self.section_1256
        return {"year": self.year, "wash_sale_matching": self.wash_sale_matching,
                "short_term": self.short_term.to_dict(), "long_term": self.long_term.to_dict(),
                "wash_sale_disallowed": self.wash_sale_disallowed,
                "section_1256": {"net": s.net, "short_term_40": s.short_term_40,
                                 "long_term_60": s.long_term_60},
                "rows": [r.to_dict() for r in self.rows]}

    def schedule_d(self) -> list[tuple[str, str, Totals]]:
        """Schedule D lines as (line, text, totals)."""
        by_box: dict[str, Totals] = {b: Totals() for b in "ABCDEF"}
        for r in self.rows:
            by_box[r.box].add(r.proceeds, r.cost_basis, r.adjustment)
        s = self.section_1256
        st_6781, lt_6781 = Totals(gain=s.short_term_40), Totals(gain=s.long_term_60)
        short = _combine(by_box["A"], by_box["B"], by_box["C"], st_6781)
        long_ = _combine(by_box["D"], by_box["E"], by_box["F"], lt_6781)
        combined = _combine(short, long_)
        return [("1a", "Short-term totals reported on 1099-B, no adjustments (not used)", Totals()),
                ("1b", "Short-term, Form 8949 box A", by_box["A"]),
                ("2", "Short-term, Form 8949 box B", by_box["B"]),
                ("3", "Short-term, Form 8949 box C", by_box["C"]),
                ("4", "Short-term gain or (loss) from Form 6781 line 8", st_6781),
                ("7", "Net short-term capital gain or (loss)", short),
                ("8a", "Long-term totals reported on 1099-B, no adjustments (not used)", Totals()),
                ("8b", "Long-term, Form 8949 box D", by_box["D"]),
                ("9", "Long-term, Form 8949 box E", by_box["E"]),
                ("10", "Long-term, Form 8949 box F", by_box["F"]),
                ("11", "Long-term gain or (loss) from Form 6781 line 9", lt_6781),
                ("15", "Net long-term capital gain or (loss)", long_),
                ("16", "Combine lines 7 and 15", combined)]

    def explanations(self) -> list[dict[str, object]]:
        return ([{"symbol": r.symbol, "date_sold": r.date_sold.isoformat(), "account": r.account,
                  "explanation": r.explanation} for r in self.rows]
                + [{"symbol": e.symbol, "date_sold": e.date_sold.isoformat(), "account": e.account,
                    "explanation": e.explanation} for e in self.section_1256.entries])


def _combine(*parts: Totals) -> Totals:
    return Totals(sum((t.proceeds for t in parts), ZERO), sum((t.cost_basis for t in parts), ZERO),
                  sum((t.adjustments for t in parts), ZERO), sum((t.gain for t in parts), ZERO))


def build_report(dispositions: Iterable[Disposition], year: int, matching: str,
                 basis_reported: bool = True) -> TaxReport:
    """The year's report from every disposition of a walk (other years and IRA rows skipped)."""
    with gc_paused():
        return _build(dispositions, year, matching, basis_reported)


def _build(dispositions: Iterable[Disposition], year: int, matching: str, basis_reported: bool) -> TaxReport:
    short, long_ = Totals(), Totals()
    rows: list[Form8949Row] = []
    s1256 = Section1256()
    disallowed = ZERO
    boxes = ("A", "D") if basis_reported else ("B", "E")
    for d in dispositions:
        if d.date_sold.year != year or d.ira:
            continue
        if d.sec.section_1256:
            g = d.proceeds - d.cost
            s1256.entries.append(Form6781Entry(d.account, d.sec.describe(d.quantity), d.sec.symbol,
                                               d.date_acquired, d.date_sold, g, d))
            s1256.net += g
            continue
        longterm = d.direction > 0 and is_long_term(d.date_acquired, d.date_sold)
        code = "W" if d.disallowed else ""
        desc = d.sec.describe(d.quantity) + (" (short)" if d.direction < 0 else "") + (
            " (expired)" if d.kind == "expire" else "")
        row = Form8949Row(desc, d.sec.symbol, d.quantity, d.date_acquired, d.date_sold, d.proceeds, d.cost,
                          code, d.disallowed, d.gain, "long" if longterm else "short",
                          boxes[1] if longterm else boxes[0], d.account, d)
        (long_ if longterm else short).add(d.proceeds, d.cost, d.disallowed)
        disallowed += d.disallowed
        rows.append(row)
    rows.sort(key=lambda r: (r.term != "short", r.date_sold, r.symbol))
    return TaxReport(year, matching, short, long_, disallowed, s1256, rows)
