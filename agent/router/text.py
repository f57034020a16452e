"""Text normalisation for the offline router: lower case, slang and typos, numbers in words.

The router reads what traders type ("0dte spy ic 10d 5 wide", "iorn condor", "twenty delta") and
turns it into one canonical token stream before any rule looks at it, so the rules stay few:
``normalize("Sell twenty SPY IC's @ 1.1")`` → ``"sell 20 spy iron_condor @ 1.1"``.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"dozen", "half"}

#: Multi-word phrases first (longest first), then single words. Values are canonical tokens.
PHRASES = {
    "iron condors": "iron_condor", "iron condor": "iron_condor", "iron butterfly": "iron_butterfly",
    "iron butterflies": "iron_butterfly", "iron fly": "iron_butterfly", "iron flies": "iron_butterfly",
    "put credit spread": "put credit vertical", "call credit spread": "call credit vertical",
    "put debit spread": "put debit vertical", "call debit spread": "call debit vertical",
    "credit spread": "credit vertical", "debit spread": "debit vertical",
    "put spread": "put vertical", "call spread": "call vertical", "vertical spread": "vertical",
    "p&l": "pnl", "p/l": "pnl", "p & l": "pnl", "profit and loss": "pnl", "profit & loss": "pnl",
    "kill switch": "kill_switch", "killswitch": "kill_switch", "buying power": "buying_power",
    "wash sale": "wash", "wash sales": "wash", "section 1256": "s1256", "sec 1256": "s1256", "1256": "s1256",
    "back test": "backtest", "back-test": "backtest", "at the money": "atm", "at-the-money": "atm",
    "near the money": "ntm", "near-the-money": "ntm", "audit trail": "audit", "audit log": "audit",
    "trade ideas": "signals", "trade idea": "signals", "year to date": "ytd", "right now": "now",
    "this morning": "today", "max loss": "max_loss", "max profit": "max_profit", "max gain": "max_profit",
    "risk graph": "payoff", "payoff diagram": "payoff", "pay off": "payoff", "break even": "breakeven",
    "break-even": "breakeven", "break evens": "breakevens", "take profit": "tp", "take-profit": "tp",
    "profit target": "tp", "stop loss": "sl", "stop-loss": "sl", "stop out": "sl",
    "0 dte": "0dte", "zero dte": "0dte", "zero day": "0dte", "same day": "0dte", "0-dte": "0dte",
    "expiring today": "0dte", "expires today": "0dte",
}
WORDS = {
    "wat": "what", "wut": "what", "sel": "sell", "sll": "sell", "shrt": "short", "buyy": "buy", "by": "by",
    "ic": "iron_condor", "ics": "iron_condor", "condor": "iron_condor", "condors": "iron_condor",
    "ifly": "iron_butterfly", "ibf": "iron_butterfly", "fly": "butterfly", "bfly": "butterfly", "flies": "butterfly",
    "butterflies": "butterfly", "straddles": "straddle", "strangles": "strangle", "verticals": "vertical",
    "vert": "vertical", "verts": "vertical", "spreads": "spread", "pcs": "put credit vertical",
    "ccs": "call credit vertical", "bps": "put credit vertical", "bcs": "call debit vertical",
    "calls": "call", "puts": "put", "pnl": "pnl", "pl": "pnl", "greeks": "greeks", "bt": "backtest",
    "backtests": "backtest", "backtesting": "backtest", "backtested": "backtest", "dte": "dte",
    "contracts": "contract", "lots": "lot", "qty": "quantity", "atm": "atm", "otm": "otm", "itm": "itm",
    "whats": "what is", "what's": "what is", "hows": "how is", "how's": "how is", "wheres": "where is",
    "where's": "where is", "im": "i am", "i'm": "i am", "rn": "now", "tmrw": "tomorrow", "tmr": "tomorrow",
    "tom": "tomorrow", "yday": "yesterday", "yest": "yesterday", "mkt": "market", "px": "price",
    "vol": "volatility", "vola": "volatility", "iv": "iv", "ivs": "iv", "trades": "trade", "pls": "please",
    "plz": "please", "thx": "thanks", "ty": "thanks", "positions": "position", "orders": "order",
    "signal": "signals", "setups": "signals", "setup": "signals", "ideas": "signals", "idea": "signals",
    "wk": "week", "wks": "weeks", "mo": "month", "mos": "months", "yr": "year", "yrs": "years",
    "cancelled": "canceled", "cancelling": "canceling", "expiring": "expiring", "exp": "expiry",
    "expiration": "expiry", "deltas": "delta", "strikes": "strike",
}
#: Words typos are corrected towards (only tokens of four letters or more that are not words we know).
VOCABULARY = sorted({
    "backtest", "iron", "condor", "butterfly", "straddle", "strangle", "vertical", "spread", "calendar",
    "position", "positions", "order", "orders", "cancel", "greeks", "delta", "gamma", "theta", "vega", "quote",
    "chain", "price", "signals", "summary", "volatility", "yesterday", "today", "tomorrow", "payoff", "breakeven",
    "breakevens", "audit", "taxes", "wash", "realized", "realised", "expiry", "strike", "strikes", "contract",
    "contracts", "limit", "market", "premium", "credit", "debit", "short", "sell", "week", "month", "year", "days",
    "weeks", "months", "years", "profit", "loss", "stop", "entry", "enter", "exit", "between", "options",
    "option", "calls", "puts", "wide", "width", "paper", "live", "filled", "working", "canceled", "status",
    "risk", "limits", "exposure", "happened", "recap", "range", "trading", "holding", "holdings", "summarize",
    "history", "since", "from", "through", "until", "last", "past", "matching", "identical", "underlying",
    "conservative", "gains", "losses", "capital", "lost", "made", "money", "quantity",
})
_KNOWN = set(VOCABULARY) | set(WORDS) | set(_NUMBER_WORDS) | {
    "spy", "qqq", "iwm", "vix", "spx", "ndx", "rut", "what", "show", "give", "tell", "have", "does", "would", "with",
    "this", "that", "there", "their", "them", "they", "than", "then", "about", "could", "should", "doing", "done",
    "opened", "open", "much", "many", "over", "near", "money", "around", "want", "need", "please", "thanks",
    "hello", "good", "morning", "evening", "into", "just", "like", "most", "more", "less", "some", "each", "every",
    "friday", "monday", "tuesday", "wednesday", "thursday", "saturday", "sunday", "january", "february", "march",
    "april", "june", "july", "august", "september", "october", "november", "december", "when", "where", "which",
    "will", "your", "mine", "list", "were", "been", "being", "also", "only", "still", "going", "look",
    "level", "right", "left", "next", "upcoming", "lose", "make", "earn", "earned", "diagram", "curve", "graph",
    "test", "tested", "using", "used", "mode", "switch", "confirm", "approve", "raise", "increase", "lower",
    "turn", "instructions", "ignore", "previous", "system", "prompt", "secret", "password", "token", "weather",
    "joke", "poem", "pizza", "football", "super", "bowl", "news", "headline",
}


def number_words(tokens: list[str]) -> list[str]:
    """Replace runs of number words by digits: ``["twenty", "five", "delta"]`` → ``["25", "delta"]``."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in _NUMBER_WORDS and not (t == "half" and (i + 1 >= len(tokens) or tokens[i + 1] != "dozen")):
            total, current, j = 0, 0, i
            while j < len(tokens) and (tokens[j] in _NUMBER_WORDS or (tokens[j] in ("and", "-") and current)):
                w = tokens[j]
                if w in _UNITS:
                    current += _UNITS[w]
                elif w in _TENS:
                    current += _TENS[w]
                elif w in _SCALES:
                    current = max(current, 1) * _SCALES[w]
                    if w == "thousand":
                        total, current = total + current, 0
                elif w == "dozen":
                    current = max(current, 1) * 12
                elif w == "half":
                    current += 0  # "half dozen" = 6 via the dozen below
                    if j + 1 < len(tokens) and tokens[j + 1] == "dozen":
                        out.append("6")
                        j += 2
                        current = -1
                        break
                j += 1
            if current >= 0 and j < len(tokens) and tokens[j] == "point":  # digits after "point" stay digits
                digits = []
                k = j + 1
                while k < len(tokens) and tokens[k] in _UNITS and _UNITS[tokens[k]] < 10:
                    digits.append(str(_UNITS[tokens[k]]))
                    k += 1
                if digits:
                    out.append(f"{total + current}.{''.join(digits)}")
                    i = k
                    continue
            if current >= 0:
                while out and j > i and tokens[j - 1] in ("and", "-"):
                    j -= 1
                out.append(str(total + current))
            i = j
            continue
        out.append(t)
        i += 1
    return out


@lru_cache(maxsize=4096)
def fix_typo(token: str) -> str:
    """The vocabulary word a misspelt token most likely meant, or the token itself."""
    if len(token) < 4 or not token.isalpha() or token in _KNOWN:
        return token
    for word in VOCABULARY:  # one swap of neighbours ("iorn", "stradlde") is the commonest slip
        if len(word) == len(token) and sorted(word) == sorted(token):
            diff = [i for i in range(len(word)) if word[i] != token[i]]
            if len(diff) == 2 and diff[1] == diff[0] + 1:
                return word
    match = difflib.get_close_matches(token, VOCABULARY, n=1, cutoff=0.8)
    return match[0] if match else token


_SEP = re.compile(r"[\s,;!?()\"\[\]{}]+")
_PHRASE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")(?=\W|$)")


def normalize(text: str) -> str:
    """Canonical, space-separated tokens (see module docstring)."""
    t = text.lower().replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    t = _PHRASE_RE.sub(lambda m: " " + PHRASES[m.group(1)] + " ", t)
    t = re.sub(r"\b(what|where|how|who|it|that|there|here)'s\b", r"\1 is", t)
    t = re.sub(r"(?<=[a-z])'s\b", "", t)          # spy's → spy
    t = re.sub(r"(?<![\w.])(\d+)\s*-\s*(wide|delta|dte|day|days)\b", r"\1 \2", t)
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)   # paper-sell → paper sell
    t = re.sub(r"(?<=\d)(?=dte\b)", " ", t)
    t = re.sub(r"\.(?=\s|$)", " ", t)             # sentence stops, keep 1.25 and 9.45
    t = t.replace("$", " $ ").replace("@", " @ ")
    tokens = [tok for tok in _SEP.split(t) if tok]
    tokens = [WORDS.get(tok, tok) for tok in tokens]
    tokens = " ".join(tokens).split()
    tokens = [fix_typo(tok) for tok in tokens]
    tokens = [WORDS.get(tok, tok) for tok in tokens]
    tokens = " ".join(tokens).split()
    joined = " ".join(number_words(tokens))
    joined = re.sub(r"\b(\d+) point (\d+)\b", r"\1.\2", joined)            # "one point two five" → 1.25
    joined = re.sub(r"\b(?:a|1) bucks? (\d{1,2})\b", lambda m: f"1.{int(m.group(1)):02d}", joined)  # a buck ten
    joined = re.sub(r"\b(\d+) bucks?\b", r"\1.00", joined)
    joined = re.sub(r"\b(?:noon|midday)\b", "12:00", joined)
    joined = _PHRASE_RE.sub(lambda m: PHRASES[m.group(1)], joined)  # phrases made by typo fixes
    return re.sub(r"\s+", " ", joined).strip()
