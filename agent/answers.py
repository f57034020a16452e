"""Answers composed from tool outputs by templates (the offline path, and a fallback for the LLM).

Each template reads the tool's output data (the JSON of its output model) and writes a short
answer that quotes the numbers; nothing here invents a figure. Fixed texts (greeting, refusals,
education, off-topic, disclaimer) come from ``prompts/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent import prompts
from agent.types import ToolCall


def money(x: Any, sign: bool = False) -> str:
    if x is None:
        return "n/a"
    v = float(x)
    s = f"${abs(v):,.2f}"
    if v < 0:
        return "-" + s
    return ("+" + s) if sign and v > 0 else s


def px(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):,.2f}"


def num(x: Any, spec: str) -> str:
    return "n/a" if x is None else format(float(x), spec)


def pct(x: Any, digits: int = 1) -> str:
    return "n/a" if x is None else f"{float(x) * 100:.{digits}f}%"


def _quote(o: dict, a: dict) -> str:
    last = f", last {px(o.get('last'))}" if o.get("last") is not None else ""
    session = f" (session {o['session']})" if o.get("session") else ""
    return (f"{o['symbol']}: bid {px(o.get('bid'))} / ask {px(o.get('ask'))}, mid {px(o.get('mid'))}{last} "
            f"— {o.get('source', '')} data at {str(o.get('ts', ''))[:19]}{session}.")


def _chain(o: dict, a: dict) -> str:
    rows = o.get("rows") or []
    head = (f"{o['underlying']} options expiring {o['expiry']} (spot {px(o.get('spot'))}, ATM strike "
            f"{px(o.get('atm_strike'))}), {len(rows)} contracts:")
    lines = [f"  {r['strike']:>8.2f} {r['right'][0].upper()}  bid {px(r.get('bid')):>6} ask {px(r.get('ask')):>6}  "
             f"IV {pct(r.get('iv'))}  Δ {num(r.get('delta'), '+.2f')}"
             for r in rows[:24]]
    more = [f"  … {len(rows) - 24} more"] if len(rows) > 24 else []
    return "\n".join([head, *lines, *more])


def _summary(o: dict, a: dict) -> str:
    parts = [f"{o['symbol']} on {o['date']}:"]
    if o.get("open") is not None:
        parts.append(f"open {px(o['open'])}, high {px(o.get('high'))}, low {px(o.get('low'))}, close {px(o.get('close'))}"
                     + (f" ({pct(o['change_pct'], 2)})" if o.get("change_pct") is not None else "") + ".")
    if o.get("range") is not None:
        parts.append(f"Range {px(o['range'])}" + (f" ({pct(o['range_pct'], 2)})" if o.get("range_pct") is not None
                                                  else "") + ".")
    if o.get("realized_vol") is not None:
        parts.append(f"Realized vol {pct(o['realized_vol'])}.")
    if o.get("atm_iv") is not None:
        change = f", change {o['iv_change'] * 100:+.1f} vol pts" if o.get("iv_change") is not None else ""
        parts.append(f"ATM IV {pct(o['atm_iv'])}{change}.")
    if o.get("vix") is not None:
        change = f" ({o['vix_change']:+.2f})" if o.get("vix_change") is not None else ""
        parts.append(f"VIX {px(o['vix'])}{change}.")
    return " ".join(parts)


def _backtest(o: dict, a: dict) -> str:
    pf = o.get("profit_factor")
    lines = [f"Backtest {o['strategy']} on {o['underlying']} {o['start']} → {o['end']} ({o.get('data')} prices): "
             f"{o['trades']} trades, total P&L {money(o.get('total_pnl'), sign=True)}, win rate {pct(o.get('win_rate'))}, "
             f"profit factor {num(pf, '.2f')}, max drawdown {money(o.get('max_drawdown'))}, "
             f"Sharpe {num(o.get('sharpe'), '.2f')}."]
    if o.get("report"):
        lines.append(f"Report: {o['report']}" + (f" (chart {o['png']})" if o.get("png") else ""))
    lines.append(prompts.load("disclaimer"))
    return "\n".join(lines)


def _net(net: Any) -> str:
    """``credit 0.32`` / ``debit 1.05`` from a signed per-share net price (> 0 debit)."""
    if net is None:
        return "n/a"
    return f"{'credit' if net < 0 else 'debit'} {px(abs(net))}"


def _staged(o: dict, a: dict) -> str:
    p = o.get("preview") or {}
    legs = ", ".join(f"{leg.get('side', '')} {leg.get('quantity') or leg.get('ratio') or 1}× {leg.get('symbol') or ''}".strip()
                     for leg in p.get("legs") or [])
    risk = o.get("risk") or {}
    failed = [c for c in risk.get("checks") or [] if not c.get("passed")]
    lines = [f"Staged PAPER ticket {o['ticket_id']} (expires {str(o.get('expires_at') or '')[:19]}): {legs}.",
             f"Net {_net(p.get('net_price'))} per share; max profit {money(p.get('max_profit'))}, "
             f"max loss {money(p.get('max_loss'))}, breakevens {', '.join(px(b) for b in p.get('breakevens') or []) or 'n/a'}, "
             f"fees {money(p.get('fees'))}."]
    if failed:
        lines.append("Risk checks FAILED: " + "; ".join(f"{c['name']}: {c.get('reason', '')}" for c in failed)
                     + ". This ticket cannot be confirmed as it stands.")
    else:
        lines.append("All risk checks passed. Nothing is sent until you confirm it yourself.")
    return "\n".join(lines)


def _orders(o: dict, a: dict) -> str:
    rows = o.get("orders") or []
    if not rows:
        return f"No {'' if o.get('status') == 'all' else o.get('status') + ' '}orders on the {o['ledger']} ledger."
    lines = [f"{len(rows)} order(s) on the {o['ledger']} ledger:"]
    lines += [f"  {r['order_id']}: {r['status']} {r.get('underlying') or ''} qty {r.get('quantity')}"
              + (f" limit {px(r['limit_price'])}" if r.get("limit_price") is not None else "")
              + (f", filled {r.get('filled_quantity')} @ {px(r['avg_fill_price'])}" if r.get("avg_fill_price") is not None
                 else "") for r in rows[:20]]
    return "\n".join(lines)


def _cancel(o: dict, a: dict) -> str:
    return f"Order {o['order_id']}: {o['status']}."


def _positions(o: dict, a: dict) -> str:
    rows = o.get("positions") or []
    if not rows:
        return f"No open positions on the {o['account']} ledger."
    lines = [f"{len(rows)} position(s) on the {o['account']} ledger:"]
    lines += [f"  {r['symbol']}: {r['quantity']:+g} avg {px(r.get('avg_price'))} mark {px(r.get('mark'))} "
              f"unrealized {money(r.get('unrealized_pnl'), sign=True)}" for r in rows[:30]]
    return "\n".join(lines)


def _greeks(o: dict, a: dict) -> str:
    t = o.get("total") or {}

    def f(x: Any, unit: str = "") -> str:
        return "n/a" if x is None else f"{x:+,.2f}{unit}"

    return (f"Portfolio Greeks ({o['ledger']}): delta {f(t.get('delta_shares'))} shares "
            f"({f(t.get('delta_dollars'))} $), gamma {f(t.get('gamma_dollars_1pct'))} $ per 1%, "
            f"vega {f(t.get('vega_per_point'))} $ per vol pt, theta {f(t.get('theta_per_day'))} $ per day.")


def _pnl(o: dict, a: dict) -> str:
    return (f"P&L {o['period']} ({o['ledger']}): total {money(o.get('total'), sign=True)} — realized "
            f"{money(o.get('realized'), sign=True)}, unrealized {money(o.get('unrealized'), sign=True)}"
            + (f", fees {money(o['fees'])}" if o.get("fees") is not None else "") + ".")


def _risk(o: dict, a: dict) -> str:
    usage = o.get("usage") or {}
    shown = ", ".join(f"{k} {v}" for k, v in list(usage.items())[:8])
    return f"Kill switch: {o['state']} ({o['ledger']})." + (f" Usage: {shown}." if shown else "")


def _signals(o: dict, a: dict) -> str:
    rows = o.get("signals") or []
    if not rows:
        return "No active signals right now."
    lines = [f"{len(rows)} signal(s):"]
    for s in rows[:12]:
        strength = "" if s.get("strength") is None else f" strength {s['strength']:.2f}"
        reason = f" — {s['reasons'][0]}" if s.get("reasons") else ""
        lines.append(f"  {s['underlying']} {s.get('name') or ''} {s['direction']}{strength}{reason}")
    lines.append(prompts.load("disclaimer"))
    return "\n".join(lines)


def _payoff(o: dict, a: dict) -> str:
    return (f"{o['strategy']} on {o['underlying']}: net {_net(o.get('net_premium'))} per share; max profit "
            f"{money(o.get('max_profit')) if o.get('max_profit') is not None else 'unlimited'}, max loss "
            f"{money(o.get('max_loss')) if o.get('max_loss') is not None else 'unlimited'}, breakevens "
            f"{', '.join(px(b) for b in o.get('breakevens') or []) or 'n/a'}.")


def _tax(o: dict, a: dict) -> str:
    st, lt, s = o.get("short_term") or {}, o.get("long_term") or {}, o.get("section_1256") or {}
    return (f"Tax year {o['year']} (wash-sale matching {o.get('wash_sale_matching') or 'default'}): short-term gain "
            f"{money(st.get('gain'), sign=True)}, long-term gain {money(lt.get('gain'), sign=True)}; wash-sale losses "
            f"disallowed {money(o.get('wash_sale_disallowed'))}; Section 1256 net {money(s.get('net'), sign=True)} "
            f"(60% long {money(s.get('long_term_60'), sign=True)}, 40% short {money(s.get('short_term_40'), sign=True)}). "
            f"{o['row_count']} Form 8949 rows. Paper trades are never included.")


def _wash(o: dict, a: dict) -> str:
    if o.get("wash_sale"):
        return o.get("message") or (f"{o['side'].title()} {o['quantity']} {o['symbol']} at {px(o['price'])} would be a "
                                    f"wash sale: {money(o.get('disallowed'))} of loss disallowed.")
    return (f"No wash sale: {o['side']}ing {o['quantity']} {o['symbol']} at {px(o['price'])} would not disallow any "
            f"loss in the {o['account']} account.")


def _audit(o: dict, a: dict) -> str:
    rows = o.get("records") or []
    lines = [f"Last {len(rows)} audit record(s):"]
    for r in rows[-20:]:
        data = r.get("data") or {}
        what = f" {data['tool']} → {data.get('outcome')}" if r["kind"] == "tool_call" and data.get("tool") else ""
        lines.append(f"  {str(r.get('ts') or '')[:19]} {r['kind']}{what} by {r.get('actor') or '?'}")
    return "\n".join(lines)


TEMPLATES: dict[str, Callable[[dict, dict], str]] = {
    "quote": _quote, "chain": _chain, "market_summary": _summary, "backtest": _backtest,
    "place_paper_order": _staged, "orders": _orders, "cancel_order": _cancel, "positions": _positions,
    "portfolio_greeks": _greeks, "pnl": _pnl, "risk_status": _risk, "signals": _signals,
    "strategy_payoff": _payoff, "tax_summary": _tax, "wash_sale_check": _wash,
    "audit_log": _audit,
}


def for_call(call: ToolCall) -> str:
    """The answer for one finished tool call (its error explained when it failed)."""
    if not call.ok:
        err = call.error or {}
        field = f" (field: {err['field']})" if err.get("field") else ""
        return f"I couldn't run {call.name}: {err.get('message', 'unknown error')}{field}."
    out = call.output or {}
    if out.get("status") == "needs_person_confirmation":
        shown = ", ".join(f"{k} {v}" for k, v in (out.get("args") or {}).items())
        return prompts.load("needs_person").format(action=call.name.replace("_", " "), args=shown)
    try:
        return TEMPLATES[call.name](out, call.args)
    except (KeyError, TypeError, ValueError) as err:  # an output field missing: still show the data
        return f"{call.name} returned: {call.output} ({type(err).__name__} formatting it)"


def fixed(kind: str, topic: str = "") -> str:
    """Texts that need no tool: greeting, thanks, off-topic, refusals and education."""
    if kind == "refusal":
        return prompts.load(f"refusals/{topic}")
    if kind == "education":
        topic = "vertical" if topic.endswith("vertical") else topic
        name = {"options": "general", "option": "general", "an option": "general", "call": "general",
                "a call": "general", "put": "general", "a put": "general", "implied volatility": "iv"
                }.get(topic, topic).replace(" ", "_")
        return prompts.load(f"education/{name}") if prompts.exists(f"education/{name}") else prompts.load(
            "education/general")
    return prompts.load(kind)
