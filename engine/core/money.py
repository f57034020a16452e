"""Money is ``Decimal``; analytics are numpy floats. These helpers cross between the two."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
MULTIPLIER = 100  # shares per standard equity/index option contract


def D(value: object) -> Decimal:
    """A Decimal from int, str, Decimal or float (floats via ``repr`` so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def cents(value: object) -> Decimal:
    """Round to whole cents, half-even (as ledgers do)."""
    return D(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def round_to_tick(price: object, tick: Decimal = CENT) -> Decimal:
    return (D(price) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


def on_tick(price: object, tick: Decimal = CENT) -> bool:
    p = D(price)
    return (p / tick) == (p / tick).to_integral_value()
