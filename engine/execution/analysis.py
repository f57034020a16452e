"""Risk profile of an order at expiry: max profit, max loss, breakevens and margin.

Exact for single-expiry option combos (plus an optional stock leg): the P&L at expiry is
piecewise linear in the underlying with kinks at the strikes, so its extremes sit at a kink, at
zero, or run to infinity along the last slope; breakevens are the zero crossings between kinks.
Calendars (two expiries) have no closed form: a debit calendar risks its debit, its maximum
profit depends on volatility and is reported as ``None``.

Dollar figures are for the whole order (units x multiplier). ``max_loss is None`` means
undefined risk (a naked short call or short stock).

Margin follows the Reg-T/CBOE rules a retail options account sees: debit structures pay their
debit; defined-risk credit structures hold their max loss (width - credit); naked short options
hold ``premium + max(pct x underlying - OTM amount, 10% x underlying / strike floor)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.core.instruments import Right
from engine.core.money import ZERO, D, cents
from engine.execution.broker import Side
from engine.execution.structures import ResolvedLeg


@dataclass(frozen=True, slots=True)
class Profile:
    max_profit: Decimal | None   # None = unbounded (or unknown, for calendars)
    max_loss: Decimal | None     # None = unbounded: undefined risk
    breakevens: tuple[Decimal, ...]
    margin: Decimal
    defined_risk: bool
    naked_shorts: tuple[str, ...]  # symbols of uncovered short options


def _unit_pnl(legs: Sequence[ResolvedLeg], net: Decimal, spot: Decimal, stock_cost: Decimal) -> Decimal:
    """P&L per unit at expiry in dollars for underlying ``spot`` (net price paid per share)."""
    value = ZERO
    for leg in legs:
        c = leg.contract
        if c is None:
            value += leg.side.sign * leg.ratio * (spot - stock_cost)
            continue
        intrinsic = max(ZERO, spot - c.strike) if c.right is Right.CALL else max(ZERO, c.strike - spot)
        value += leg.side.sign * leg.ratio * intrinsic * c.multiplier
    option_net = net * 100 - sum((leg.side.sign * leg.ratio * stock_cost for leg in legs if leg.contract is None),
                                 ZERO)
    return value - option_net


def naked_shorts(legs: Sequence[ResolvedLeg]) -> tuple[str, ...]:
    """Short options not covered by a long of the same right (and expiry or later) or by stock.

    Calls are covered by long calls at any strike (defined risk: the width) or long stock; puts by
    long puts (short stock does not make a put's loss bounded here: it is refused separately).
    """
    out = []
    for right in (Right.CALL, Right.PUT):
        shorts = sum(leg.ratio for leg in legs if leg.contract and leg.contract.right is right
                     and leg.side is Side.SELL)
        longs = sum(leg.ratio for leg in legs if leg.contract and leg.contract.right is right
                    and leg.side is Side.BUY)
        if right is Right.CALL:
            longs += sum(leg.ratio // 100 for leg in legs if leg.contract is None and leg.side is Side.BUY)
        if shorts > longs:
            out += [leg.symbol for leg in legs if leg.contract and leg.contract.right is right
                    and leg.side is Side.SELL]
    return tuple(out)


def profile(legs: Sequence[ResolvedLeg], net_price: Decimal, quantity: int, spot: float,
            *, naked_pct: float = 0.20) -> Profile:
    """The order's expiry profile at signed ``net_price`` (per share; debit > 0)."""
    net = D(net_price)
    S0 = D(round(spot, 4))
    expiries = {leg.contract.expiry for leg in legs if leg.contract is not None}
    naked = naked_shorts(legs)
    if len(expiries) > 1:  # calendar/diagonal: risk the debit, profit unknown
        loss = cents(max(net, ZERO) * 100 * quantity) if not naked else None
        return Profile(None, loss, (), _margin(legs, net, quantity, S0, naked_pct, loss),
                       not naked, naked)
    kinks = sorted({leg.contract.strike for leg in legs if leg.contract is not None})
    points = [ZERO, *kinks]
    values = [_unit_pnl(legs, net, p, S0) for p in points]
    top = (kinks[-1] if kinks else S0) + 1
    slope_up = _unit_pnl(legs, net, top + 1, S0) - _unit_pnl(legs, net, top, S0)
    best, worst = max(values), min(values)
    max_profit = None if slope_up > 0 else cents(best * quantity)
    max_loss = None if slope_up < 0 else cents(max(ZERO, -worst) * quantity)
    bes = []
    xs, ys = points + [top], values + [_unit_pnl(legs, net, top, S0)]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), list(zip(xs, ys, strict=True))[1:], strict=False):
        if y0 == 0 and x0 > 0:
            bes.append(x0)
        elif (y0 < 0 < y1) or (y1 < 0 < y0):
            bes.append(x0 + (x1 - x0) * (-y0) / (y1 - y0))
    if ys[-1] != 0 and slope_up != 0 and (ys[-1] < 0) == (slope_up > 0):
        bes.append(top + (-ys[-1]) / slope_up)
    be = tuple(sorted({b.quantize(Decimal("0.01")) for b in bes}))
    defined = max_loss is not None and not naked
    return Profile(max_profit, max_loss, be, _margin(legs, net, quantity, S0, naked_pct, max_loss),
                   defined, naked)


def _margin(legs: Sequence[ResolvedLeg], net: Decimal, quantity: int, spot: Decimal, pct: float,
            max_loss: Decimal | None) -> Decimal:
    if max_loss is not None and not naked_shorts(legs):
        return max_loss if net < 0 else cents(max(net, ZERO) * 100 * quantity)
    total = ZERO
    for sym in naked_shorts(legs):
        leg = next(x for x in legs if x.symbol == sym)
        c = leg.contract
        otm = max(ZERO, c.strike - spot) if c.right is Right.CALL else max(ZERO, spot - c.strike)
        floor = D("0.10") * (spot if c.right is Right.CALL else c.strike)
        per_share = max(D(pct) * spot - otm, floor)
        total += per_share * c.multiplier * leg.ratio * quantity
    # premium received offsets nothing in Reg-T: it is held too; a debit is paid on top
    return cents(total + abs(net) * 100 * quantity)
