"""Trades as the tax engine reads them, whatever their source (CSV, IB Flex, the live ledger).

A :class:`TaxTrade` is one row of the project's trade CSV after validation::

    datetime,account,symbol,side,quantity,price,fees
    2025-03-03T10:15:00,live,SPY250303C00500000,BUY,2,1.25,1.30

``datetime`` is exchange-local (America/New_York) when it has no offset; ``quantity`` is a positive
number of shares or contracts; ``price`` is per share (an option premium per share, so one
contract at 1.25 costs $125); ``fees`` are total dollars for the row. ``EXPIRE`` closes an open
option position at $0; ``ASSIGN``/``EXERCISE`` close it and create the stock trade at the strike
(see :mod:`engine.tax.matching`). Validation errors are :class:`InvalidInput` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.money import ZERO
from engine.tax.securities import Security, classify

LATE_BOOKING_DAYS = 7
EXPIRY_CLOSE = time(16, 0)
CSV_HEADER = ("datetime", "account", "symbol", "side", "quantity", "price", "fees")


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    EXPIRE = "EXPIRE"
    ASSIGN = "ASSIGN"
    EXERCISE = "EXERCISE"


OPTION_EVENTS = frozenset({Side.EXPIRE, Side.ASSIGN, Side.EXERCISE})


@dataclass(frozen=True, slots=True)
class TaxTrade:
    """One validated trade. ``ts`` is aware (America/New_York); money is Decimal dollars."""

    ts: datetime
    account: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    fees: Decimal
    security: Security
    source: str = "csv"
    ref: str = ""  # where it came from (file line, IB trade id, ledger fill id), for messages

    def as_row(self) -> dict[str, str]:
        """The trade as a project CSV row (naive exchange-local time, as the contract writes it)."""
        return {"datetime": self.ts.astimezone(NY).replace(tzinfo=None).isoformat(),
                "account": self.account, "symbol": self.symbol, "side": self.side.value,
                "quantity": str(self.quantity), "price": str(self.price), "fees": str(self.fees)}


def parse_datetime(value: object) -> datetime:
    """ISO 8601; naive values are exchange-local (America/New_York)."""
    if isinstance(value, datetime):
        ts = value
    else:
        text = str(value or "").strip()
        if not text:
            raise InvalidInput("datetime is empty", field="datetime")
        try:
            ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"datetime {text!r} is not ISO 8601 (e.g. 2025-03-03T10:15:00)",
                               field="datetime") from None
    return ts.replace(tzinfo=NY) if ts.tzinfo is None else ts.astimezone(NY)


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, Decimal):
        d = value
    else:
        text = str(value if value is not None else "").strip().replace(",", "")
        if not text:
            raise InvalidInput(f"{field} is empty", field=field)
        try:
            d = Decimal(repr(value)) if isinstance(value, float) else Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{field} {value!r} is not a number", field=field) from None
    if not d.is_finite():
        raise InvalidInput(f"{field} {value!r} is not a finite number", field=field)
    return d


def make_trade(*, datetime_: object, account: object, symbol: object, side: object, quantity: object,
               price: object, fees: object, source: str = "csv", ref: str = "",
               overrides: dict[str, bool] | None = None) -> TaxTrade:
    """Validate one row's fields into a :class:`TaxTrade`; :class:`InvalidInput` names the field."""
    ts = parse_datetime(datetime_)
    acct = str(account or "").strip().lower()
    if not acct:
        raise InvalidInput("account is empty (live, paper, or a named live account such as ira)",
                           field="account")
    try:
        side_v = Side(str(side or "").strip().upper())
    except ValueError:
        raise InvalidInput(f"side {side!r} must be BUY, SELL, EXPIRE, ASSIGN or EXERCISE",
                           field="side") from None
    try:
        sec = classify(str(symbol or ""), overrides)
    except InvalidInput as err:
        raise InvalidInput(err.message, field="symbol") from None
    qty = _decimal(quantity, "quantity")
    if qty <= 0 or qty != qty.to_integral_value():
        raise InvalidInput(f"quantity {quantity!r} must be a positive whole number of shares or contracts",
                           field="quantity")
    px = _decimal(price, "price")
    if px < 0:
        raise InvalidInput(f"price {price!r} must not be negative", field="price")
    fee = _decimal(fees if str(fees if fees is not None else "").strip() else "0", "fees")
    if fee < 0:
        raise InvalidInput(f"fees {fees!r} must not be negative (total dollars paid for the row)", field="fees")
    if side_v in OPTION_EVENTS:
        if not sec.is_option:
            raise InvalidInput(f"{side_v.value} applies to options only, not {sec.symbol}", field="side")
        if side_v is Side.EXPIRE and px != ZERO:
            raise InvalidInput(f"EXPIRE closes at price 0, not {price}", field="price")
        if px != ZERO and not sec.cash_settled:
            raise InvalidInput(f"{side_v.value} rows carry price 0 (the stock trade is made at the strike)",
                               field="price")
        if sec.expiry is not None and ts.date() > sec.expiry:
            # Some brokers book expirations and expiry assignments the next business day; for tax the
            # option ended on its expiration date (Pub 550), so a row up to a week late is moved there.
            if (ts.date() - sec.expiry).days > LATE_BOOKING_DAYS:
                raise InvalidInput(f"{side_v.value} on {ts.date()} is more than {LATE_BOOKING_DAYS} days after "
                                   f"{sec.symbol} expired on {sec.expiry}", field="datetime")
            ts = datetime.combine(sec.expiry, EXPIRY_CLOSE, NY)
    elif sec.is_option and sec.expiry is not None and ts.date() > sec.expiry:
        raise InvalidInput(f"{side_v.value} on {ts.date()} is after {sec.symbol} expired on {sec.expiry}: an "
                           f"expired option cannot be traded", field="datetime")
    return TaxTrade(ts, acct, sec.symbol, side_v, int(qty), px, fee, sec, source, ref)
