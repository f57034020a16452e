"""Reading trade files: the project's trade CSV, and (via :mod:`engine.tax.flex`) IB Flex exports.

All-or-nothing: the first bad row raises :class:`InvalidInput` naming the file, the row, the
field and the reason, and nothing from that file is imported. Paper rows are validated like any
other (a malformed file is malformed) and then dropped: paper trades are never part of tax.

Every parsed trade carries a dedupe ``key``: for the project CSV a hash of its fields plus its
occurrence number among identical rows of the file (two identical fills in one file are two
trades; the same file imported twice adds nothing); for IB the execution id.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import InvalidInput
from engine.tax.config import TaxConfig
from engine.tax.trades import CSV_HEADER, TaxTrade, make_trade


@dataclass(frozen=True, slots=True)
class ParsedTrade:
    trade: TaxTrade
    key: str


@dataclass(slots=True)
class ParsedFile:
    name: str
    kind: str          # csv | flex-xml | flex-csv
    sha256: str
    trades: list[ParsedTrade]
    paper_rows: int = 0
    skipped_rows: int = 0


def read_file(path: str | Path, config: TaxConfig) -> ParsedFile:
    """Parse a trade file of any supported kind; :class:`InvalidInput` on the first bad row."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InvalidInput(f"cannot read {p}: {err.strerror or err}", field="file") from None
    return parse_bytes(data, p.name, config)


def parse_bytes(data: bytes, name: str, config: TaxConfig) -> ParsedFile:
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text", field="file") from None
    if not text.strip():
        raise InvalidInput(f"{name}: the file is empty", field="file")
    from engine.tax import flex

    if text.lstrip().startswith("<"):
        return flex.parse_xml(text, name, digest, config)
    first = next((r for r in csv.reader(io.StringIO(text.lstrip()))
                  if r and r[0].strip().upper() not in flex.MARKERS), [])
    header = [h.strip().lower() for h in first]
    if tuple(header) == CSV_HEADER:
        return parse_project_csv(text, name, digest, config)
    if flex.looks_like_flex_header(first):
        return flex.parse_csv(text, name, digest, config)
    raise InvalidInput(f"{name}: unrecognized header {','.join(first)!r}; expected "
                       f"{','.join(CSV_HEADER)!r} or an Interactive Brokers Flex Query trade export",
                       field="file")


def fail_row(name: str, where: str, err: InvalidInput) -> InvalidInput:
    field = f" ({err.field})" if err.field else ""
    return InvalidInput(f"{name} {where}{field}: {err.message}; nothing was imported", field=err.field)


def occurrence_keys(prefix: str) -> Callable[[tuple[str, ...]], str]:
    """Keys from row fields, numbering repeats so identical rows stay distinct trades."""
    seen: dict[str, int] = {}

    def key(fields: tuple[str, ...]) -> str:
        base = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:40]
        n = seen.get(base, 0)
        seen[base] = n + 1
        return f"{prefix}:{base}:{n}"

    return key


def parse_project_csv(text: str, name: str, digest: str, config: TaxConfig) -> ParsedFile:
    """``datetime,account,symbol,side,quantity,price,fees`` (see :mod:`engine.tax.trades`)."""
    out = ParsedFile(name, "csv", digest, [])
    reader = csv.reader(io.StringIO(text.lstrip()))
    next(reader)
    key = occurrence_keys("csv")
    for n, cells in enumerate(reader, start=1):
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        where = f"row {n} (line {line})"
        if len(cells) != len(CSV_HEADER):
            raise fail_row(name, where, InvalidInput(
                f"has {len(cells)} fields, expected {len(CSV_HEADER)} ({','.join(CSV_HEADER)})"))
        f = dict(zip(CSV_HEADER, (c.strip() for c in cells), strict=True))
        try:
            t = make_trade(datetime_=f["datetime"], account=f["account"], symbol=f["symbol"], side=f["side"],
                           quantity=f["quantity"], price=f["price"], fees=f["fees"], source="csv",
                           ref=f"{name} {where}", overrides=config.section_1256)
        except InvalidInput as err:
            raise fail_row(name, where, err) from None
        if config.is_paper(t.account):
            out.paper_rows += 1
            continue
        fields = (t.ts.isoformat(), t.account, t.symbol, t.side.value, str(t.quantity), str(t.price), str(t.fees))
        out.trades.append(ParsedTrade(t, key(fields)))
    return out
