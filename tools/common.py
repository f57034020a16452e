"""Argument and result types shared by the tool modules.

Input types validate and normalise what a model or a person typed (``" spy "`` → ``"SPY"``,
``"0DTE"`` → ``"0dte"``) and fail with a ``ValueError`` that pydantic turns into a field error;
output helpers turn engine objects (dataclasses, pydantic models, dicts, numpy scalars, Decimals)
into plain JSON-ready values, because tool outputs are data for any surface, never prose.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from engine.core.errors import Smart0DTEError
from engine.core.instruments import UNDERLYINGS, parse_symbol

PRODUCT_HINT = "SPY, QQQ, IWM or VIX (SPX, NDX, RUT for index data)"


class Args(BaseModel):
    """Base of every tool input: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """Base of every tool output."""

    model_config = ConfigDict(extra="ignore")


def _underlying(value: str) -> str:
    t = str(value).strip().upper().lstrip("$^")
    if t.startswith("I:"):
        t = t[2:]
    if t not in UNDERLYINGS:
        raise ValueError(f"unknown underlying {value!r}: use {PRODUCT_HINT}")
    return t


def _symbol(value: str) -> str:
    try:
        inst = parse_symbol(value)
    except Smart0DTEError as err:
        raise ValueError(err.message) from None
    return str(inst)


def _expiry(value: Any) -> Any:
    if isinstance(value, str):
        t = value.strip().lower()
        if t in ("0dte", "today", "0"):
            return "0dte"
        return t
    return value


Underlying = Annotated[str, AfterValidator(_underlying)]
Symbol = Annotated[str, AfterValidator(_symbol)]
ExpirySpec = Annotated[Literal["0dte"] | date, BeforeValidator(_expiry)]
Account = Literal["paper", "live"]


# --- output conversion --------------------------------------------------------------------------
def num(value: Any, digits: int | None = None) -> float | None:
    """A JSON number (``None`` for missing/NaN/inf) from float, Decimal, int or numpy scalar,
    rounded to ``digits`` decimals when given (prices: float noise such as 2.8600000000000003 goes)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (Decimal, float, int)):
        value = value.item()
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return round(f, digits) if digits is not None else f


def plain(obj: Any) -> Any:
    """Engine objects as plain dicts/lists/scalars (keeps dates, datetimes and Decimals)."""
    if obj is None or isinstance(obj, (bool, int, str, float, Decimal, date)):
        return obj
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, BaseModel):
        return {k: plain(getattr(obj, k)) for k in type(obj).model_fields}
    if callable(getattr(obj, "to_dict", None)) and not isinstance(obj, type):  # the part's own JSON view
        return plain(obj.to_dict())
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    if hasattr(obj, "__dict__"):
        return {k: plain(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return str(obj)


def pick(obj: Any, *names: str, default: Any = None) -> Any:
    """The first present attribute or key among ``names`` (engine parts name things their way)."""
    for name in names:
        if isinstance(obj, dict):
            if name in obj and obj[name] is not None:
                return obj[name]
        else:
            value = getattr(obj, name, None)
            if value is not None:
                return value
    return default
