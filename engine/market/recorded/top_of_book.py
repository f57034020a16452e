"""Recorded top-of-book streams (best bid/ask with sizes, plus the last trade) from CSV.

Built for real broker-screen recordings such as ``pecuniary/dom_data_SPY_*.csv``
(``timestamp,symbol,bid_price,bid_size,ask_price,ask_size,trade_price,trade_size,last_updated``)
and their quirks: CRLF line ends, sizes with thousands commas (``"1,922"``), 2 or 4 decimals,
rows repeated while nothing changed (sampling, not ticks: repeats are dropped), the odd crossed
row (bid and ask sampled at different instants: dropped and counted), one-sided rows
after hours (empty ask: kept as a bid-only quote with ask 0), naive timestamps in the
recorder's local time.

Time zone: ``tz="auto"`` finds it from the data. Regular-session spreads are tight and
after-hours spreads wide, so the zone in which the tight/wide switch lines up with the
exchange's 09:30–16:00 session is the recorder's zone (a file recorded in California shows
the close at 13:00). Candidates are the US zones and UTC; without a clear winner the file is
read as New York time. An explicit ``tz`` skips the guess.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market.recorded import symbol_from_filename

CANDIDATE_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "UTC")
_ALIASES = {
    "ts": ("timestamp", "time", "datetime", "ts"),
    "symbol": ("symbol", "ticker", "sym"),
    "bid": ("bid_price", "bid", "bidprice"),
    "bid_size": ("bid_size", "bidsize", "bid_qty"),
    "ask": ("ask_price", "ask", "askprice", "offer"),
    "ask_size": ("ask_size", "asksize", "ask_qty", "offer_size"),
    "last": ("trade_price", "last", "last_price", "price"),
    "last_size": ("trade_size", "last_size", "size"),
}


@dataclass(frozen=True, slots=True)
class QuoteTape:
    """Column arrays of one symbol's recorded quotes, time-ordered, repeats removed."""

    symbol: str
    zone: str
    ts_ns: np.ndarray  # UTC epoch nanoseconds
    bid: np.ndarray
    ask: np.ndarray  # 0 where the book had no ask
    bid_size: np.ndarray
    ask_size: np.ndarray
    last: np.ndarray  # NaN where no trade was shown
    last_size: np.ndarray
    raw_rows: int
    crossed: int = 0  # crossed rows dropped

    def __len__(self) -> int:
        return int(self.ts_ns.size)


def looks_like_top_of_book(header: str) -> bool:
    h = header.lower()
    return ("bid" in h and "ask" in h) and "open" not in h


def _num(text: str) -> float:
    s = text.strip().replace(",", "")
    return float(s) if s else math.nan


def read_top_of_book(path: str | Path, *, tz: str = "auto", symbol: str | None = None) -> QuoteTape:
    """Read a top-of-book CSV; :class:`InvalidInput` names the line of the first bad row."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader)]
    col = {k: next((header.index(a) for a in opts if a in header), None) for k, opts in _ALIASES.items()}
    for need in ("ts", "bid", "ask"):
        if col[need] is None:
            raise InvalidInput(f"{p.name}: no {need} column in header {','.join(header)}")
    stamps: list[datetime] = []
    vals: list[tuple[float, ...]] = []
    sym = symbol.upper() if symbol else None
    crossed = 0
    for n, rec in enumerate(reader, start=2):
        if not rec or not any(c.strip() for c in rec):
            continue
        try:
            ts = datetime.fromisoformat(rec[col["ts"]].strip())
            row = tuple(_num(rec[col[k]]) if col[k] is not None else math.nan
                        for k in ("bid", "ask", "bid_size", "ask_size", "last", "last_size"))
            b, a = row[0], row[1]
            if not math.isfinite(b) and not math.isfinite(a):
                raise ValueError("no bid and no ask")
            if (math.isfinite(b) and b < 0) or (math.isfinite(a) and a < 0):
                raise ValueError("negative price")
            if math.isfinite(b) and math.isfinite(a) and a > 0 and b > a:
                crossed += 1  # a sampling artefact (bid and ask read at different instants)
                continue
            if col["symbol"] is not None:
                s = rec[col["symbol"]].strip().upper()
                sym = sym or s
                if s and s != sym:
                    raise ValueError(f"symbol {s} in a file of {sym}")
        except (ValueError, IndexError) as err:
            raise InvalidInput(f"{p.name} line {n}: {err}") from None
        stamps.append(ts)
        vals.append(row)
    if not vals:
        raise InvalidInput(f"{p.name}: no quote rows")
    if sym is None:
        sym = symbol_from_filename(p)
    arr = np.array(vals, dtype=float)
    zone = detect_zone(stamps, arr[:, 0], arr[:, 1]) if tz == "auto" else tz
    z = ZoneInfo(zone)
    ts_ns = np.array([int(t.replace(tzinfo=z).timestamp() * 1e9) if t.tzinfo is None else
                      int(t.timestamp() * 1e9) for t in stamps], dtype=np.int64)
    order = np.argsort(ts_ns, kind="stable")
    ts_ns, arr = ts_ns[order], arr[order]
    keep = np.ones(len(arr), dtype=bool)
    same = np.all((arr[1:] == arr[:-1]) | (np.isnan(arr[1:]) & np.isnan(arr[:-1])), axis=1)
    keep[1:] = ~same
    arr, ts_ns = arr[keep], ts_ns[keep]
    return QuoteTape(sym, zone, ts_ns, np.nan_to_num(arr[:, 0]), np.nan_to_num(arr[:, 1]),
                     np.nan_to_num(arr[:, 2]).astype(np.int64), np.nan_to_num(arr[:, 3]).astype(np.int64),
                     arr[:, 4], np.nan_to_num(arr[:, 5]).astype(np.int64), len(vals) + crossed, crossed)


def detect_zone(stamps: list[datetime], bid: np.ndarray, ask: np.ndarray) -> str:
    """The candidate zone in which wide spreads fall outside 09:30–16:00 New York (see module).

    A spread is wide above ten times the file's median. For each zone, score = share of the wide
    rows that fall outside the session − share of the tight rows that do (so a zone that puts
    everything outside scores nothing); the best zone must beat New York by 0.05.
    """
    two = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask > 0)
    if two.sum() < 40:
        return "America/New_York"
    spread = (ask - bid)[two]
    wide = spread > 10 * max(float(np.median(spread)), 0.01)
    naive = [t for t, ok in zip(stamps, two, strict=True) if ok]
    scores = {}
    for name in CANDIDATE_ZONES:
        z = ZoneInfo(name)
        local = [t.replace(tzinfo=z).astimezone(NY) for t in naive]
        minutes = np.array([x.hour * 60 + x.minute for x in local])
        outside = (minutes < 9 * 60 + 30) | (minutes >= 16 * 60)
        if not wide.any() or wide.all():
            scores[name] = 0.0
            continue
        scores[name] = float(outside[wide].mean() - outside[~wide].mean())
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= scores["America/New_York"] + 0.05 else "America/New_York"
