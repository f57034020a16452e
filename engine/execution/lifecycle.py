"""The order state machine: which status may follow which, and the fill-quantity invariants.

::

    INITIALIZED ─► SUBMITTED ─► ACCEPTED ─► PARTIALLY_FILLED ─► FILLED
         │              │           │  ▲           │
         │              │           ▼  │           ▼
         │              │      PENDING_CANCEL ─► CANCELED      (also EXPIRED at the close)
         │              │      PENDING_REPLACE ─► ACCEPTED/…
         └─► REJECTED ◄─┘

INITIALIZED is the intent written before anything is sent; SUBMITTED means sent but not yet
acknowledged (a crash here is resolved by reconciliation against the broker). A broker may skip
states (an order that fills at once goes SUBMITTED → FILLED). Terminal states never change.
Every move is checked here; the OMS persists and audits each one.
"""

from __future__ import annotations

from engine.core.errors import IllegalTransition
from engine.execution.broker import OrderStatus as S

_LIVE = (S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED)

ALLOWED: dict[S, frozenset[S]] = {
    S.INITIALIZED: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.PENDING_CANCEL, *_LIVE}),
    S.ACCEPTED: frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, *_LIVE}),
    S.PARTIALLY_FILLED: frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, *_LIVE}),
    S.PENDING_CANCEL: frozenset({S.ACCEPTED, *_LIVE}),           # ACCEPTED: the cancel was refused
    S.PENDING_REPLACE: frozenset({S.ACCEPTED, S.PENDING_CANCEL, *_LIVE}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


def can_transition(current: S, new: S) -> bool:
    return new in ALLOWED[current]


def transition(current: S | str, new: S | str) -> S:
    """``new`` if the move is legal, else :class:`IllegalTransition` naming both states."""
    cur, nxt = S(current), S(new)
    if nxt not in ALLOWED[cur]:
        raise IllegalTransition(f"order cannot go from {cur.value} to {nxt.value}")
    return nxt


def status_after_fill(quantity: int, filled: int) -> S:
    """The status an order has once ``filled`` of ``quantity`` units are done."""
    if filled < 0 or filled > quantity:
        raise IllegalTransition(f"filled quantity {filled} outside 0..{quantity}")
    if filled == quantity:
        return S.FILLED
    return S.PARTIALLY_FILLED if filled > 0 else S.ACCEPTED


class OrderState:
    """A tiny in-memory order used by the OMS and the property tests.

    ``move(new)`` applies one legal transition; ``fill(n)`` adds ``n`` filled units and moves to
    PARTIALLY_FILLED/FILLED. The invariants hold after every call: ``0 <= filled <= quantity``,
    ``status is FILLED`` iff ``filled == quantity``, terminal states never change.
    """

    __slots__ = ("quantity", "filled", "status", "history")

    def __init__(self, quantity: int, status: S = S.INITIALIZED, filled: int = 0) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be > 0")
        self.quantity, self.filled, self.status = quantity, filled, S(status)
        self.history: list[S] = [self.status]

    def move(self, new: S | str) -> S:
        nxt = transition(self.status, new)
        if nxt is S.FILLED and self.filled != self.quantity:
            raise IllegalTransition(f"cannot be filled with {self.filled} of {self.quantity} done")
        if nxt is S.PARTIALLY_FILLED and not 0 < self.filled < self.quantity:
            raise IllegalTransition(f"not partially filled with {self.filled} of {self.quantity} done")
        self.status = nxt
        self.history.append(nxt)
        return nxt

    def fill(self, n: int) -> S:
        if n <= 0:
            raise IllegalTransition(f"a fill needs a positive quantity, not {n}")
        if self.status.is_terminal:
            raise IllegalTransition(f"order is {self.status.value}: no more fills")
        if self.filled + n > self.quantity:
            raise IllegalTransition(f"fill of {n} overfills: {self.filled} of {self.quantity} done")
        target = status_after_fill(self.quantity, self.filled + n)
        same_partial = target is S.PARTIALLY_FILLED and self.status is S.PARTIALLY_FILLED
        if not same_partial:
            transition(self.status, target)  # check first: a refused fill changes nothing
        self.filled += n
        if same_partial:
            self.history.append(target)  # another partial: same state, recorded
            return target
        return self.move(target)
