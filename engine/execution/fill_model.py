"""The fill model shared by the paper broker and the backtester.

Everything is in the combo's signed net-price convention of :mod:`engine.execution.broker`
(per share, positive = debit we pay, negative = credit we receive), so "worse for us" is always
"higher". For a list of legs with their quotes:

* the **natural** price takes every leg's far side (buy legs at the ask, sell legs at the bid);
* the **displayed units** are how many combo units the far sides show
  (``min(far_size // ratio)``; a quote that shows no size counts ``min_displayed_size``);
* a **market** order fills at the natural price up to the displayed units; every further block
  of displayed size walks the book by ``impact_ticks`` ticks per leg (impact);
* a **limit** order arriving marketable fills like a market order but only through the levels
  priced at or inside its limit (price improvement to the natural). A **resting** limit fills
  when the natural price reaches ``limit - limit_through_ticks`` and then at its own limit price
  (as an exchange fills a resting order), at most the displayed units when ``partial_fills``;
* **stop** orders trigger when the natural price reaches the stop (``natural >= stop`` in the
  signed convention — a rising debit, or a falling credit/bid) and then act as market
  (stop) or limit (stop-limit) orders;
* a multi-leg order fills all legs together at one net price when the legs' far sides allow it;
  leg prices are the far sides, moved so that they add up to the net price.

``latency()`` draws the acknowledgement/fill delay (seconds) from the configured distribution.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.core.marketdata import Quote
from engine.core.money import ZERO, D
from engine.execution.broker import OrderType, Side
from engine.execution.config import FillConfig

_Q4 = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class LegBook:
    """Top of book of one leg as the fill model sees it."""

    side: Side
    ratio: int
    bid: Decimal
    ask: Decimal
    bid_size: int = 0
    ask_size: int = 0
    multiplier: int = 100   # 1 for a stock leg: its price counts ratio/100 in the net price

    @classmethod
    def from_quote(cls, side: Side, ratio: int, quote: Quote, multiplier: int = 100) -> LegBook:
        return cls(side, ratio, D(round(quote.bid, 4)), D(round(quote.ask, 4)),
                   int(quote.bid_size or 0), int(quote.ask_size or 0), multiplier)

    @property
    def weight(self) -> Decimal:
        """Shares of this leg per combo unit, over 100 (options: the ratio)."""
        return Decimal(self.ratio) if self.multiplier == 100 else Decimal(self.ratio * self.multiplier) / 100

    @property
    def far(self) -> Decimal:
        return self.ask if self.side is Side.BUY else self.bid

    @property
    def far_size(self) -> int:
        return self.ask_size if self.side is Side.BUY else self.bid_size

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2 if self.bid > 0 else self.ask / 2

    @property
    def fillable(self) -> bool:
        """A leg we sell needs a bid; a leg we buy needs an offer."""
        return self.far > 0


@dataclass(frozen=True, slots=True)
class FillResult:
    """One execution: ``quantity`` units at ``net_price``; ``leg_prices`` per leg, per share."""

    quantity: int
    net_price: Decimal
    leg_prices: tuple[Decimal, ...]
    liquidity: str = "remove"


def net_of(legs: Sequence[LegBook], prices: Sequence[Decimal]) -> Decimal:
    """Signed net price per share of the combo (stock legs weighted by shares / 100)."""
    return sum((leg.side.sign * leg.weight * p for leg, p in zip(legs, prices, strict=True)), ZERO)


def natural_price(legs: Sequence[LegBook]) -> Decimal:
    """Net price taking every far side (what a market order pays before impact)."""
    return net_of(legs, [leg.far for leg in legs])


def mid_price(legs: Sequence[LegBook]) -> Decimal:
    return net_of(legs, [leg.mid for leg in legs])


def opposite_price(legs: Sequence[LegBook]) -> Decimal:
    """Net price at every near side (the other side of the market: what closing would fetch)."""
    return net_of(legs, [leg.bid if leg.side is Side.BUY else leg.ask for leg in legs])


class FillModel:
    """Decides whether, how much and at what price an order fills against current quotes."""

    def __init__(self, config: FillConfig | None = None, *, seed: int | None = None) -> None:
        self.config = config or FillConfig()
        self.tick = self.config.tick
        s = seed if seed is not None else self.config.seed
        self._rng = random.Random(s)

    # --- latency -------------------------------------------------------------------------------
    def latency(self) -> float:
        """A delay in seconds drawn from the configured distribution (never negative)."""
        c = self.config
        mean, jit = c.latency_ms / 1000.0, c.latency_jitter_ms / 1000.0
        if c.latency == "fixed" or mean == 0:
            return mean
        if c.latency == "uniform":
            return max(0.0, self._rng.uniform(mean - jit, mean + jit))
        # lognormal with the given mean and standard deviation
        sigma2 = math.log(1.0 + (jit / mean) ** 2)
        mu = math.log(mean) - sigma2 / 2.0
        return self._rng.lognormvariate(mu, math.sqrt(sigma2))

    # --- book arithmetic -----------------------------------------------------------------------
    def displayed_units(self, legs: Sequence[LegBook]) -> int:
        floor = self.config.min_displayed_size
        return max(1, min(max(leg.far_size, floor) // leg.ratio for leg in legs))

    def _level_prices(self, legs: Sequence[LegBook], level: int) -> list[Decimal]:
        """Per-leg prices at book level ``level`` (0 = top): buys pay up, sells give down."""
        step = self.tick * self.config.impact_ticks * level
        return [leg.far + step if leg.side is Side.BUY else max(ZERO, leg.far - step) for leg in legs]

    def stop_triggered(self, legs: Sequence[LegBook], stop_price: Decimal) -> bool:
        return all(leg.fillable for leg in legs) and natural_price(legs) >= stop_price

    # --- the decision --------------------------------------------------------------------------
    def evaluate(self, legs: Sequence[LegBook], *, quantity: int, order_type: OrderType,
                 limit_price: Decimal | None = None, stop_price: Decimal | None = None,
                 resting: bool = False) -> FillResult | None:
        """The fill of up to ``quantity`` units now, or ``None`` when nothing fills.

        ``resting`` says the order has been working (it was not marketable on arrival), which
        makes a crossing fill at the order's own limit; stops are checked by the caller through
        :meth:`stop_triggered` once, after which the order behaves as market/limit.
        """
        if quantity <= 0 or not legs or not all(leg.fillable for leg in legs):
            return None
        if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and stop_price is not None \
                and not self.stop_triggered(legs, stop_price):
            return None
        is_limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if is_limit and limit_price is None:
            return None
        if is_limit and resting:
            return self._passive(legs, quantity, limit_price)
        return self._aggressive(legs, quantity, limit_price if is_limit else None)

    def _aggressive(self, legs: Sequence[LegBook], quantity: int, limit: Decimal | None) -> FillResult | None:
        """Take liquidity level by level (impact beyond the displayed size), up to ``limit``."""
        shown = self.displayed_units(legs)
        filled, level = 0, 0
        totals = [ZERO] * len(legs)
        while filled < quantity:
            prices = self._level_prices(legs, level)
            if limit is not None and net_of(legs, prices) > limit:
                break
            take = min(shown, quantity - filled)
            totals = [t + p * take for t, p in zip(totals, prices, strict=True)]
            filled += take
            level += 1
        if filled == 0:
            return None
        if limit is not None and not self.config.partial_fills and filled < quantity:
            return None  # all-or-none at this limit
        leg_prices = tuple((t / filled).quantize(_Q4) for t in totals)
        return FillResult(filled, net_of(legs, leg_prices), leg_prices, "remove")

    def _passive(self, legs: Sequence[LegBook], quantity: int, limit: Decimal) -> FillResult | None:
        """A resting limit: fills at its limit once the far sides reach it (minus through-ticks)."""
        natural = natural_price(legs)
        through = self.tick * self.config.limit_through_ticks
        if natural > limit - through:
            return None
        qty = min(quantity, self.displayed_units(legs)) if self.config.partial_fills else quantity
        price = limit
        if all(leg.side is Side.SELL for leg in legs):
            price = min(price, ZERO)  # selling never costs money: a "pay to sell" limit fills at zero
        elif all(leg.side is Side.BUY for leg in legs):
            price = max(price, ZERO)
        return FillResult(qty, price, allocate(legs, price), "add")


def allocate(legs: Sequence[LegBook], net: Decimal) -> tuple[Decimal, ...]:
    """Leg prices near the far sides whose signed sum is exactly ``net``, none negative.

    The gap between ``net`` and the natural price goes to the legs that can absorb it without
    limit — raising buy legs to pay more, raising sell legs to receive more — in proportion to
    their prices; only when there is no such leg do the others move toward zero. The rounding
    residue (prices have four decimals) lands on the leg that took the largest share.
    """
    far = [leg.far for leg in legs]
    gap = net - net_of(legs, far)
    if gap == 0:
        return tuple(far)
    up = [i for i, leg in enumerate(legs) if (leg.side is Side.BUY) == (gap > 0)]
    prices = list(far)
    if up:
        weights = [legs[i].weight * max(far[i], _Q4) for i in up]
        total = sum(weights, ZERO)
        for i, w in zip(up, weights, strict=True):
            prices[i] = (far[i] + abs(gap) * (w / total) / legs[i].weight).quantize(_Q4)
        target = max(up, key=lambda i: weights[up.index(i)])
    else:  # every leg can only move toward zero
        room = sum((leg.weight * p for leg, p in zip(legs, far, strict=True)), ZERO)
        f = min(Decimal(1), abs(gap) / room) if room else Decimal(1)
        prices = [(p * (1 - f)).quantize(_Q4) for p in far]
        target = max(range(len(legs)), key=lambda i: prices[i])
    residue = net - net_of(legs, prices)
    if residue:
        leg = legs[target]
        prices[target] = max(ZERO, prices[target] + leg.side.sign * residue / leg.weight)
    return tuple(prices)
