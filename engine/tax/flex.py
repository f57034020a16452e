"""Interactive Brokers Flex Query trade exports, XML and CSV.

A Flex Query with a *Trades* section exports one record per execution. XML (attributes, camelCase)::

    <FlexQueryResponse queryName="tax" type="AF"><FlexStatements count="1">
      <FlexStatement accountId="U1234567" fromDate="20250101" toDate="20251231" ...>
        <Trades>
          <Trade accountId="U1234567" currency="USD" assetCategory="OPT" symbol="SPY   250307C00510000"
                 underlyingSymbol="SPY" multiplier="100" strike="510" expiry="20250307" putCall="C"
                 tradeID="812345671" ibExecID="0000e0d5.67c5b7d2.01.01" tradeDate="20250303"
                 dateTime="20250303;101500" quantity="2" tradePrice="1.25" ibCommission="-1.3"
                 buySell="BUY" openCloseIndicator="O" notes="" levelOfDetail="EXECUTION"/>

CSV uses the display names as header (``ClientAccountID,AssetClass,Symbol,...,Put/Call,...,
TradePrice,IBCommission,Buy/Sell,Open/CloseIndicator,Notes/Codes``), optionally with the
``HEADER,TRNT,…``/``DATA,TRNT,…`` section prefixes and ``BOF``/``EOF`` marker lines.

Mapping to the project's trade rows:

* ``Quantity`` is signed (sells negative); ``IBCommission`` is negative when paid → ``fees``;
  ``DateTime`` (``yyyyMMdd;HHmmss`` and the other Flex date/time formats) is US Eastern;
* Notes/Codes ``Ep`` = expired → ``EXPIRE``; ``A`` = assigned → ``ASSIGN``; ``Ex`` = exercised →
  ``EXERCISE``. IB also books the resulting stock trade (an STK row with code ``A``/``Ex`` at the
  strike); the tax engine creates that trade itself from the option row (folding in the premium),
  so those stock rows are skipped — and refused if the file lacks the option row behind them;
* only execution-level rows are read when the file also has order or closed-lot summaries;
* accounts map through ``SMART0DTE_TAX__FLEX_ACCOUNTS`` (IB id → tax account; default ``live``).

Refused, naming the row: non-USD trades, asset classes other than STK/OPT, options with a
non-standard multiplier (adjusted contracts), cancelled executions (``BUY (Ca.)``), a quantity sign
that contradicts Buy/Sell.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from engine.core.errors import InvalidInput
from engine.core.instruments import OptionContract, Right, looks_like_option
from engine.tax.config import TaxConfig
from engine.tax.imports import ParsedFile, ParsedTrade, fail_row, occurrence_keys
from engine.tax.trades import make_trade

_ALIASES = {
    "accountid": "account", "clientaccountid": "account", "currency": "currency",
    "currencyprimary": "currency", "assetcategory": "asset", "assetclass": "asset", "symbol": "symbol",
    "underlyingsymbol": "underlying", "multiplier": "multiplier", "strike": "strike", "expiry": "expiry",
    "putcall": "putcall", "tradeid": "tradeid", "ibexecid": "execid", "tradedate": "tradedate",
    "datetime": "datetime", "quantity": "quantity", "tradeprice": "price", "ibcommission": "commission",
    "buysell": "buysell", "opencloseindicator": "openclose", "notescodes": "notes", "notes": "notes",
    "levelofdetail": "level", "description": "description",
}
MARKERS = {"BOF", "EOF", "BOA", "EOA", "BOS", "EOS"}
_DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d-%b-%y", "%m/%d/%y")
_TIME_FORMATS = ("%H%M%S", "%H:%M:%S", "%H%M", "%H:%M")


def _norm(name: str) -> str:
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", name.lower()), "")


def looks_like_flex_header(cells: list[str]) -> bool:
    if cells and cells[0].strip().upper() == "HEADER":
        cells = cells[2:]
    names = {_norm(c) for c in cells}
    return {"symbol", "quantity", "price"} <= names and ("buysell" in names or "asset" in names)


def parse_xml(text: str, name: str, digest: str, config: TaxConfig) -> ParsedFile:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise InvalidInput(f"{name}: not well-formed XML ({err})", field="file") from None
    if root.tag not in ("FlexQueryResponse", "FlexStatements", "FlexStatement"):
        raise InvalidInput(f"{name}: XML root <{root.tag}> is not an IB Flex Query response", field="file")
    records = []
    for i, el in enumerate(root.iter("Trade"), start=1):
        rec = {_norm(k): v for k, v in el.attrib.items()}
        rec.pop("", None)
        records.append((f"row {i} (<Trade> #{i}{_tid(rec)})", rec))
    return _convert(records, name, digest, "flex-xml", config)


def parse_csv(text: str, name: str, digest: str, config: TaxConfig) -> ParsedFile:
    reader = csv.reader(io.StringIO(text.lstrip()))
    header: list[str] | None = None
    records = []
    n = 0
    for cells in reader:
        if not any(c.strip() for c in cells) or cells[0].strip().upper() in MARKERS:
            continue
        if cells[0].strip().upper() in ("HEADER", "DATA"):
            kind, cells = cells[0].strip().upper(), cells[2:]
            if kind == "HEADER":
                header = [_norm(c) for c in cells]
                continue
        elif header is None or looks_like_flex_header(cells):
            header = [_norm(c) for c in cells]
            continue
        n += 1
        where = f"row {n} (line {reader.line_num})"
        if len(cells) != len(header):
            raise fail_row(name, where, InvalidInput(f"has {len(cells)} fields, the header has {len(header)}"))
        rec = {k: v.strip() for k, v in zip(header, cells, strict=True) if k}
        records.append((where, rec))
    return _convert(records, name, digest, "flex-csv", config)


def _tid(rec: dict[str, str]) -> str:
    return f", tradeID {rec['tradeid']}" if rec.get("tradeid") else ""


def _convert(records: list[tuple[str, dict[str, str]]], name: str, digest: str, kind: str,
             config: TaxConfig) -> ParsedFile:
    out = ParsedFile(name, kind, digest, [])
    has_exec = any(r.get("level", "").upper() == "EXECUTION" for _, r in records)
    option_events: set[tuple[str, date]] = set()
    stock_events: list[tuple[str, str, date]] = []
    key = occurrence_keys("ib")
    for where, rec in records:
        level = rec.get("level", "").upper()
        if (has_exec and level != "EXECUTION") or level in ("CLOSED_LOT", "SYMBOL_SUMMARY", "ASSET_SUMMARY"):
            out.skipped_rows += 1
            continue
        try:
            fields, codes = _fields(rec, config)
        except InvalidInput as err:
            raise fail_row(name, where, err) from None
        asset = rec.get("asset", "").upper()
        day = fields["datetime_"].date()
        if asset == "STK" and codes & {"A", "EX"}:
            stock_events.append((where, fields["symbol"], day))
            out.skipped_rows += 1
            continue
        try:
            t = make_trade(**fields, source=kind, ref=f"{name} {where}", overrides=config.section_1256)
        except InvalidInput as err:
            raise fail_row(name, where, err) from None
        if t.side.value in ("ASSIGN", "EXERCISE"):
            option_events.add((t.security.underlying, day))
        if config.is_paper(t.account):
            out.paper_rows += 1
            continue
        ident = rec.get("execid") or rec.get("tradeid")
        k = f"ib:{ident}:{t.side.value}" if ident else key(tuple(str(v) for v in fields.values()))
        out.trades.append(ParsedTrade(t, k))
    for where, symbol, day in stock_events:
        if (symbol.strip().upper(), day) not in option_events:
            raise fail_row(name, where, InvalidInput(
                f"stock delivery from an assignment/exercise of {symbol} on {day} without the option row "
                "that caused it (the engine books the stock from that row)", field="notes"))
    return out


def _fields(rec: dict[str, str], config: TaxConfig) -> tuple[dict, set[str]]:
    """The project-row fields of one Flex record, and its upper-cased Notes/Codes."""
    currency = rec.get("currency", "USD").upper() or "USD"
    if currency != "USD":
        raise InvalidInput(f"currency {currency} is not supported (USD only)", field="currency")
    asset = rec.get("asset", "").upper()
    if asset not in ("STK", "OPT"):
        raise InvalidInput(f"asset class {asset or '(empty)'} is not supported (STK and OPT only)", field="asset")
    buysell = rec.get("buysell", "").upper()
    if "(CA.)" in buysell.replace(" ", ""):
        raise InvalidInput("cancelled execution rows are not supported; export without cancellations",
                           field="buysell")
    qty = _dec(rec.get("quantity"), "quantity")
    side = buysell or ("BUY" if qty > 0 else "SELL")
    if side not in ("BUY", "SELL"):
        raise InvalidInput(f"Buy/Sell {buysell!r} must be BUY or SELL", field="buysell")
    if qty == 0 or (qty > 0) != (side == "BUY"):
        raise InvalidInput(f"quantity {rec.get('quantity')} contradicts Buy/Sell {side}", field="quantity")
    codes = {c.strip().upper() for c in re.split(r"[;,]", rec.get("notes", "")) if c.strip()}
    symbol = _symbol(rec, asset)
    if asset == "OPT":
        if "EP" in codes:
            side = "EXPIRE"
        elif "A" in codes:
            side = "ASSIGN"
        elif "EX" in codes:
            side = "EXERCISE"
    commission = _dec(rec.get("commission") or "0", "commission")
    account_id = rec.get("account", "").strip()
    account = config.flex_accounts.get(account_id, "live")
    return {"datetime_": _when(rec.get("datetime", ""), rec.get("tradedate", "")), "account": account,
            "symbol": symbol, "side": side, "quantity": abs(qty), "price": _dec(rec.get("price"), "price"),
            "fees": max(-commission, Decimal(0))}, codes


def _symbol(rec: dict[str, str], asset: str) -> str:
    raw = rec.get("symbol", "").strip()
    if asset == "STK":
        if not raw:
            raise InvalidInput("symbol is empty", field="symbol")
        return raw
    mult = rec.get("multiplier", "100").strip() or "100"
    if _dec(mult, "multiplier") != 100:
        raise InvalidInput(f"option multiplier {mult} is not 100 (adjusted contracts are not supported)",
                           field="multiplier")
    if looks_like_option(raw):
        return raw
    try:  # build the OCC symbol from the contract fields
        expiry = _day(rec.get("expiry", ""))
        opt = OptionContract.of(rec.get("underlying") or raw, expiry, Right.parse(rec.get("putcall", "")),
                                rec.get("strike", ""))
    except (ValueError, InvalidInput) as err:
        raise InvalidInput(f"option {raw!r}: cannot build its OCC symbol ({err})", field="symbol") from None
    return opt.occ


def _dec(value: str | None, field: str) -> Decimal:
    try:
        return Decimal(str(value or "").strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{field} {value!r} is not a number", field=field) from None


def _day(text: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"date {text!r} is not a Flex date (yyyyMMdd, yyyy-MM-dd, MM/dd/yyyy)", field="datetime")


def _when(dt: str, trade_date: str) -> datetime:
    """Flex DateTime (``20250303;101500``, ``2025-03-03, 10:15:00``...) as naive Eastern time."""
    text = (dt or trade_date).strip()
    if not text:
        raise InvalidInput("DateTime and TradeDate are both empty", field="datetime")
    parts = [p for p in re.split(r"[;, T]+", text) if p]
    day = _day(parts[0])
    if len(parts) == 1:
        return datetime.combine(day, time(16, 0))  # a date only: at the close
    for fmt in _TIME_FORMATS:
        try:
            return datetime.combine(day, datetime.strptime(parts[1], fmt).time())
        except ValueError:
            continue
    raise InvalidInput(f"time {parts[1]!r} is not a Flex time (HHmmss or HH:mm:ss)", field="datetime")
