"""What the tax rules need to know about a traded symbol.

:func:`classify` turns a ticker or OCC symbol into a :class:`Security`: its multiplier (shares per
contract, from :class:`engine.core.instruments.OptionContract`), its underlying, and whether it is a
Section 1256 contract.

Section 1256 (IRC §1256(b)(1)(D), (g)(3)-(6)): "nonequity options" — options on a broad-based
stock index, listed on a qualified board or exchange — are marked to market at year end and taxed
60% long-term / 40% short-term regardless of holding period. :data:`SECTION_1256_ROOTS` lists the
broad-based index option roots (cash-settled, European). Options on ETFs (SPY, QQQ, IWM) are
*equity options* and are not §1256 contracts even though their underlying tracks an index. The
table is data, overridable per root or per symbol with ``SMART0DTE_TAX__SECTION_1256``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from engine.core.errors import InvalidInput
from engine.core.instruments import Index, OptionContract, Settlement, parse_symbol

#: Broad-based index option roots (Cboe/Nasdaq listed, cash-settled): §1256 nonequity options.
SECTION_1256_ROOTS: frozenset[str] = frozenset({
    "SPX", "SPXW", "XSP",            # S&P 500 (standard, weeklies/0DTE, mini)
    "NDX", "NDXP", "XND",            # Nasdaq-100 (standard, PM-settled, micro)
    "RUT", "RUTW", "MRUT",           # Russell 2000 (standard, weeklies, mini)
    "VIX", "VIXW",                   # Cboe Volatility Index options
    "DJX", "OEX", "XEO",             # Dow Jones 1/100, S&P 100 (American and European)
})


@dataclass(frozen=True, slots=True)
class Security:
    """A traded symbol as the tax rules see it.

    ``symbol`` is the compact OCC symbol or the ticker; ``multiplier`` shares per unit of quantity
    (100 for a standard option contract, 1 for a share); ``underlying`` is what the ``underlying``
    wash-sale preset groups by; ``cash_settled`` options settle in cash on exercise/assignment
    (no stock changes hands).
    """

    symbol: str
    underlying: str
    multiplier: int
    section_1256: bool
    option: OptionContract | None = None
    cash_settled: bool = False

    @property
    def is_option(self) -> bool:
        return self.option is not None

    @property
    def expiry(self) -> date | None:
        return self.option.expiry if self.option else None

    @property
    def strike(self) -> Decimal | None:
        return self.option.strike if self.option else None

    @property
    def is_call(self) -> bool:
        return bool(self.option and self.option.is_call)

    def describe(self, quantity: Decimal | int) -> str:
        """Form 8949 column (a) text, e.g. ``100 sh. SPY`` or ``2 SPY 07 Mar 2025 510 Call``."""
        return _describe(self, quantity)


@lru_cache(maxsize=32768)
def _describe(sec: Security, quantity: Decimal | int) -> str:
    q = _num(quantity)
    if sec.option is None:
        return f"{q} sh. {sec.symbol}"
    o = sec.option
    return f"{q} {o.root} {o.expiry:%d %b %Y} {_num(o.strike)} {'Call' if o.is_call else 'Put'}"


def _num(x: Decimal | int) -> str:
    d = Decimal(x)
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d.normalize())


def is_section_1256(option: OptionContract | None, symbol: str, overrides: dict[str, bool]) -> bool:
    """§1256 status: a per-symbol override, then a per-root override, then the root table."""
    if symbol in overrides:
        return overrides[symbol]
    if option is None:
        return False
    if option.root in overrides:
        return overrides[option.root]
    return option.root in SECTION_1256_ROOTS


def classify(symbol: str, overrides: dict[str, bool] | None = None) -> Security:
    """A :class:`Security` from a ticker or an OCC symbol (compact, padded or ``O:``-prefixed).

    Raises :class:`InvalidInput` (or its symbol subclasses) naming what is wrong; a cash index
    (``VIX`` itself) is not tradable and is refused.
    """
    return _classify(str(symbol).strip().upper(), tuple(sorted((overrides or {}).items())))


@lru_cache(maxsize=65536)
def _classify(text: str, overrides: tuple[tuple[str, bool], ...]) -> Security:
    inst = parse_symbol(text, known_only=False)
    table = dict(overrides)
    if isinstance(inst, Index):
        raise InvalidInput(f"{text} is a cash index and cannot be traded; use its options", field="symbol")
    if isinstance(inst, OptionContract):
        s1256 = is_section_1256(inst, inst.occ, table)
        cash = inst.spec.settlement is Settlement.CASH or inst.root in SECTION_1256_ROOTS
        return Security(inst.occ, inst.underlying, inst.multiplier, s1256, inst, cash)
    return Security(inst.symbol, inst.symbol, 1, is_section_1256(None, inst.symbol, table))
