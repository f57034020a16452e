"""Instruments and OCC option symbols.

An option symbol in OCC form is ``ROOT + YYMMDD + C|P + strike×1000 as 8 digits``: compact
(``SPY250303C00500000``) or padded to 21 characters with the root left-justified in six
(``SPY   250303C00500000``). Polygon/Massive prefixes ``O:``. :func:`parse_symbol` reads all three.

Contract terms come from :data:`OPTION_ROOTS` (data, not rules in code): SPY/QQQ/IWM are American,
physically settled, PM; SPX is European, cash, AM-settled (third Friday), SPXW PM; VIX is European,
cash, AM-settled on Wednesdays (it has no true same-day expiry). ``section_1256`` marks broad-based
index options (IRC §1256): 60/40 tax treatment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from engine.core.errors import MalformedSymbol, UnknownSymbol
from engine.core.money import MULTIPLIER, D


class AssetKind(StrEnum):
    EQUITY = "equity"
    INDEX = "index"
    OPTION = "option"


class Right(StrEnum):
    CALL = "call"
    PUT = "put"

    @property
    def letter(self) -> str:
        return "C" if self is Right.CALL else "P"

    @classmethod
    def parse(cls, text: str) -> Right:
        t = str(text).strip().lower()
        if t in ("c", "call", "calls"):
            return cls.CALL
        if t in ("p", "put", "puts"):
            return cls.PUT
        raise ValueError(f"right must be call or put, not {text!r}")


class ExerciseStyle(StrEnum):
    AMERICAN = "american"
    EUROPEAN = "european"


class Settlement(StrEnum):
    PHYSICAL = "physical"
    CASH = "cash"


class SettleTime(StrEnum):
    AM = "am"  # settles on the opening print of the expiry day
    PM = "pm"  # settles on the close


@dataclass(frozen=True, slots=True)
class RootSpec:
    """Terms of the options listed under one OCC root."""

    root: str
    underlying: str
    style: ExerciseStyle
    settlement: Settlement
    settle_time: SettleTime
    section_1256: bool
    multiplier: int = MULTIPLIER


OPTION_ROOTS: dict[str, RootSpec] = {
    s.root: s
    for s in (
        RootSpec("SPY", "SPY", ExerciseStyle.AMERICAN, Settlement.PHYSICAL, SettleTime.PM, False),
        RootSpec("QQQ", "QQQ", ExerciseStyle.AMERICAN, Settlement.PHYSICAL, SettleTime.PM, False),
        RootSpec("IWM", "IWM", ExerciseStyle.AMERICAN, Settlement.PHYSICAL, SettleTime.PM, False),
        RootSpec("SPX", "SPX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM, True),
        RootSpec("SPXW", "SPX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.PM, True),
        RootSpec("NDX", "NDX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM, True),
        RootSpec("NDXP", "NDX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.PM, True),
        RootSpec("RUT", "RUT", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM, True),
        RootSpec("RUTW", "RUT", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.PM, True),
        RootSpec("VIX", "VIX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM, True),
        RootSpec("VIXW", "VIX", ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM, True),
    )
}

#: Underlyings the product trades and quotes; the first four are the product's instruments.
UNDERLYINGS: dict[str, AssetKind] = {
    "SPY": AssetKind.EQUITY, "QQQ": AssetKind.EQUITY, "IWM": AssetKind.EQUITY, "VIX": AssetKind.INDEX,
    "SPX": AssetKind.INDEX, "NDX": AssetKind.INDEX, "RUT": AssetKind.INDEX,
}
PRODUCT_UNDERLYINGS = ("SPY", "QQQ", "IWM", "VIX")
_INDEX_ALIASES = {"I:VIX": "VIX", "^VIX": "VIX", "$VIX": "VIX", "$VIX.X": "VIX", "I:SPX": "SPX",
                  "^SPX": "SPX", "^GSPC": "SPX", "I:NDX": "NDX", "^NDX": "NDX", "I:RUT": "RUT", "^RUT": "RUT"}

_OCC = re.compile(r"^(?:O:)?([A-Z]{1,6})\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_TICKER = re.compile(r"^[A-Z][A-Z.]{0,5}$")


@dataclass(frozen=True, slots=True)
class Equity:
    """A stock or ETF."""

    symbol: str
    kind: AssetKind = AssetKind.EQUITY
    multiplier: int = 1

    def __str__(self) -> str:
        return self.symbol


@dataclass(frozen=True, slots=True)
class Index:
    """A cash index (VIX, SPX): quoted, not traded itself."""

    symbol: str
    kind: AssetKind = AssetKind.INDEX
    multiplier: int = 1

    def __str__(self) -> str:
        return self.symbol


@dataclass(frozen=True, slots=True)
class OptionContract:
    """One listed option. ``strike`` is a Decimal with at most three decimals (OCC precision)."""

    root: str
    expiry: date
    right: Right
    strike: Decimal
    kind: AssetKind = AssetKind.OPTION

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{1,6}", self.root):
            raise MalformedSymbol(f"option root {self.root!r} must be 1-6 letters")
        if self.strike <= 0 or self.strike * 1000 != int(self.strike * 1000) or self.strike >= 100_000:
            raise MalformedSymbol(f"strike {self.strike} is not a valid OCC strike")

    @classmethod
    def of(cls, root: str, expiry: date, right: Right | str, strike: object) -> OptionContract:
        r = right if isinstance(right, Right) else Right.parse(right)
        return cls(root.upper(), expiry, r, D(strike).normalize() if D(strike) % 1 else D(int(D(strike))))

    # --- terms -------------------------------------------------------------------------------
    @property
    def spec(self) -> RootSpec:
        spec = OPTION_ROOTS.get(self.root)
        if spec is None:  # an equity option on any other ticker: American, physical, PM
            return RootSpec(self.root, self.root, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                            SettleTime.PM, False)
        return spec

    @property
    def underlying(self) -> str:
        return self.spec.underlying

    @property
    def multiplier(self) -> int:
        return self.spec.multiplier

    @property
    def is_call(self) -> bool:
        return self.right is Right.CALL

    # --- symbols -----------------------------------------------------------------------------
    @property
    def occ(self) -> str:
        """Compact OCC symbol, e.g. ``SPY250303C00500000``."""
        return f"{self.root}{self.expiry:%y%m%d}{self.right.letter}{int(self.strike * 1000):08d}"

    @property
    def occ_padded(self) -> str:
        """21-character OCC symbol, root padded to six: ``SPY   250303C00500000``."""
        return f"{self.root:<6}{self.expiry:%y%m%d}{self.right.letter}{int(self.strike * 1000):08d}"

    @property
    def symbol(self) -> str:
        return self.occ

    @property
    def polygon(self) -> str:
        return "O:" + self.occ

    def __str__(self) -> str:
        return self.occ


Instrument = Equity | Index | OptionContract


def parse_occ(text: str) -> OptionContract:
    """Parse a compact, padded or ``O:``-prefixed OCC symbol; :class:`MalformedSymbol` if not one."""
    raw = str(text).strip().upper()
    m = _OCC.match(raw)
    if not m:
        raise MalformedSymbol(f"{text!r} is not an OCC option symbol (e.g. SPY250303C00500000)")
    root, yy, mm, dd, cp, strike8 = m.groups()
    if len(raw) == 21 and not raw.startswith("O:") and raw[len(root):6].strip():
        raise MalformedSymbol(f"{text!r}: padded OCC root must be left-justified in six characters")
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        raise MalformedSymbol(f"{text!r}: {yy}{mm}{dd} is not a date") from None
    strike = Decimal(int(strike8)) / 1000
    if strike <= 0:
        raise MalformedSymbol(f"{text!r}: strike must be positive")
    return OptionContract(root, expiry, Right.CALL if cp == "C" else Right.PUT, strike.normalize()
                          if strike % 1 else Decimal(int(strike)))


def looks_like_option(text: str) -> bool:
    t = str(text).strip().upper()
    return bool(re.search(r"\d{6}[CP]\d{8}$", t))


def parse_symbol(text: str, *, known_only: bool = True) -> Instrument:
    """An instrument from a ticker, index alias (``I:VIX``, ``^VIX``) or OCC symbol.

    With ``known_only`` (the default for market data) a ticker must be one the product quotes;
    tax imports pass ``known_only=False`` to accept any well-formed ticker.
    """
    if text is None or not str(text).strip():
        raise UnknownSymbol("empty symbol")
    t = str(text).strip().upper()
    if looks_like_option(t):
        return parse_occ(t)
    t = _INDEX_ALIASES.get(t, t)
    kind = UNDERLYINGS.get(t)
    if kind is AssetKind.INDEX:
        return Index(t)
    if kind is AssetKind.EQUITY:
        return Equity(t)
    if not known_only and _TICKER.match(t):
        return Equity(t)
    if _TICKER.match(t):
        raise UnknownSymbol(f"unknown symbol {text!r}: quoted symbols are {', '.join(PRODUCT_UNDERLYINGS)}")
    raise MalformedSymbol(f"{text!r} is neither a ticker nor an OCC option symbol")
