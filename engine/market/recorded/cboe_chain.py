"""Cboe "quote data" chain downloads → one :class:`ChainSnapshot` per expiry, spot from parity.

Layout (Cboe's delayed quote table export): a blank first line; line 2 the underlying
(``SPDR S&P 500 ETF Trust,Last: 589.25,Change: 3.74``); line 3 the stamp and underlying quote
(``"Date: May 16, 2025 at 7:23 PM EDT",Bid: 589.26,Ask: 589.35,…``); line 4 the header
(``Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,
Last Sale,…``: calls then puts on one row); then one row per strike and expiry.

The header's ``Last`` can be stale against the options (a delayed page saved after the close),
so the spot is **derived from put–call parity** on the nearest expiry: for strikes near the money
with two-sided quotes, ``S = C − P + K·e^(−rT)`` (the nearest expiry has almost no carry or
dividend in it), median over the strikes closest to ``C = P``. Later expiries' parity values are
forwards (they drift up with carry), which is why only the nearest expiry sets the spot.
Vendor IV and delta go to ``vendor_iv``/``vendor_delta``; an IV of 0 (Cboe's "not computed",
common after the close) becomes NaN.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.core.instruments import parse_occ
from engine.core.marketdata import ChainSnapshot

SOURCE = "replay"
_STAMP = re.compile(r"Date:\s*(.+?)\s+at\s+(\d{1,2}:\d{2}\s*[AP]M)", re.I)


@dataclass(frozen=True, slots=True)
class RecordedChains:
    """All expiries of one recorded chain file."""

    underlying: str
    ts: datetime
    spot: float
    header_last: float | None
    chains: dict[date, ChainSnapshot]

    def expirations(self) -> list[date]:
        return sorted(self.chains)


def looks_like_cboe_chain(head: str) -> bool:
    return "Expiration Date" in head and "Calls" in head and "Puts" in head


def _num(text: str) -> float:
    s = text.strip().replace(",", "")
    return float(s) if s else math.nan


def parity_spot(strikes: np.ndarray, call_mid: np.ndarray, put_mid: np.ndarray, years: float,
                rate: float, n_near: int = 5) -> float:
    """Spot implied by put–call parity from the strikes where ``C − P`` is smallest in size."""
    ok = np.isfinite(call_mid) & np.isfinite(put_mid)
    if not ok.any():
        return math.nan
    k, c, p = strikes[ok], call_mid[ok], put_mid[ok]
    near = np.argsort(np.abs(c - p))[:n_near]
    return float(np.median(c[near] - p[near] + k[near] * math.exp(-rate * max(years, 0.0))))


def _mid(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    good = (bid > 0) & (ask > 0) & (ask >= bid)
    return np.where(good, (bid + ask) / 2.0, np.nan)


def read_cboe_chain(path: str | Path, *, rate: float = 0.043) -> RecordedChains:
    """Parse a Cboe quote-data CSV; :class:`InvalidInput` names the line of a bad row."""
    p = Path(path)
    lines = p.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
    hdr = next((i for i, ln in enumerate(lines) if looks_like_cboe_chain(ln)), None)
    if hdr is None:
        raise InvalidInput(f"{p.name}: no 'Expiration Date,Calls,…,Puts' header: not a Cboe chain file")
    ts = _stamp(lines[:hdr], p.name)
    m = re.search(r"Last:\s*([\d.,]+)", "\n".join(lines[:hdr]))
    header_last = _num(m.group(1)) if m else None
    rows: dict[date, list[tuple]] = {}
    underlying = None
    for n, rec in enumerate(csv.reader(io.StringIO("\n".join(lines[hdr + 1:]))), start=hdr + 2):
        if not rec or not any(c.strip() for c in rec):
            continue
        try:
            if len(rec) < 22:
                raise ValueError(f"has {len(rec)} fields, expected 22")
            call, put = parse_occ(rec[1]), parse_occ(rec[12])
            expiry = datetime.strptime(rec[0].strip(), "%a %b %d %Y").date()
            if call.expiry != expiry or put.expiry != expiry:
                raise ValueError("symbols do not match the expiration date")
            strike = _num(rec[11])
            side = [tuple(_num(x) for x in rec[2:11]), tuple(_num(x) for x in rec[13:22])]
        except (ValueError, InvalidInput) as err:
            raise InvalidInput(f"{p.name} line {n}: {err}") from None
        underlying = underlying or call.underlying
        rows.setdefault(expiry, []).append((strike, call.occ, put.occ, side[0], side[1]))
    if not rows:
        raise InvalidInput(f"{p.name}: no option rows")
    nearest = min(rows)
    t_near = max((datetime(nearest.year, nearest.month, nearest.day, 16, tzinfo=NY) - ts).total_seconds(), 0.0)
    strikes, calls, puts = _sides(rows[nearest])
    spot = parity_spot(strikes, _mid(calls[:, 2], calls[:, 3]), _mid(puts[:, 2], puts[:, 3]),
                       t_near / (365 * 86400), rate)
    if not math.isfinite(spot):
        spot = header_last or math.nan
    chains = {e: _snapshot(underlying or "", e, ts, spot, r) for e, r in rows.items()}
    return RecordedChains(underlying or "", ts, spot, header_last, chains)


def _stamp(head: list[str], name: str) -> datetime:
    m = _STAMP.search("\n".join(head))
    if not m:
        raise InvalidInput(f"{name}: no 'Date: … at h:mm AM/PM' stamp above the header")
    when = datetime.strptime(f"{m.group(1).strip()} {m.group(2).replace(' ', '')}", "%B %d, %Y %I:%M%p")
    return when.replace(tzinfo=NY)


def _sides(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    strikes = np.array([r[0] for r in rows], dtype=float)
    calls = np.array([r[3] for r in rows], dtype=float)  # last, net, bid, ask, vol, iv, delta, gamma, oi
    puts = np.array([r[4] for r in rows], dtype=float)
    return strikes, calls, puts


def _snapshot(underlying: str, expiry: date, ts: datetime, spot: float, rows: list[tuple]) -> ChainSnapshot:
    rows = sorted(rows, key=lambda r: r[0])
    strikes, calls, puts = _sides(rows)
    n = len(rows)
    both = np.empty((2 * n, 9))
    both[0::2], both[1::2] = calls, puts
    syms = tuple(s for r in rows for s in (r[1], r[2]))
    iv = both[:, 5]
    return ChainSnapshot(
        underlying=underlying, expiry=expiry, ts=ts, spot=spot, symbols=syms,
        strikes=np.repeat(strikes, 2), is_call=np.tile([True, False], n),
        bid=np.nan_to_num(both[:, 2]), ask=np.nan_to_num(both[:, 3]),
        bid_size=np.zeros(2 * n, dtype=np.int64), ask_size=np.zeros(2 * n, dtype=np.int64),
        last=both[:, 0], volume=np.nan_to_num(both[:, 4]).astype(np.int64),
        open_interest=np.nan_to_num(both[:, 8]).astype(np.int64),
        vendor_iv=np.where(iv > 0, iv, np.nan), vendor_delta=both[:, 6], source=SOURCE, session=ts.date())

