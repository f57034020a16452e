"""Finding wash-sale replacements (IRC §1091(a); Treas. Reg. §1.1091-1).

A loss on the sale of stock or securities is disallowed when, within 30 days before or after the
sale date (a 61-day window), the taxpayer acquired substantially identical stock or securities —
including options, which are securities for §1091 (Pub 550, "Wash Sales"). Matching rules used:

* candidates are opening lots of the same *group*: same direction (a purchase replaces a long
  sold at a loss; a new short sale replaces a short closed at a loss, Treas. Reg. §1.1091-1(g)),
  same security (preset ``identical``: same ticker, or same option root/expiry/strike/right) or same
  underlying (preset ``underlying``: any option on it and the stock itself), in any account of
  the taxpayer including IRAs (Rev. Rul. 2008-5);
* acquired on a calendar day within [sale date − 30, sale date + 30];
* not part of the lot being sold (shares of one purchase do not replace each other), and, when
  bought before the sale, still held at the sale: 1099-B practice, and it keeps a day trader's
  earlier round trips from washing each other in a circle;
* replacements are taken in the order acquired and each replacement share is used once
  (Treas. Reg. §1.1091-1(e)); if fewer shares are acquired than sold, only that proportion of the
  loss is disallowed (§1.1091-1(c)).

Units are shares: one option contract counts as its multiplier (100) shares, so under the
``underlying`` preset a 50-share stock loss replaced by one call uses half of that contract (the
call's later sale then shows as two rows of 0.5 contract, one carrying the adjustment).

Two finders implement the same contract: :class:`IndexedFinder` (bisect into the window plus a
union-find skip over lots that can never replace again: a lot's availability only ever falls, so
"exhausted" is permanent) and :class:`ScanFinder`, the straightforward reference that scans every
lot of the group on every loss. The tests run both and compare.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterator
from datetime import date

from engine.tax.lots import Origin

WINDOW_DAYS = 30


class IndexedFinder:
    """Per group: lots in acquisition order, their day ordinals, and a next-alive pointer array."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[Hashable, tuple[list[Origin], list[int], list[int]]] = {}

    def add(self, key: Hashable, origin: Origin) -> None:
        """Register an opening lot; lots must be added in acquisition order."""
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = ([], [], [0])
        g[0].append(origin)
        g[1].append(origin.day.toordinal())
        g[2].append(len(g[0]))  # the pointer array has one sentinel more than lots

    def candidates(self, key: Hashable, day: date, exclude: Origin | None) -> Iterator[Origin]:
        """Lots with available units acquired within 30 days of ``day``, oldest first."""
        g = self._groups.get(key)
        if g is None:
            return
        origins, days, nxt = g
        d = day.toordinal()
        hi = bisect_right(days, d + WINDOW_DAYS)
        i = _find(nxt, bisect_left(days, d - WINDOW_DAYS))
        while i < hi:
            o = origins[i]
            if o.open_units <= o.tagged_open:
                nxt[i] = i + 1  # exhausted for good: skip it from now on
            elif o is not exclude:
                yield o
            i = _find(nxt, i + 1)


def _find(nxt: list[int], i: int) -> int:
    root = i
    while nxt[root] != root:
        root = nxt[root]
    while nxt[i] != root:  # path compression
        nxt[i], i = root, nxt[i]
    return root


class ScanFinder:
    """Reference: every lot of the group, checked one by one (quadratic, obviously right)."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[Hashable, list[Origin]] = {}

    def add(self, key: Hashable, origin: Origin) -> None:
        self._groups.setdefault(key, []).append(origin)

    def candidates(self, key: Hashable, day: date, exclude: Origin | None) -> Iterator[Origin]:
        for o in self._groups.get(key, []):
            if abs((o.day - day).days) <= WINDOW_DAYS and o.available > 0 and o is not exclude:
                yield o


FINDERS = {"fast": IndexedFinder, "reference": ScanFinder}
