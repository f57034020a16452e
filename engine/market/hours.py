"""Product trading hours as data: when an underlying and its options trade on a given session.

The table is ``product_hours.csv`` (one row per underlying, ``*`` for any other). A setting can
override any column per symbol, e.g. ``SMART0DTE_PRODUCT_HOURS='{"SPY": {"option_close": "16:00"}}'``.
Rules the table encodes (times are New York, regular sessions):

- equities 09:30–16:00; broad ETF options (SPY/QQQ/IWM) trade to 16:15 on days their contract
  does not expire, but the contracts expiring that day stop at 16:00;
- VIX (index) options are AM-settled on Wednesdays: their last trading day is the session
  *before* expiry (``last_trade_day = before_expiry``), so there is no same-day VIX contract;
- on early-close days (13:00) the option close moves with the session close
  (``early_close_extension_min`` after it for non-expiring contracts).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market import calendar

TABLE_PATH = Path(__file__).with_name("product_hours.csv")


@dataclass(frozen=True, slots=True)
class ProductHours:
    """One row of the product-hours table."""

    symbol: str
    kind: str
    open: time
    close: time
    option_open: time
    option_close: time
    expiring_option_close: time
    early_close_extension_min: int
    last_trade_day: str  # "expiry" | "before_expiry"
    note: str = ""


def _row(raw: dict[str, str]) -> ProductHours:
    times = ("open", "close", "option_open", "option_close", "expiring_option_close")
    try:
        kw = {k: time.fromisoformat(str(raw[k])) for k in times}
        ext = int(raw["early_close_extension_min"])
    except (KeyError, ValueError) as err:
        raise InvalidInput(f"product hours for {raw.get('symbol')!r}: {err}", field="product_hours") from None
    if raw["last_trade_day"] not in ("expiry", "before_expiry"):
        raise InvalidInput(f"product hours for {raw['symbol']!r}: last_trade_day must be expiry or "
                           "before_expiry", field="product_hours")
    return ProductHours(raw["symbol"].upper(), raw["kind"], early_close_extension_min=ext,
                        last_trade_day=raw["last_trade_day"], note=raw.get("note", ""), **kw)


@lru_cache(maxsize=1)
def _base_table() -> dict[str, ProductHours]:
    with TABLE_PATH.open(newline="") as fh:
        return {r["symbol"].upper(): _row(r) for r in csv.DictReader(fh)}


def load_table(overrides: dict[str, dict[str, str]] | None = None) -> dict[str, ProductHours]:
    """The table with per-symbol overrides applied (unknown symbols start from the ``*`` row)."""
    table = dict(_base_table())
    for sym, cols in (overrides or {}).items():
        base = table.get(sym.upper(), replace(table["*"], symbol=sym.upper()))
        merged = {f: getattr(base, f) for f in base.__dataclass_fields__}
        unknown = sorted(set(cols) - set(merged) - {"symbol"})
        if unknown:
            raise InvalidInput(f"product hours for {sym!r}: unknown column(s) {', '.join(unknown)}; known: "
                               f"{', '.join(f for f in merged if f != 'symbol')}", field="product_hours")
        merged.update(cols)
        table[sym.upper()] = _row({k: (v.isoformat(timespec="minutes") if isinstance(v, time) else str(v))
                                   for k, v in merged.items()})
    return table


class TradingHours:
    """Answers "is X trading now, and until when?" from the table and the XNYS calendar."""

    def __init__(self, overrides: dict[str, dict[str, str]] | None = None) -> None:
        try:
            self.table = load_table(overrides)
        except InvalidInput as err:  # overrides come from the setting: name it
            raise InvalidInput(f"invalid setting SMART0DTE_PRODUCT_HOURS: {err.message}",
                               field="product_hours") from None

    def hours(self, symbol: str) -> ProductHours:
        return self.table.get(symbol.upper(), self.table["*"])

    def _shift(self, day: date, t: time, extension_if_early: int) -> datetime:
        """``t`` on ``day``, moved with an early close (13:00 + extension instead of 16:00 + …)."""
        close = calendar.session_close(day)
        ts = datetime.combine(day, t, NY)
        if close.time() != time(16, 0):  # early close: late trading hours shrink with the session
            ts = min(ts, close + timedelta(minutes=extension_if_early))
        return ts

    def underlying_hours(self, symbol: str, day: date) -> tuple[datetime, datetime]:
        """(open, close) of the underlying itself on session ``day``."""
        h = self.hours(symbol)
        past_four = max(h.close.hour * 60 + h.close.minute - 16 * 60, 0)  # e.g. VIX values to 16:15
        return datetime.combine(day, h.open, NY), self._shift(day, h.close, past_four)

    def option_hours(self, underlying: str, day: date, expiry: date) -> tuple[datetime, datetime] | None:
        """(first, last) trading instant of an option of ``underlying`` expiring ``expiry`` on ``day``.

        None if the contract does not trade that day (``day`` is no session, after its last trading
        day, or — for AM-settled roots like VIX — the expiry day itself).
        """
        if not calendar.is_session(day) or day > expiry:
            return None
        h = self.hours(underlying)
        if day == expiry and h.last_trade_day == "before_expiry":
            return None
        opening = datetime.combine(day, h.option_open, NY)
        if day == expiry:
            return opening, self._shift(day, h.expiring_option_close, 0)
        if h.last_trade_day == "before_expiry" and calendar.next_session(day) == expiry:
            return opening, self._shift(day, h.expiring_option_close, h.early_close_extension_min)
        return opening, self._shift(day, h.option_close, h.early_close_extension_min)

    def option_trading(self, underlying: str, expiry: date, ts: datetime) -> bool:
        """True if an option of ``underlying`` expiring ``expiry`` can trade at instant ``ts``."""
        day = ts.astimezone(NY).date()
        span = self.option_hours(underlying, day, expiry)
        return span is not None and span[0] <= ts < span[1]
