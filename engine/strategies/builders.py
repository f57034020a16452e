"""Strategy builders: turn a named strategy plus a choice rule into concrete legs.

Strikes are chosen from a :class:`ChainView` (listed strikes and their call/put deltas at one
instant) by one of three rules, in this order of precedence:

- an explicit ``strike``;
- ``strike_offset`` from spot (``+5`` = the listed strike nearest spot + 5);
- a target ``delta`` (absolute value, 0.10 = "10 delta"), the listed strike whose |delta| is
  nearest; ties go to the further out-of-the-money strike (less risk, the trader's usual choice).

Wings are placed ``width`` points beyond the short strike (the nearest listed strike to
``K ± width``, never the short strike itself). The same builders serve the backtester (a modeled
chain at the entry minute) and the chat (a live :class:`engine.options.chain.Chain`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np

from engine.core.errors import InvalidInput
from engine.strategies.legs import STRATEGIES, Leg, Right, Structure


@dataclass(frozen=True)
class ChainView:
    """Listed strikes (ascending) with call and put deltas (put deltas negative) at one instant."""

    underlying: str
    spot: float
    strikes: np.ndarray
    call_delta: np.ndarray
    put_delta: np.ndarray
    expiry: date | None = None
    far_expiry: date | None = None

    @classmethod
    def from_chain(cls, chain, far_expiry: date | None = None) -> ChainView:
        """Adapter for ``engine.options.chain.Chain`` (its ``calls``/``puts`` delta arrays)."""
        return cls(chain.underlying, float(chain.spot), np.asarray(chain.strikes, dtype=float),
                   np.asarray(chain.calls.delta, dtype=float), np.asarray(chain.puts.delta, dtype=float),
                   chain.expiry, far_expiry)

    def nearest(self, price: float, *, exclude: float | None = None) -> float:
        k = self.strikes
        if exclude is not None:
            k = k[k != exclude]
        if k.size == 0:
            raise InvalidInput("no listed strike to choose from", field="strike")
        return float(k[np.argmin(np.abs(k - price))])

    def by_delta(self, right: Right, target: float) -> float:
        if not 0.0 < target < 1.0:
            raise InvalidInput(f"delta must be between 0 and 1 (e.g. 0.10), got {target}", field="delta")
        d = np.abs(self.call_delta if right == "call" else self.put_delta)
        dist = np.where(np.isfinite(d), np.abs(d - target), np.inf)
        best = np.flatnonzero(dist <= dist.min() + 1e-12)
        if not np.isfinite(dist.min()):
            raise InvalidInput(f"no {right} delta available to pick a strike", field="delta")
        # ties: the further OTM strike (highest call strike, lowest put strike)
        return float(self.strikes[best[-1] if right == "call" else best[0]])

    def atm(self) -> float:
        return self.nearest(self.spot)


@dataclass(frozen=True)
class StrategySpec:
    """What to build. Unused fields are ignored by strategies that do not need them.

    ``delta`` picks the short strikes of credit structures and the long strike of debit ones;
    ``width`` is the wing width (iron condor, iron butterfly, butterfly, vertical);
    ``side`` flips straddle/strangle/butterfly between bought ("long") and sold ("short");
    ``right`` chooses the call or put version of a vertical, butterfly or calendar;
    ``credit`` chooses a credit (sold) or debit (bought) vertical.
    """

    name: str
    delta: float | None = 0.10
    width: float = 5.0
    strike_offset: float | None = None
    strike: float | None = None
    right: Right = "put"
    side: Literal["long", "short"] = "long"
    credit: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise InvalidInput(f"unknown strategy {self.name!r}; one of {', '.join(STRATEGIES)}",
                               field="strategy")
        if not self.width > 0:
            raise InvalidInput(f"wing width must be positive, got {self.width}", field="wing_width")


def _pick(view: ChainView, spec: StrategySpec, right: Right, default_delta: float | None = None) -> float:
    if spec.strike is not None:
        return view.nearest(spec.strike)
    if spec.strike_offset is not None:
        return view.nearest(view.spot + spec.strike_offset)
    delta = spec.delta if spec.delta is not None else default_delta
    if delta is None:
        return view.atm()
    return view.by_delta(right, delta)


def _wing(view: ChainView, strike: float, width: float, direction: int) -> float:
    return view.nearest(strike + direction * width, exclude=strike)


def _single(right: Right, sign: int) -> Callable[[ChainView, StrategySpec], list[Leg]]:
    def build(view: ChainView, spec: StrategySpec) -> list[Leg]:
        return [Leg(right, _pick(view, spec, right), sign, view.expiry)]
    return build


def _vertical(view: ChainView, spec: StrategySpec) -> list[Leg]:
    k = _pick(view, spec, spec.right)
    away = 1 if spec.right == "call" else -1  # further OTM direction
    if spec.credit:  # sell the nearer strike, buy the wing further out
        return [Leg(spec.right, k, -1, view.expiry), Leg(spec.right, _wing(view, k, spec.width, away), 1, view.expiry)]
    return [Leg(spec.right, k, 1, view.expiry), Leg(spec.right, _wing(view, k, spec.width, away), -1, view.expiry)]


def _iron_condor(view: ChainView, spec: StrategySpec) -> list[Leg]:
    kp, kc = _pick(view, spec, "put"), _pick(view, spec, "call")
    if spec.strike_offset is not None:  # symmetric offsets: puts below, calls above
        kp, kc = view.nearest(view.spot - abs(spec.strike_offset)), view.nearest(view.spot + abs(spec.strike_offset))
    if kp >= kc:
        raise InvalidInput(f"iron condor short put {kp} must be below short call {kc}; lower the delta",
                           field="short_delta")
    e = view.expiry
    return [Leg("put", _wing(view, kp, spec.width, -1), 1, e), Leg("put", kp, -1, e),
            Leg("call", kc, -1, e), Leg("call", _wing(view, kc, spec.width, 1), 1, e)]


def _body(view: ChainView, spec: StrategySpec) -> float:
    if spec.strike is not None or spec.strike_offset is not None:
        return _pick(view, spec, "call")
    return view.atm()


def _iron_butterfly(view: ChainView, spec: StrategySpec) -> list[Leg]:
    k, e = _body(view, spec), view.expiry
    return [Leg("put", _wing(view, k, spec.width, -1), 1, e), Leg("put", k, -1, e),
            Leg("call", k, -1, e), Leg("call", _wing(view, k, spec.width, 1), 1, e)]


def _butterfly(view: ChainView, spec: StrategySpec) -> list[Leg]:
    k, e, s = _body(view, spec), view.expiry, (1 if spec.side == "long" else -1)
    return [Leg(spec.right, _wing(view, k, spec.width, -1), s, e), Leg(spec.right, k, -2 * s, e),
            Leg(spec.right, _wing(view, k, spec.width, 1), s, e)]


def _straddle(view: ChainView, spec: StrategySpec) -> list[Leg]:
    k, s = _body(view, spec), (1 if spec.side == "long" else -1)
    return [Leg("put", k, s, view.expiry), Leg("call", k, s, view.expiry)]


def _strangle(view: ChainView, spec: StrategySpec) -> list[Leg]:
    s = 1 if spec.side == "long" else -1
    kp, kc = _pick(view, spec, "put", 0.20), _pick(view, spec, "call", 0.20)
    if spec.strike_offset is not None:
        kp, kc = view.nearest(view.spot - abs(spec.strike_offset)), view.nearest(view.spot + abs(spec.strike_offset))
    if kp >= kc:
        raise InvalidInput(f"strangle put strike {kp} must be below call strike {kc}", field="delta")
    return [Leg("put", kp, s, view.expiry), Leg("call", kc, s, view.expiry)]


def _calendar(view: ChainView, spec: StrategySpec) -> list[Leg]:
    if view.far_expiry is None or (view.expiry is not None and view.far_expiry <= view.expiry):
        raise InvalidInput("a calendar needs a far expiry after the near one", field="far_expiry")
    k = _body(view, spec) if spec.delta is None else _pick(view, spec, spec.right)
    return [Leg(spec.right, k, -1, view.expiry), Leg(spec.right, k, 1, view.far_expiry)]


BUILDERS: dict[str, Callable[[ChainView, StrategySpec], list[Leg]]] = {
    "long_call": _single("call", 1), "short_call": _single("call", -1),
    "long_put": _single("put", 1), "short_put": _single("put", -1),
    "vertical": _vertical, "iron_condor": _iron_condor, "iron_butterfly": _iron_butterfly,
    "butterfly": _butterfly, "straddle": _straddle, "strangle": _strangle, "calendar": _calendar,
}


def build(spec: StrategySpec, view: ChainView) -> Structure:
    """The concrete :class:`Structure` of ``spec`` on the strikes of ``view``."""
    legs = BUILDERS[spec.name](view, spec)
    return Structure(spec.name, view.underlying, tuple(legs), view.expiry,
                     meta={"spot": view.spot, "width": spec.width, "delta": spec.delta})
