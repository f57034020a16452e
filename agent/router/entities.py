"""Entities of trading language found in normalised text: tickers, structures, sides, rights,
deltas, widths, strikes, quantities, prices, times of day, take-profit/stop-loss.

Each finder is a small pure function over the normalised string so it can be tested alone; the
router (:mod:`agent.router.parse`) combines them per tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time

TICKERS = ("spy", "qqq", "iwm", "vix", "spx", "ndx", "rut")
_TICKER_ALIASES = {"s&p": "spy", "s&p500": "spy", "sp500": "spy", "spx500": "spy", "nasdaq": "qqq",
                   "qs": "qqq", "cubes": "qqq", "russell": "iwm", "rty": "iwm", "small caps": "iwm",
                   "volatility index": "vix", "the market": "spy", "the s&p": "spy"}
STRUCTURE_WORDS = {"iron_condor": "iron_condor", "iron_butterfly": "iron_butterfly", "butterfly": "butterfly",
                   "straddle": "straddle", "strangle": "strangle", "vertical": "vertical", "spread": "vertical",
                   "calendar": "calendar"}
OCC_RE = re.compile(r"\b([a-z]{1,6})(\d{6})([cp])(\d{8})\b")
_NUM = r"(\d+(?:\.\d+)?|\.\d+)"


@dataclass
class Entities:
    tickers: list[str] = field(default_factory=list)
    occ: str | None = None
    structure: str | None = None
    side: str | None = None
    right: str | None = None
    rights: set[str] = field(default_factory=set)
    deltas: list[float] = field(default_factory=list)
    width: float | None = None
    strikes: list[float] = field(default_factory=list)
    quantity: int | None = None
    price: float | None = None
    market: bool = False
    times: list[tuple[str, time]] = field(default_factory=list)
    take_profit: float | None = None
    stop_loss: float | None = None
    credit: bool | None = None

    @property
    def ticker(self) -> str | None:
        return self.tickers[0].upper() if self.tickers else None


def find_tickers(t: str) -> list[str]:
    for alias, tick in _TICKER_ALIASES.items():
        t = re.sub(rf"(?<![\w&]){re.escape(alias)}(?![\w&])", tick, t)
    found = re.findall(r"(?<![\w])(?:\$|\^|i:)?(spy|qqq|iwm|vix|spx|spxw|ndx|rut)\b", t)
    out: list[str] = []
    for x in found:
        x = "spx" if x == "spxw" else x
        if x not in out:
            out.append(x)
    return out


def find_structure(t: str) -> str | None:
    for m in re.finditer(r"\b(iron_condor|iron_butterfly|butterfly|straddle|strangle|vertical|spread|calendar)\b", t):
        return STRUCTURE_WORDS[m.group(1)]
    return None


def find_side(t: str) -> str | None:
    m = re.search(r"\b(sell|sold|selling|short|shorting|write|writing|collect|buy|bought|buying|long|purchase)\b", t)
    if not m:
        return None
    return "buy" if m.group(1) in ("buy", "bought", "buying", "long", "purchase") else "sell"


def find_rights(t: str) -> list[str]:
    """Rights in order of mention, from words (call/put) and strike suffixes (600c, 590p)."""
    out = []
    for m in re.finditer(r"\b(call|put)\b|\b\d+(?:\.\d+)?([cp])\b", t):
        r = m.group(1) or ("call" if m.group(2) == "c" else "put")
        out.append(r)
    return out


def find_deltas(t: str) -> list[float]:
    """``10d``, ``10 delta``, ``0.10 delta``, ``delta 10``, ``at 10Δ`` → 0.10."""
    vals = [m.group(1) for m in re.finditer(rf"(?<![\w.:/-]){_NUM}\s*(?:d|delta|Δ|δ)\b(?!\s*(?:days?|ago))", t)]
    vals += [m.group(1) for m in re.finditer(rf"\bdelta\s+(?:of\s+)?{_NUM}\b(?!\s*(?:wide|w|point|pts?|dollar|"
                                             rf"strikes?|contracts?|lots?|x|%|days?|d|delta)\b)", t)]
    out = []
    for v in vals:
        x = float(v)
        x = x / 100 if x >= 1 else x
        if 0 < x < 1 and round(x, 4) not in out:
            out.append(round(x, 4))
    return out


def find_width(t: str) -> float | None:
    pats = (rf"(?:\$\s*)?{_NUM}\s*(?:point|pt|pts|points|dollar|\$)?\s*(?:wide|w)\b",
            rf"\b(?:wings?|width|wide)\s+(?:of\s+)?(?:\$\s*)?{_NUM}\b",
            rf"{_NUM}\s*(?:point|pt|pts|points|dollar)\s+wings?\b")
    for p in pats:
        m = re.search(p, t)
        if m:
            return float(m.group(1))
    return None


def find_strikes(t: str) -> list[float]:
    """Strikes: ``600 call``, ``600c``, ``590/585 put``, ``the 600 and 605 calls``, ``strike 600``."""
    out: list[float] = []
    m = re.search(rf"\b{_NUM}\s*/\s*{_NUM}(?:\s*/\s*{_NUM})?(?:\s*/\s*{_NUM})?\b", t)
    if m and not re.search(r"\d+/\d+/\d+", m.group(0)) and all(
            float(g) >= 20 for g in m.groups() if g is not None):
        out = [float(g) for g in m.groups() if g is not None]
    for mm in re.finditer(rf"(?<![\w.]){_NUM}\s*(?:strike\s*)?(?:c|p|call|put)\b", t):
        v = float(mm.group(1))
        if v >= 20 and v not in out:
            out.append(v)
    for mm in re.finditer(rf"\bstrikes?\s+(?:of\s+)?{_NUM}\b", t):
        v = float(mm.group(1))
        if v >= 20 and v not in out:
            out.append(v)
    return out


def find_quantity(t: str) -> int | None:
    m = re.search(r"\b(\d+)\s*(?:x\s+)?(?:contract|lot|unit|cars?)\b", t) or re.search(r"\bx\s*(\d+)\b", t) \
        or re.search(r"\b(?:quantity|size)\s+(?:of\s+)?(\d+)\b", t)
    if m:
        return int(m.group(1))
    # a small count right after the verb: "sell 2 spy ic", "buy 3 qqq 500 puts"; never a delta or strike
    m = re.search(r"\b(?:sell|buy|short|write|open|place|trade|enter)\s+(\d+)\b(?!\s*(?:d|delta|wide|w|dte|%|"
                  r"point|pts?|c|p|call|put|strike|/|\.\d))", t)
    if m and 0 < int(m.group(1)) < 500:
        return int(m.group(1))
    m = re.search(r"\b(\d+)\s+(?:spy|qqq|iwm|vix|spx)\s+(?:0dte\s+)?(?:iron_condor|iron_butterfly|butterfly|"
                  r"straddle|strangle|vertical|calendar)", t)
    if m:
        return int(m.group(1))
    return None


def find_price(t: str) -> float | None:
    pats = (rf"(?:@|\blimit\b|\blmt\b|\bfor\b|\bprice\b|\bcredit of\b|\bdebit of\b|\bpay\b|\bcollect\b)\s*(?:of\s+)?"
            rf"(?:\$\s*)?{_NUM}(?!\s*(?:d|delta|wide|w|dte|days?|weeks?|months?|years?|strikes?|contracts?|lots?|"
            rf"%|:|am|pm|/))\b",
            r"\bat\s+(?:\$\s*)?(\d*\.\d+)\b(?!\s*(?:d|delta|wide|w|:|am|pm))",
            rf"\bat\s+\$\s*{_NUM}\b")
    for p in pats:
        m = re.search(p, t)
        if m:
            v = float(m.group(1))
            if 0 < v < 1000:
                return v
    return None


_TIME = re.compile(r"(?<![\d.:/$])(\d{1,2})(?::(\d{2})|\.(\d{2}))?\s*(am|pm)?\b(?!\s*(?:d|delta|wide|w|dte|days?|"
                   r"%|/|x|contracts?|lots?|strikes?|call|put|c|p)\b)")


def _clock(h: int, mins: int, ampm: str | None) -> time | None:
    if ampm == "pm" and h < 12:
        h += 12
    elif ampm == "am" and h == 12:
        h = 0
    elif ampm is None and 1 <= h <= 8:  # trading hours: "at 3:50" is the afternoon
        h += 12
    if not (0 <= h <= 23 and 0 <= mins <= 59):
        return None
    return time(h, mins)


def find_times(t: str) -> list[tuple[str, time]]:
    """Times of day tagged ``entry`` or ``exit`` by the word before them (``at``/``enter``/``exit``…)."""
    out: list[tuple[str, time]] = []
    for m in re.finditer(r"\b(at|enter(?:ed|ing)?|entry|open(?:ed|ing)?|start(?:ing)?|exit(?:ing)?|close|closing|"
                         r"out|until|by|till|flatten)\s+(?:at\s+|by\s+)?", t):
        tm = _TIME.match(t, m.end())
        if not tm:
            continue
        has_clock = tm.group(2) or tm.group(3) or tm.group(4)
        if not has_clock and m.group(1) in ("at", "by", "out", "until", "till"):
            hour = int(tm.group(1))
            if not (9 <= hour <= 12 or 1 <= hour <= 4):
                continue
        value = _clock(int(tm.group(1)), int(tm.group(2) or tm.group(3) or 0), tm.group(4))
        if value is None:
            continue
        kind = "exit" if m.group(1) in ("exit", "exiting", "close", "closing", "out", "until", "by", "till",
                                        "flatten") else "entry"
        out.append((kind, value))
    return out


def find_tp_sl(t: str) -> tuple[float | None, float | None]:
    def pct(v: str, unit: str | None, *, multiple_ok: bool) -> float:
        x = float(v)
        if unit == "%":
            return x / 100
        if unit == "x":
            return x
        return x / 100 if x > (10 if multiple_ok else 1) else x

    tp = sl = None
    m = re.search(rf"{_NUM}\s*(%)\s*(?:profit|tp)\b", t)
    if not m:
        m = re.search(rf"\btp\s*(?:at|of|=)?\s*{_NUM}(?![\d.])\s*(%|x)?", t)
        if m and m.group(2) == "x" and re.match(r"\s*(?:stop|sl)\b", t[m.end():]):
            m = None  # "50% tp 2x stop": the 2x is the stop's
    if m:
        tp = pct(m.group(1), m.group(2), multiple_ok=False)
    m = (re.search(rf"\b(?:sl|stop)\s*(?:at|of|=)?\s*{_NUM}\s*(%|x)?", t)
         or re.search(rf"{_NUM}\s*(%|x)\s*(?:sl|stop)\b", t))
    if m:
        sl = pct(m.group(1), m.group(2), multiple_ok=True)
    return tp, sl


def extract(t: str) -> Entities:
    e = Entities()
    e.tickers = find_tickers(t)
    occ = OCC_RE.search(t)
    if occ:
        e.occ = occ.group(0).upper()
    e.structure = find_structure(t)
    e.side = find_side(t)
    rights = find_rights(t)
    e.rights = set(rights)
    e.right = rights[0] if rights else None
    e.deltas = find_deltas(t)
    e.width = find_width(t)
    e.strikes = find_strikes(t)
    e.quantity = find_quantity(t)
    e.price = find_price(t)
    e.market = bool(re.search(r"\b(?:market order|at market|at the market|mkt order|market)\b", t)) and \
        not re.search(r"\bmarket (?:summary|recap|data|today|yesterday)\b", t)
    e.times = find_times(t)
    e.take_profit, e.stop_loss = find_tp_sl(t)
    if re.search(r"\bcredit\b", t):
        e.credit = True
    elif re.search(r"\bdebit\b", t):
        e.credit = False
    return e
