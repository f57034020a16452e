"""The offline router: trading language → tool calls, with no language model.

``route(text, today, context)`` normalises the text (:mod:`agent.router.text`), finds entities
(:mod:`agent.router.entities`, :mod:`agent.router.dates`), decides the intent by ordered rules and
builds the arguments of ONE tool call with only what the person said (the tool's own defaults fill
the rest). Requests that only a person may carry out on a surface — confirming an order, switching
to live, changing limits or the kill switch — and attempts to extract secrets or override rules are
recognised first and answered without any tool. ``context`` carries the last structure discussed
in the thread so "backtest that over the last 60 days" works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from agent.router import dates
from agent.router.entities import Entities, extract
from agent.router.text import normalize
from agent.types import ToolCall

Kind = Literal["tool", "refusal", "offtopic", "education", "greeting", "thanks"]


@dataclass
class Route:
    kind: Kind
    calls: list[ToolCall] = field(default_factory=list)
    topic: str = ""                          # refusal/education topic for the answer templates
    context: dict[str, Any] = field(default_factory=dict)
    text: str = ""                           # the normalised text


# --- things no tool does -------------------------------------------------------------------------
_REFUSALS: tuple[tuple[str, str], ...] = (
    ("override", r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|guard|"
                 r"prompt|previous|above|limits?|system|safety)\b|\bjailbreak\b|\bdeveloper mode\b|\bdan mode\b"),
    ("secret", r"\b(?:api[ _]?key|apikey|password|secret|token|credentials?|private key|system prompt|your prompt|"
               r"your instructions|env(?:ironment)? var)"),
    ("confirm", r"^(?:please\s+)?(?:confirm|approve|execute|authori[sz]e)\b|\b(?:confirm|approve|authori[sz]e)\b.{0,30}"
                r"\b(?:order|ticket|trade|it|that|this)\b|\bexecute (?:the|my|that|this) (?:ticket|order|trade)\b|"
                r"\bsend (?:it|that|the ticket|the order) (?:to|through)\b"),
    ("mode", r"\b(?:switch|go|change|move|flip|set|turn|enable|arm|activate)\b.{0,25}\blive\b(?!\s+"
             r"position)|\blive (?:mode|trading)\b(?!.*\b(?:position|order|pnl)\b)|\breal money\b"),
    ("limits", r"\b(?:raise|increase|lower|decrease|change|set|bump|remove|disable|lift|double|override|adjust)\b.{0,30}"
               r"\b(?:limits?(?!\s*(?:order|price|at|of\s*\$?\d|\$?\d|@))|max(?:imum)? (?:contracts|loss|premium|orders?)|"
               r"collar|cut ?off)\b"),
    ("kill_switch", r"\b(?:turn off|switch off|disable|reset|resume|deactivate|flip|release|lift|clear|unhalt|"
                    r"override|stop|engage|activate|turn on|trigger|hit|press)\b.{0,20}\bkill_switch\b|"
                    r"^(?!(?:is|are|was|what|how|when|why)\b).*\bkill_switch\b.{0,20}\b(?:off|reset|on)\b|"
                    r"\b(?:halt|resume|unhalt) trading\b"),
)
_GREETING = re.compile(r"^(?:hi|hello|hey|yo|good (?:morning|afternoon|evening)|gm|howdy|sup)\b[\s!.]*(?:there)?$")
_THANKS = re.compile(r"^(?:thanks|thank you|cheers|great|cool|ok|okay|nice|awesome|perfect)\b")
_EDUCATION = re.compile(r"^(?:what is|what are|explain|define|how do|how does|why do|why does|what does)\b(?:\s+a|\s+an"
                        r"|\s+the)?\s+(?P<topic>(?:put |call )?(?:credit |debit )?vertical|0dte|delta|gamma|theta|vega|iv|implied volatility|iron_condor|"
                        r"butterfly|iron_butterfly|straddle|strangle|vertical|wash|s1256|assignment|pin risk|"
                        r"expected move|an option|option|options|a call|call|a put|put|credit vertical|"
                        r"debit vertical)\b(?!.*\b(?:spy|qqq|iwm|vix|my|i)\b)")

_CHAIN_WORDS = r"\b(?:chain|options?|call|put|strike|0dte|greeks|iv|expiry|expiring|calls|puts|ntm|atm)\b|\d[cp]\b"
_ORDER_VERB = (r"\b(?:sell|sold|short|write|buy|long|purchase|open|place|enter|paper|trade|collect|stage|"
               r"put on|get (?:me )?(?:into|in))\b")


def _refusal(t: str) -> str | None:
    for topic, pattern in _REFUSALS:
        if re.search(pattern, t):
            return topic
    return None


def _has(t: str, pattern: str) -> bool:
    return re.search(pattern, t) is not None


def intent(t: str, e: Entities, today: date) -> str | None:
    """The tool a normalised utterance asks for, or ``None``."""
    structure = e.structure is not None
    option_words = _has(t, r"\b(?:call|put)\b|\d[cp]\b") or e.occ is not None
    if _has(t, r"\baudit\b|\bwhat did (?:the|you|my) (?:agent|assistant|bot)\b"):
        return "audit_log"
    if _has(t, r"\bwash\b") and (e.occ or e.tickers) and _has(t, r"\b(?:sell|selling|sold|close|closing|buy|"
                                                                 r"buying|rebuy|re-?enter|dump)\b"):
        return "wash_sale_check"
    if _has(t, r"\b(?:tax|taxes|wash|s1256|8949|6781|schedule d|capital gains?|cost basis|irs)\b"):
        return "tax_summary"
    if _has(t, r"\bbacktest\b|\bwould (?:have|of) (?:done|performed|worked|made|returned)\b|\bhave done\b|"
               r"\bhistorically\b|\bsimulate\b|^(?:test|run)\b|\bwhat if i (?:had )?(?:sold|bought|traded|ran)\b|"
               r"\bevery (?:day|session|morning)\b") or (
            _has(t, r"\b(?:how did|how has|how would|how have)\b") and structure and dates.find_range(t, today)):
        return "backtest"
    if (_has(t, r"\b(?:cancel|canceling)\b") and _has(t, r"\border\b|#|\b[a-z]*\d[\w-]*\b")) or \
            _has(t, r"\b(?:pull|withdraw|kill|scratch)\s+(?:my\s+|the\s+|that\s+)?(?:order|#)"):
        return "cancel_order"
    if _has(t, r"\b(?:payoff|breakevens?|max_loss|max_profit|risk profile|profit profile|expiry profile|"
               r"worst case|most i can (?:lose|make))\b") and not _has(t, r"\b(?:my|i am|i'm)\b.*\bpnl\b"):
        return "strategy_payoff"
    if _has(t, _ORDER_VERB) and (structure or option_words or e.strikes) and not _has(t, r"\bshould i\b") and \
            not _has(t, r"\bshow\b.*\border\b"):
        return "place_paper_order"
    if _has(t, r"\border\b|\bworking\b|\bfills?\b"):
        return "orders"
    if _has(t, r"\b(?:position|holding|holdings|what do i own|what am i (?:holding|in)|my book|am i in)\b"):
        return "positions"
    if _has(t, r"\b(?:greeks|delta|gamma|theta|vega|exposure|beta)\b") and \
            _has(t, r"\b(?:my|i|i am|portfolio|net|book|total|overall|am i|we)\b") and not _has(t, r"\bchain\b"):
        return "portfolio_greeks"
    if _has(t, r"\b(?:am i|are we|i am)\s+(?:up|down)\b") or \
            _has(t, r"\b(?:pnl|profit|profits|made|make|lost|lose|losing|earned|up or down|how am i doing|how i am doing|"
               r"how much (?:did|have) (?:i|we)|in the (?:red|green)|performance|returns?)\b"):
        return "pnl"
    if _has(t, r"\b(?:risk|limits?|kill_switch|buying_power|halted|margin used|how much room)\b"):
        return "risk_status"
    if _has(t, r"\b(?:signals|regime|correlation|correlated|momentum|breakout|vwap|bias|outlook|"
               r"what to trade|any plays?|opportunit(?:y|ies))\b") or (_has(t, r"\bshould i\b") and e.tickers):
        return "signals"
    if _has(t, r"\b(?:happen|happened|summary|summari[sz]e|recap|range|realized|realised|moved?|movement|"
               r"how did|how was|session|close[d]?|wrap ?up|rundown)\b") or (
            _has(t, r"\b(?:volatility|iv)\b") and _has(t, r"\b(?:yesterday|today|last|on)\b")) or \
            (_has(t, dates.DAY_RE.pattern) and e.tickers and not _has(t, _CHAIN_WORDS)):
        return "market_summary"
    if _has(t, _CHAIN_WORDS) and (e.tickers or _has(t, r"\bchain\b")) and e.occ is None and not (
            e.strikes and option_words and _has(t, r"\b(?:quote|price|bid|ask|mark|worth|cost)\b")):
        return "chain"
    if e.occ or _has(t, r"\b(?:quote|price|trading|trade at|last|bid|ask|level|where is|at now|mark|worth|cost|"
                       r"ticker|spot|now|how is|current)\b|\bat$") or (e.tickers and len(t.split()) <= 3):
        # something we do not quote ("what's bitcoin at") is off-topic, not a SPY quote
        return "quote" if (e.tickers or e.occ or e.strikes) else None
    return None


# --- arguments -------------------------------------------------------------------------------------
def _underlying(e: Entities, context: dict) -> str:
    return e.ticker or context.get("underlying") or "SPY"


def _expiry(t: str, today: date) -> str | None:
    """An expiry named in the text as ``YYYY-MM-DD`` (``None`` = the default 0DTE)."""
    if _has(t, r"\b0dte\b|\btoday\b"):
        return None
    m = re.search(r"\b(?:exp|expiry|expiring|expires?|for|on|dated)\s+(?:on\s+)?(.+)$", t)
    day = dates.find_day(m.group(1), today, future=True) if m else None
    if day is None:
        day = dates.find_day(t, today, future=True)
    return day.isoformat() if day and day != today else None


def _quote_symbol(t: str, e: Entities, today: date) -> str:
    if e.occ:
        return e.occ
    if e.strikes and e.right and (e.ticker or "SPY") in ("SPY", "QQQ", "IWM"):
        exp = _expiry(t, today)
        day = date.fromisoformat(exp) if exp else today
        strike = e.strikes[0]
        return f"{e.ticker or 'SPY'}{day:%y%m%d}{e.right[0].upper()}{int(round(strike * 1000)):08d}"
    return e.ticker or "SPY"


def _chain_args(t: str, e: Entities, today: date, context: dict) -> dict:
    args: dict[str, Any] = {"underlying": _underlying(e, context)}
    exp = _expiry(t, today)
    if exp:
        args["expiry"] = exp
    if len(e.rights) == 1:
        args["right"] = e.right
    m = re.search(r"\b(\d+)\s+strike\b|\bstrike\s+(\d+)\s+(?:each|either|per)\b", t)
    if m:
        args["strikes_around_atm"] = int(m.group(1) or m.group(2))
    m = re.search(r"\bbetween\s+(\d*\.?\d+)\s*(?:d|delta)?\s+and\s+(\d*\.?\d+)\s*(?:d|delta)\b", t)
    if m:
        lo, hi = sorted(float(x) / (100 if float(x) >= 1 else 1) for x in m.groups())
        args["min_delta"], args["max_delta"] = round(lo, 4), round(hi, 4)
    elif e.deltas:
        d = e.deltas[0]
        args["min_delta"], args["max_delta"] = round(max(d - 0.05, 0.0), 4), round(min(d + 0.05, 1.0), 4)
    return args


def _structure_params(t: str, e: Entities, context: dict, *, for_backtest: bool = False) -> dict:
    """The structure the text names, falling back on the thread's last structure ("that")."""
    refers_back = _has(t, r"\b(?:that|it|this|same|the same)\b") and e.structure is None and not e.rights
    base = dict(context.get("structure") or {}) if refers_back else {}
    p: dict[str, Any] = {}
    if e.structure:
        p["structure"] = e.structure
        if e.structure in ("vertical", "butterfly", "calendar") and e.right:
            p["right"] = e.right
    elif e.rights and not e.strikes:
        p["structure"] = "single"
        p["right"] = e.right
    if e.side:
        p["side"] = e.side
    elif e.credit is not None:
        p["side"] = "sell" if e.credit else "buy"
    if e.deltas:
        p["short_delta"] = e.deltas[0]
    elif _has(t, r"\batm\b") and (e.structure in ("straddle", "iron_butterfly", "butterfly", None)):
        p["short_delta"] = 0.5
    if e.width is not None:
        p["wing_width"] = e.width
    if not base:
        return p
    merged = {**base, **{k: v for k, v in p.items() if k != "side" or "side" not in base}}
    return merged


_SINGLE = {("buy", "call"): "long_call", ("buy", "put"): "long_put", ("sell", "call"): "short_call",
           ("sell", "put"): "short_put"}


def _strategy_name(p: dict) -> str | None:
    s = p.get("structure")
    if s == "single":
        return _SINGLE.get((p.get("side") or "buy", p.get("right") or "call"))
    return s


def _backtest_args(t: str, e: Entities, today: date, context: dict) -> dict:
    p = _structure_params(t, e, context, for_backtest=True)
    args: dict[str, Any] = {"strategy": _strategy_name(p) or "iron_condor",
                            "underlying": e.ticker or p.get("underlying") or context.get("underlying") or "SPY"}
    rng = dates.find_range(t, today) or (dates.add_months(today, -1), today)
    args["start"], args["end"] = rng[0].isoformat(), rng[1].isoformat()
    entries = [tm for kind, tm in e.times if kind == "entry"]
    exits = [tm for kind, tm in e.times if kind == "exit"]
    if entries:
        args["entry_time"] = entries[0].strftime("%H:%M")
    if exits:
        args["exit_time"] = exits[0].strftime("%H:%M")
    if p.get("short_delta") is not None:
        args["short_delta"] = p["short_delta"]
    if p.get("wing_width") is not None:
        args["wing_width"] = p["wing_width"]
    side = p.get("side")
    if side and args["strategy"] in ("straddle", "strangle", "butterfly", "vertical"):
        args["side"] = side
    if p.get("right") and args["strategy"] in ("vertical", "butterfly", "calendar"):
        args["right"] = p["right"]
    if e.quantity:
        args["quantity"] = e.quantity
    if e.take_profit is not None:
        args["take_profit_pct"] = e.take_profit
    if e.stop_loss is not None:
        args["stop_loss_pct"] = e.stop_loss
    if _has(t, r"\b(?:report|chart|charts|plot|graph|equity curve)\b"):
        args["report"] = True
    if _has(t, r"\b(?:synthetic|simulated|sim|generated|fake) (?:data|history|bars|market|prices)\b|\bon synthetic\b"):
        args["data_source"] = "synthetic"
    elif _has(t, r"\b(?:real|imported|recorded|historical|stored) (?:data|history|bars|prices)\b"):
        args["data_source"] = "store"
    return args


def _explicit_legs(e: Entities, side: str, structure: str | None) -> list[dict]:
    """Legs from named strikes: ``590/585 put spread`` sells the strike nearer the money on a credit."""
    right = e.right or "call"
    if len(e.strikes) == 2 and structure in ("vertical", None):
        hi, lo = max(e.strikes), min(e.strikes)
        # a sold (credit) put spread sells the higher put; a sold call spread sells the lower call
        near, far = (hi, lo) if right == "put" else (lo, hi)
        first = "sell" if side == "sell" else "buy"
        other = "buy" if first == "sell" else "sell"
        return [{"right": right, "strike": near, "side": first}, {"right": right, "strike": far, "side": other}]
    return [{"right": right, "strike": k, "side": side} for k in e.strikes[:4]]


def _order_args(t: str, e: Entities, today: date, context: dict) -> dict:
    p = _structure_params(t, e, context)
    args: dict[str, Any] = {"underlying": e.ticker or p.pop("underlying", None) or context.get("underlying") or "SPY"}
    exp = _expiry(t, today)
    if exp:
        args["expiry"] = exp
    side = p.get("side") or e.side or "buy"
    if e.strikes:
        args["legs"] = _explicit_legs(e, side, p.get("structure"))
    elif p.get("structure") == "single":
        args["legs"] = [{"right": p["right"], "delta": p["short_delta"], "side": side}] if "short_delta" in p else []
        if not args["legs"]:
            args.pop("legs")
            args.update({"structure": "single", "right": p["right"], "side": side})
    else:
        for key in ("structure", "side", "right", "short_delta", "wing_width"):
            if p.get(key) is not None:
                args[key] = p[key]
    if e.quantity:
        args["quantity"] = e.quantity
    if e.take_profit is not None:
        args["take_profit_pct"] = e.take_profit
    if e.stop_loss is not None:
        args["stop_loss_pct"] = e.stop_loss
    exits = [tm for kind, tm in e.times if kind == "exit"]
    if exits:
        args["exit_time"] = exits[0].strftime("%H:%M")
    if e.market and e.price is None:
        args["order_type"] = "market"
    elif e.price is not None:
        args["limit_price"] = e.price
    return args


def _payoff_args(t: str, e: Entities, today: date, context: dict) -> dict:
    p = _structure_params(t, e, context)
    args: dict[str, Any] = {"strategy": _strategy_name(p) or "iron_condor",
                            "underlying": e.ticker or p.get("underlying") or context.get("underlying") or "SPY"}
    exp = _expiry(t, today)
    if exp:
        args["expiry"] = exp
    for key in ("short_delta", "wing_width"):
        if p.get(key) is not None:
            args[key] = p[key]
    if e.strikes:
        args["strike"] = e.strikes[0]
    if args["strategy"] in ("vertical", "butterfly") and p.get("right"):
        args["right"] = p["right"]
    if p.get("side") and args["strategy"] not in _SINGLE.values():
        args["side"] = p["side"]
    if e.quantity:
        args["quantity"] = e.quantity
    return args


def _order_id(raw: str) -> str | None:
    """The order id as typed (case kept): the token after "order"/"#", else the first token with a digit."""
    tokens = [tok.strip(".,;:!?\"'()").lstrip("#") for tok in raw.split()]
    for i, tok in enumerate(tokens[:-1]):
        if tok.lower() in ("order", "id", "number", "no") and any(ch.isdigit() for ch in tokens[i + 1]):
            return tokens[i + 1]
    for tok in tokens:
        if any(ch.isdigit() for ch in tok) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-:.]*", tok):
            return tok
    return None


_PERIODS = (("week", r"\b(?:week|weekly|wtd)\b"), ("month", r"\b(?:month|monthly|mtd)\b"),
            ("year", r"\b(?:year|ytd|annual|yearly)\b"), ("today", r"\btoday\b|\bday\b"))


def _period(t: str) -> str | None:
    return next((name for name, pat in _PERIODS if _has(t, pat)), None)


def _order_status(t: str) -> str | None:
    for status, pat in (("open", r"\b(?:open|working|pending|resting|active|live)\b"),
                        ("filled", r"\b(?:filled|fills?|executed|done)\b"), ("canceled", r"\bcancel(?:ed|led)\b"),
                        ("rejected", r"\b(?:rejected|refused|denied)\b"), ("expired", r"\bexpired\b")):
        if _has(t, pat):
            return status
    return None


def build_args(tool: str, t: str, raw: str, e: Entities, today: date, context: dict) -> dict:
    if tool == "quote":
        return {"symbol": _quote_symbol(t, e, today)}
    if tool == "chain":
        return _chain_args(t, e, today, context)
    if tool == "market_summary":
        args: dict[str, Any] = {"symbol": e.ticker or "SPY"}
        day = dates.find_day(t, today)
        if day:
            args["date"] = day.isoformat()
        return args
    if tool == "backtest":
        return _backtest_args(t, e, today, context)
    if tool == "place_paper_order":
        return _order_args(t, e, today, context)
    if tool == "strategy_payoff":
        return _payoff_args(t, e, today, context)
    if tool == "tax_summary":
        args = {"year": dates.find_year(t, today) or today.year}
        if _has(t, r"\b(?:underlying|conservative|any option|tradelog|similar)\b"):
            args["wash_sale_matching"] = "underlying"
        elif _has(t, r"\b(?:identical|same contract|exact contract|1099)\b"):
            args["wash_sale_matching"] = "identical"
        return args
    if tool == "wash_sale_check":
        args = {"symbol": e.occ or e.ticker}
        if e.quantity:
            args["quantity"] = e.quantity
        if e.price is not None:
            args["price"] = e.price
        if _has(t, r"\b(?:buy|buying|rebuy|re-?enter)\b") and not _has(t, r"\b(?:sell|selling|close|closing)\b"):
            args["side"] = "buy"
        if _has(t, r"\bira\b"):
            args["account"] = "ira"
        return args
    if tool == "positions":
        m = re.search(r"\b(paper|live)\b", t)
        return {"account": m.group(1)} if m else {}
    if tool == "orders":
        status = _order_status(t)
        return {"status": status} if status else {}
    if tool == "cancel_order":
        oid = _order_id(raw)
        return {"order_id": oid} if oid else {}
    if tool == "pnl":
        period = _period(t)
        return {"period": period} if period else {}
    if tool == "signals":
        return {"underlying": e.ticker} if e.ticker else {}
    if tool == "audit_log":
        m = re.search(r"\b(?:last|latest|recent|top)\s+(\d+)\b|\b(\d+)\s+(?:entries|records|events|lines)\b", t)
        return {"limit": int(m.group(1) or m.group(2))} if m else {}
    return {}


def route(text: str, today: date, context: dict | None = None) -> Route:
    """Decide what to do with one utterance (see module docstring)."""
    context = dict(context or {})
    t = normalize(text)
    topic = _refusal(t)
    if topic:
        return Route("refusal", topic=topic, context=context, text=t)
    if _GREETING.match(t):
        return Route("greeting", context=context, text=t)
    if _THANKS.match(t) and len(t.split()) <= 4:
        return Route("thanks", context=context, text=t)
    m = _EDUCATION.match(t)
    if m:
        return Route("education", topic=m.group("topic"), context=context, text=t)
    e = extract(t)
    tool = intent(t, e, today)
    if tool is None:
        return Route("offtopic", context=context, text=t)
    args = build_args(tool, t, text, e, today, context)
    if tool == "quote" and not e.occ and not e.strikes and len(e.tickers) > 1:  # "spy and qqq quotes"
        calls = [ToolCall("quote", {"symbol": tick.upper()}) for tick in e.tickers[:4]]
        context["underlying"] = e.tickers[0].upper()
        return Route("tool", calls=calls, context=context, text=t)
    if tool in ("backtest", "place_paper_order", "strategy_payoff"):
        struct = {k: v for k, v in _structure_params(t, e, context).items()}
        struct["underlying"] = args.get("underlying", "SPY")
        context["structure"] = struct
    if "underlying" in args or "symbol" in args:
        context["underlying"] = str(args.get("underlying") or args.get("symbol"))[:3]
    return Route("tool", calls=[ToolCall(tool, args)], context=context, text=t)
