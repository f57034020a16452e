"""Option structures as plain data: a :class:`Structure` is a named list of :class:`Leg` s.

A leg's ``qty`` is signed per ONE unit of the structure (+1 long, -1 short, -2 the short body of a
butterfly); the position size multiplies every leg. Strikes are floats (they feed numpy); cash is
converted to Decimal where it changes hands (fills, P&L records). ``expiry`` is the leg's
expiration date; the structure's front expiry is the earliest one (0DTE: today).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np

from engine.core.errors import InvalidInput
from engine.core.money import MULTIPLIER

Right = Literal["call", "put"]
__all__ = ["MULTIPLIER", "STRATEGIES", "Leg", "Right", "Structure"]

STRATEGIES = (
    "long_call", "short_call", "long_put", "short_put", "vertical", "iron_condor",
    "iron_butterfly", "butterfly", "straddle", "strangle", "calendar",
)


@dataclass(frozen=True, slots=True)
class Leg:
    """One option leg: ``qty`` > 0 long, < 0 short, per unit of the structure."""

    right: Right
    strike: float
    qty: int
    expiry: date | None = None

    def __post_init__(self) -> None:
        if self.right not in ("call", "put"):
            raise InvalidInput(f"leg right must be 'call' or 'put', got {self.right!r}", field="right")
        if not self.strike > 0:
            raise InvalidInput(f"leg strike must be positive, got {self.strike}", field="strike")
        if self.qty == 0:
            raise InvalidInput("leg quantity must not be zero", field="qty")

    @property
    def is_call(self) -> bool:
        return self.right == "call"

    @property
    def side(self) -> str:
        return "buy" if self.qty > 0 else "sell"


@dataclass(frozen=True, slots=True)
class Structure:
    """A named multi-leg position of one underlying (per one unit; ``quantity`` scales it)."""

    name: str
    underlying: str
    legs: tuple[Leg, ...]
    expiry: date | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.legs:
            raise InvalidInput(f"structure {self.name!r} has no legs", field="legs")

    # Column views used by the vectorized pricers: one entry per leg.
    @property
    def strikes(self) -> np.ndarray:
        return np.array([leg.strike for leg in self.legs], dtype=float)

    @property
    def is_call(self) -> np.ndarray:
        return np.array([leg.is_call for leg in self.legs], dtype=bool)

    @property
    def qty(self) -> np.ndarray:
        return np.array([leg.qty for leg in self.legs], dtype=float)

    @property
    def front_expiry(self) -> date | None:
        days = [leg.expiry for leg in self.legs if leg.expiry is not None]
        return min(days) if days else self.expiry

    @property
    def is_calendar(self) -> bool:
        return len({leg.expiry for leg in self.legs}) > 1

    def net_premium(self, prices: np.ndarray) -> float:
        """Per-share cash paid (> 0 debit) or received (< 0 credit) at leg ``prices``."""
        return float(np.dot(self.qty, np.asarray(prices, dtype=float)))

    def describe(self) -> list[dict]:
        return [{"right": leg.right, "strike": leg.strike, "qty": leg.qty, "side": leg.side,
                 "expiry": leg.expiry} for leg in self.legs]
