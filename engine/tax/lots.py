"""Tax lots: the pieces of every opening trade, and the records a closing trade produces.

An opening trade (a purchase, or a sale that opens a short) creates one :class:`Origin`. An origin
is split into :class:`Piece` s whenever part of it is sold or used as a wash-sale replacement, so
each piece has ONE basis, ONE wash-sale adjustment and ONE holding-period start:

* wash-sale replacement shares carry the disallowed loss in their basis and the sold shares'
  holding period (IRC §1091(d), §1223(3); Treas. Reg. §1.1091-2), and each replacement share is
  used once (Treas. Reg. §1.1091-1(e)); pieces used as replacements always form a prefix of the
  origin's open pieces (tagging takes the first untagged piece, closing takes the first piece).

Quantities are integer *units*: shares, or contracts × multiplier (one SPY contract = 100 units),
so stock and options on the same underlying can be matched share for share under the
``underlying`` preset. Money is Decimal cents; amounts are split pro rata with the remainder left
on the last piece, so totals never drift by a cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from engine.core.money import CENT, ZERO
from engine.tax.securities import Security


def share(amount: Decimal, part: int, whole: int) -> Decimal:
    """``amount × part / whole`` in cents (half-even); ``whole`` ≥ ``part`` > 0."""
    if part == whole:
        return amount
    return (amount * part / whole).quantize(CENT)


@dataclass(slots=True)
class WashLink:
    """One loss disallowed (wholly or partly) by one replacement.

    ``units`` replacement units (shares or contracts × 100), ``amount`` the loss moved into the
    replacement's basis — or, for a replacement in an IRA, lost for good (Rev. Rul. 2008-5).
    """

    loss_symbol: str
    loss_account: str
    loss_date: date
    repl_symbol: str
    repl_account: str
    repl_date: date
    repl_multiplier: int
    units: int
    amount: Decimal
    ira: bool = False
    short: bool = False  # a short sale replacing a short closed at a loss (Reg. §1.1091-1(g))
    repl_seq: int = -1   # the op that opened the replacement lot


class Piece:
    """Part of an origin with uniform terms. ``amount`` is the basis of a long piece or the net
    proceeds of a short piece; ``adj`` is wash-sale loss carried in (added to basis, or to the
    cost of closing a short); ``hold_start`` the (possibly tacked) holding-period start."""

    __slots__ = ("units", "amount", "adj", "hold_start", "links")

    def __init__(self, units: int, amount: Decimal = ZERO, adj: Decimal = ZERO,
                 hold_start: date | None = None, links: list[WashLink] | None = None) -> None:
        self.units = units
        self.amount = amount
        self.adj = adj
        self.hold_start = hold_start
        self.links = links

    def split(self, units: int) -> Piece:
        """Detach the first ``units`` into a new piece (this one keeps the rest)."""
        amt, adj = share(self.amount, units, self.units), share(self.adj, units, self.units)
        first = Piece(units, amt, adj, self.hold_start, list(self.links) if self.links else None)
        self.units -= units
        self.amount -= amt
        self.adj -= adj
        return first


class Origin:
    """All units one trade opened, in one account, one security, one direction (+1 long, -1 short).

    Created before the chronological walk (so a loss can be matched with a purchase made up to
    30 days later) and *opened* when the walk reaches its trade. ``available`` = open units not yet
    used as a replacement.
    """

    __slots__ = ("seq", "ts", "day", "account", "sec", "direction", "units", "pieces", "head",
                 "tag_idx", "open_units", "tagged_open", "opened", "ira", "ref", "group", "note")

    def __init__(self, seq: int, ts: datetime, account: str, sec: Security, direction: int, units: int,
                 ira: bool, ref: str = "") -> None:
        self.seq = seq
        self.ts = ts
        self.day = ts.date()
        self.account = account
        self.sec = sec
        self.direction = direction
        self.units = units
        self.pieces: list[Piece] = [Piece(units)]
        self.head = 0          # first open piece
        self.tag_idx = 0       # first open piece not used as a replacement
        self.open_units = units
        self.tagged_open = 0
        self.opened = False
        self.ira = ira
        self.ref = ref
        self.group: object = None  # wash-sale group key, set by the planner
        self.note = ""             # e.g. the assignment premium in this lot's basis

    @property
    def available(self) -> int:
        return self.open_units - self.tagged_open

    def open(self, amount: Decimal) -> None:
        """The trade happened: spread its total basis (or net proceeds) over the pieces."""
        rest, left = amount, self.units
        for p in self.pieces:
            part = share(rest, p.units, left)
            p.amount += part
            rest -= part
            left -= p.units
            if p.hold_start is None:
                p.hold_start = self.day
        self.opened = True

    def tag(self, units: int) -> list[Piece]:
        """Mark ``units`` (≤ :attr:`available`) as replacement shares; returns those pieces."""
        out: list[Piece] = []
        while units > 0:
            p = self.pieces[self.tag_idx]
            if p.units > units:
                p = p.split(units)
                self.pieces.insert(self.tag_idx, p)
            out.append(p)
            units -= p.units
            self.tagged_open += p.units
            self.tag_idx += 1
        return out

    def close(self, units: int) -> list[Piece]:
        """Remove ``units`` (≤ :attr:`open_units`) from the front; returns the closed pieces."""
        out: list[Piece] = []
        self.open_units -= units
        while units > 0:
            p = self.pieces[self.head]
            if p.units > units:
                p = p.split(units)
                self.pieces.insert(self.head, p)
                if self.tag_idx > self.head:
                    self.tag_idx += 1
            out.append(p)
            units -= p.units
            if self.head < self.tag_idx:
                self.tagged_open -= p.units
            self.head += 1
        if self.tag_idx < self.head:
            self.tag_idx = self.head
        return out

    def unit_cost(self) -> Decimal:
        p = self.pieces[self.head]
        return (p.amount + p.adj) / p.units


@dataclass(slots=True)
class Disposition:
    """One closed piece: a Form 8949 row (or a Form 6781 entry for a §1256 contract).

    ``direction`` +1 = a long position sold, -1 = a short position bought back (or expired);
    ``cost`` includes earlier wash-sale adjustments (they are basis); ``disallowed`` is this
    sale's own code-W adjustment (column (g)). ``kind``: ``sale``, ``expire`` or ``mtm``
    (§1256 year-end mark).
    """

    seq: int
    account: str
    sec: Security
    direction: int
    units: int
    date_acquired: date
    date_sold: date
    proceeds: Decimal
    cost: Decimal
    kind: str = "sale"
    opened_on: date | None = None
    origin: Origin | None = None
    disallowed: Decimal = ZERO
    washes: list[WashLink] | None = None  # None until a replacement is found (saves 1 list a row)
    carried: list[WashLink] | None = None
    carried_adj: Decimal = ZERO
    note: str = ""
    ira: bool = False

    @property
    def loss(self) -> Decimal:
        return self.cost - self.proceeds

    @property
    def gain(self) -> Decimal:
        """Column (h) = (d) − (e) + (g)."""
        return self.proceeds - self.cost + self.disallowed

    @property
    def quantity(self) -> Decimal:
        m = self.sec.multiplier
        return Decimal(self.units // m) if self.units % m == 0 else Decimal(self.units) / m
