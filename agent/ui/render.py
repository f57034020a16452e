"""Tool results as Markdown for people: tables with the trader's columns, money with signs.

Every function takes the tool's output JSON (``ToolCall.output``) and returns Markdown; the
Chainlit app puts it in the tool's step. :func:`tool_markdown` dispatches on the tool name and
falls back to a key/value table, so a new tool is readable before it gets its own renderer.
Charts (equity curve, payoff, heat map) live in :mod:`agent.ui.charts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Row = Sequence[Any]


def cell(value: Any, digits: int = 2) -> str:
    """One table cell: numbers rounded, ``None`` as an en dash, pipes escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def money(value: Any) -> str:
    """Dollars with a sign: ``+$1,234.50`` / ``-$427.00``; ``None`` as an en dash."""
    if value is None:
        return "–"
    v = float(value)
    return f"{'-' if v < 0 else '+' if v > 0 else ''}${abs(v):,.2f}"


def dollars(value: Any) -> str:
    """An amount without a sign (max loss, fees): ``$427.00``."""
    return "–" if value is None else f"${abs(float(value)):,.2f}"


def pct(value: Any, digits: int = 1) -> str:
    """A decimal fraction as a percentage (0.153 → ``15.3%``)."""
    return "–" if value is None else f"{float(value) * 100:.{digits}f}%"


def qty(value: Any) -> Any:
    """Whole contracts as integers (``-1``, not ``-1.00``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def table(headers: Sequence[str], rows: Iterable[Row], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``align`` is one of l/r/c per column (default right)."""
    align = align or "r" * len(headers)
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def chain(out: dict) -> str:
    """Calls and puts side by side per strike: bid, ask, IV, delta (the ATM strike in bold)."""
    by_strike: dict[float, dict[str, dict]] = {}
    for r in out.get("rows") or []:
        by_strike.setdefault(float(r["strike"]), {})[r["right"]] = r
    atm = out.get("atm_strike")

    def side(r: dict | None) -> list[str]:
        if not r:
            return ["–"] * 4
        return [cell(r.get("bid")), cell(r.get("ask")), pct(r.get("iv")), cell(r.get("delta"), 2)]

    rows = []
    for k in sorted(by_strike):
        strike = f"**{k:,.2f}**" if atm is not None and float(atm) == k else f"{k:,.2f}"
        rows.append([*side(by_strike[k].get("call")), strike, *side(by_strike[k].get("put"))])
    head = (f"**{out.get('underlying')} {out.get('expiry')}** · spot {cell(out.get('spot'))} · "
            f"ATM {cell(atm)} · {out.get('source') or ''} {str(out.get('ts') or '')[:19].replace('T', ' ')} ET")
    cols = ["Call bid", "Call ask", "Call IV", "Call Δ", "Strike", "Put bid", "Put ask", "Put IV", "Put Δ"]
    return head + "\n\n" + table(cols, rows, "rrrrcrrrr")


def quote(out: dict) -> str:
    return table(["Symbol", "Bid", "Ask", "Mid", "Last", "Spread", "Time"],
                 [[out.get("symbol"), out.get("bid"), out.get("ask"), out.get("mid"), out.get("last"),
                   out.get("spread"), str(out.get("ts") or "")[:19]]], "lrrrrrl")


LEG_COLS = (("side", "Side", "l"), ("quantity", "Qty", "r"), ("symbol", "Contract", "l"), ("right", "Right", "l"),
            ("strike", "Strike", "r"), ("expiry", "Expiry", "l"), ("bid", "Bid", "r"), ("ask", "Ask", "r"))


def legs(rows: Iterable[dict]) -> str:
    """Order or strategy legs; columns no leg has are left out (a payoff's legs carry no quotes)."""
    rows = [{**r, "quantity": r.get("quantity", r.get("qty", r.get("ratio")))} for r in rows]
    cols = [c for c in LEG_COLS if any(r.get(c[0]) is not None for r in rows)]
    return table([label for _, label, _ in cols], [[r.get(k) for k, _, _ in cols] for r in rows],
                 "".join(a for _, _, a in cols))


def risk_checks(checks: Iterable[dict]) -> str:
    return table(["Check", "Result", "Why"],
                 [[c.get("name"), "pass" if c.get("passed") else "**FAIL**", c.get("reason")] for c in checks], "lll")


def positions(out: dict) -> str:
    rows = out.get("positions") or []
    if not rows:
        return f"No open positions in the {out.get('account', 'paper')} account."
    return table(["Symbol", "Qty", "Avg price", "Mark", "Market value", "Unrealized", "Realized"],
                 [[r.get("symbol"), qty(r.get("quantity")), r.get("avg_price"), r.get("mark"), money(r.get("market_value")),
                   money(r.get("unrealized_pnl")), money(r.get("realized_pnl"))] for r in rows], "lrrrrrr")


def orders(out: dict) -> str:
    rows = out.get("orders") or []
    if not rows:
        return f"No {out.get('status') or ''} orders in the {out.get('ledger', 'paper')} ledger.".replace("  ", " ")
    return table(["Order", "Status", "Underlying", "Legs", "Qty", "Filled", "Type", "Limit", "Avg fill"],
                 [[o.get("order_id"), o.get("status"), o.get("underlying"),
                   ", ".join(f"{leg.get('side')} {leg.get('symbol')}" for leg in o.get("legs") or []),
                   o.get("quantity"), o.get("filled_quantity"), o.get("order_type"), o.get("limit_price"),
                   o.get("avg_fill_price")] for o in rows], "lllllrrlrr"[:9])


GREEK_COLS = (("delta_shares", "Δ shares"), ("delta_dollars", "Δ $"), ("gamma_dollars_1pct", "Γ $/1%"),
              ("vega_per_point", "Vega $/pt"), ("theta_per_day", "Θ $/day"), ("value", "Value $"))


def greeks(out: dict) -> str:
    rows = [[name, *[(g or {}).get(k) for k, _ in GREEK_COLS]]
            for name, g in [*(out.get("by_underlying") or {}).items(), ("**Total**", out.get("total"))]]
    return table(["", *[label for _, label in GREEK_COLS]], rows, "lrrrrrr")


def pnl(out: dict) -> str:
    return table(["Ledger", "Period", "Realized", "Unrealized", "Fees", "Total", "Trades"],
                 [[out.get("ledger"), out.get("period"), money(out.get("realized")), money(out.get("unrealized")),
                   dollars(out.get("fees")), money(out.get("total")), out.get("trades")]], "llrrrrr")


BACKTEST_METRICS = (("trades", "Trades", cell), ("total_pnl", "Total P&L", money), ("win_rate", "Win rate", pct),
                    ("profit_factor", "Profit factor", cell), ("max_drawdown", "Max drawdown", dollars),
                    ("sharpe", "Sharpe", cell), ("sortino", "Sortino", cell), ("expectancy", "Expectancy", money),
                    ("avg_win", "Avg win", money), ("avg_loss", "Avg loss", money), ("sessions", "Sessions", cell))


def backtest(out: dict) -> str:
    head = (f"**{out.get('strategy')} on {out.get('underlying')}**, {out.get('start')} → {out.get('end')} "
            f"({out.get('data')} prices, {out.get('source') or 'store'} history)")
    body = table(["Metric", "Value"], [[label, fmt(out.get(k))] for k, label, fmt in BACKTEST_METRICS], "lr")
    notes = "".join(f"\n- {n}" for n in out.get("notes") or [])
    return head + "\n\n" + body + ("\n\nNotes:" + notes if notes else "")


def payoff(out: dict) -> str:
    net = out.get("net_premium")
    kind = "credit" if net is not None and net < 0 else "debit"
    head = (f"**{out.get('strategy')} on {out.get('underlying')}** (spot {cell(out.get('spot'))}): net {kind} "
            f"{cell(abs(net) if net is not None else None)} per share; max profit {dollars(out.get('max_profit'))}, "
            f"max loss {dollars(out.get('max_loss'))}, breakevens {', '.join(cell(b) for b in out.get('breakevens') or [])}")
    return head + "\n\n" + legs(out.get("legs") or [])


def tax_summary(out: dict) -> str:
    s1256 = out.get("section_1256") or {}
    rows = [["Short-term gain", money((out.get("short_term") or {}).get("gain"))],
            ["Long-term gain", money((out.get("long_term") or {}).get("gain"))],
            ["Wash-sale loss disallowed", money(out.get("wash_sale_disallowed"))],
            ["Section 1256 net", money(s1256.get("net") if isinstance(s1256, dict) else s1256)],
            ["Form 8949 rows", out.get("row_count")]]
    return f"**Tax year {out.get('year')}** (wash-sale matching {out.get('wash_sale_matching')})\n\n" + \
        table(["", "Amount"], rows, "lr")


def order_ticket(out: dict) -> str:
    """The staged ticket (also used for the Confirm/Cancel preview)."""
    p = out.get("preview") or {}
    net = p.get("net_price")
    lines = [f"**{str(out.get('ledger', 'paper')).upper()} ticket `{out.get('ticket_id')}`** — expires "
             f"{str(out.get('expires_at') or '')[:19].replace('T', ' ')} UTC", "", legs(p.get("legs") or []), "",
             table(["Net price", "Max profit", "Max loss", "Breakevens", "Fees"],
                   [[f"{cell(abs(net) if net is not None else None)} {p.get('price_effect') or ''}".strip(),
                     dollars(p.get("max_profit")), dollars(p.get("max_loss")),
                     ", ".join(cell(b) for b in p.get("breakevens") or []) or "–", dollars(p.get("fees"))]], "rrrrr"),
             "", "Risk checks:", "", risk_checks((out.get("risk") or {}).get("checks") or [])]
    return "\n".join(lines)


def generic(out: Any) -> str:
    """Any other output: a key/value table of its scalars, the rest as JSON."""
    if not isinstance(out, dict):
        return "```json\n" + json.dumps(out, indent=2, default=str)[:6000] + "\n```"
    scalars = [[k, v] for k, v in out.items() if not isinstance(v, dict | list)]
    nested = {k: v for k, v in out.items() if isinstance(v, dict | list)}
    parts = [table(["Field", "Value"], scalars, "ll")] if scalars else []
    if nested:
        parts.append("```json\n" + json.dumps(nested, indent=2, default=str)[:6000] + "\n```")
    return "\n\n".join(parts)


RENDERERS: dict[str, Callable[[dict], str]] = {
    "chain": chain, "quote": quote, "positions": positions, "orders": orders, "portfolio_greeks": greeks,
    "pnl": pnl, "backtest": backtest, "strategy_payoff": payoff, "tax_summary": tax_summary,
    "place_paper_order": lambda out: (f"Staged {str(out.get('ledger', 'paper')).upper()} ticket "
                                      f"`{out.get('ticket_id')}`: preview with Confirm and Cancel below."),
}


def tool_markdown(name: str, output: dict | None, error: dict | None = None) -> str:
    """The step body of one tool call: its rendered result, or its error in one clear line."""
    if error:
        field = f" (field: {error['field']})" if error.get("field") else ""
        return f"**Error:** {error.get('message') or error.get('type')}{field}"
    if output is None:
        return "–"
    try:
        return RENDERERS.get(name, generic)(output)
    except Exception:  # an unexpected shape must still show the data, never a traceback
        return generic(output)
