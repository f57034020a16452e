"""The one formatting layer of the chat channels: tool outputs and answers → a surface-neutral
:class:`Reply` → Telegram HTML, Slack mrkdwn / Block Kit, or plain text.

The wording of answers is :mod:`agent.answers`' (one template per tool, quoting the numbers); this
module only decides the *shape* per surface: row lines go into a monospace table (an option chain
becomes a calls | strike | puts grid), charts become PNG images (plotly figures rendered by kaleido
driving Debian's Chromium, as the backtest report does), a staged order gets Confirm/Cancel
buttons, errors become sentences a person understands, and audit events become one pushed line.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent import answers
from agent.types import AskResult, ToolCall

Surface = Literal["telegram", "slack", "text"]

TELEGRAM_LIMIT = 4000     # Bot API: 4096 characters per message, less our markup
SLACK_SECTION_LIMIT = 2900  # Block Kit: 3000 characters per section text
CHAIN_ROWS = 14           # strikes shown in a chat table; a phone screen is narrow


@dataclass(frozen=True)
class Button:
    """An action the person may take on this message; ``key`` names what it acts on."""

    label: str
    action: Literal["confirm", "cancel"]
    key: str


@dataclass
class Reply:
    """What a bot sends: prose, an optional monospace table, an optional PNG, optional buttons."""

    text: str
    table: str | None = None
    buttons: list[Button] = field(default_factory=list)
    ok: bool = True
    charts: list[ToolCall] = field(default_factory=list)  # outputs to draw after the text is sent

    def plain(self) -> str:
        """Everything as plain text (notifications, logs, surfaces without markup)."""
        return self.text + (f"\n{self.table}" if self.table else "")


# --- tool outputs → Reply ---------------------------------------------------------------------------
def chain_table(out: dict, rows: int = CHAIN_ROWS) -> str:
    """Calls | strike | puts, nearest the money first in strike order: bid/ask, IV and delta."""
    by_strike: dict[float, dict[str, dict]] = {}
    for r in out.get("rows") or []:
        by_strike.setdefault(float(r["strike"]), {})[str(r["right"])[0].lower()] = r
    strikes = sorted(by_strike)
    atm = out.get("atm_strike")
    if atm is not None and len(strikes) > rows:
        nearest = sorted(strikes, key=lambda k: abs(k - float(atm)))[:rows]
        strikes = sorted(nearest)
    else:
        strikes = strikes[:rows]

    def side(r: dict | None) -> str:
        if not r:
            return f"{'':>11} {'':>5} {'':>5}"
        quote = f"{answers.px(r.get('bid'))}/{answers.px(r.get('ask'))}"
        return f"{quote:>11} {answers.pct(r.get('iv'), 0):>5} {answers.num(r.get('delta'), '+.2f'):>5}"

    head = f"{'CALL bid/ask':>11} {'IV':>5} {'Δ':>5} | {'strike':^7} | {'PUT bid/ask':>11} {'IV':>5} {'Δ':>5}"
    lines = [head, "-" * len(head)]
    for k in strikes:
        mark = "*" if atm is not None and abs(k - float(atm)) < 1e-9 else " "
        lines.append(f"{side(by_strike[k].get('c'))} |{mark}{k:^7g}{mark}| {side(by_strike[k].get('p'))}")
    return "\n".join(lines)


def split_rows(answer: str) -> tuple[str, str | None]:
    """The answer templates indent row lines by two spaces: those rows become the table."""
    prose, rows = [], []
    for line in answer.splitlines():
        (rows if line.startswith("  ") else prose).append(line[2:] if line.startswith("  ") else line)
    return "\n".join(prose).strip(), ("\n".join(rows) if rows else None)


def reply_for_calls(calls: list[ToolCall], answer: str) -> Reply:
    """A Reply for an answer composed from ``calls``: the chain as a grid, other rows as a table."""
    chains = [c for c in calls if c.ok and c.name == "chain" and c.output]
    prose, rows = split_rows(answer)
    if chains:
        return Reply(prose, "\n\n".join(chain_table(c.output) for c in chains))  # type: ignore[arg-type]
    return Reply(prose, rows, ok=all(c.ok is not False for c in calls))


def reply_for_result(result: AskResult) -> Reply:
    """An agent turn: its answer, tables, and Confirm/Cancel buttons when something awaits a person."""
    reply = reply_for_calls(result.tool_calls, result.answer)
    pending = result.pending_confirmation
    if pending:
        key = str(pending.get("ticket_id") or pending.get("key") or "")
        reply.buttons = [Button("✅ Confirm", "confirm", key), Button("✖ Cancel", "cancel", key)]
        reply.text += "\n\nOnly the Confirm button below sends it; typing \"confirm\" does nothing."
    return reply


def reply_for_call(call: ToolCall) -> Reply:
    """A command's single tool call, worded by :func:`agent.answers.for_call`."""
    return reply_for_calls([call], answers.for_call(call))


# --- charts → PNG -----------------------------------------------------------------------------------
def chart_for(call: ToolCall) -> Any | None:
    """A plotly figure for outputs that are charts (chain smile, payoff at expiry, backtest equity),
    else ``None``."""
    out = call.output or {}
    if not call.ok or not (out.get("rows") or out.get("curve") or out.get("equity_curve")):
        return None
    import plotly.graph_objects as go

    if call.name == "chain" and out.get("rows"):
        fig = go.Figure()
        for right, name in (("c", "calls"), ("p", "puts")):
            pts = [(r["strike"], r["iv"] * 100) for r in out["rows"]
                   if str(r["right"])[0].lower() == right and r.get("iv") is not None]
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers", name=name))
        if out.get("spot") is not None:
            fig.add_vline(x=out["spot"], line_dash="dot", annotation_text=f"spot {out['spot']:.2f}")
        return fig.update_layout(title=f"{out['underlying']} {out['expiry']} implied volatility by strike",
                                 xaxis_title="strike", yaxis_title="IV %")
    if call.name == "strategy_payoff" and out.get("curve"):
        fig = go.Figure(go.Scatter(x=[p["spot"] for p in out["curve"]], y=[p["pnl"] for p in out["curve"]],
                                   mode="lines", name="P&L at expiry"))
        fig.add_hline(y=0, line_color="gray")
        return fig.update_layout(title=f"{out['strategy']} on {out['underlying']}: P&L at expiry",
                                 xaxis_title="spot", yaxis_title="P&L $")
    if call.name == "backtest" and out.get("equity_curve"):
        fig = go.Figure(go.Scatter(x=[p["date"] for p in out["equity_curve"]],
                                   y=[p["equity"] for p in out["equity_curve"]], mode="lines", name="equity"))
        return fig.update_layout(title=f"Backtest {out['strategy']} on {out['underlying']}: equity",
                                 xaxis_title="date", yaxis_title="equity $")
    return None


def drawable(call: ToolCall) -> bool:
    """Whether :func:`chart_image` has something to show for ``call`` (cheap: nothing is drawn)."""
    out = call.output or {}
    if not call.ok:
        return False
    if call.name == "backtest" and out.get("png") and Path(out["png"]).is_file():
        return True
    return call.name in ("chain", "strategy_payoff", "backtest") and bool(
        out.get("rows") or out.get("curve") or out.get("equity_curve"))


def render_png(fig: Any, browser: Path) -> bytes:
    """PNG bytes of ``fig`` through :func:`engine.backtest.report.write_png` (kaleido + Chromium)."""
    from engine.backtest.report import write_png

    with tempfile.TemporaryDirectory(prefix="smart0dte-chart-") as tmp:
        path = write_png(fig, Path(tmp) / "chart.png", Path(browser))
        return path.read_bytes()


async def chart_image(calls: list[ToolCall], browser: Path) -> tuple[bytes, str] | str | None:
    """The first chart among ``calls`` as ``(png bytes, file name)`` — a backtest's own PNG, or one
    drawn now in a worker thread — or a sentence saying why it could not be drawn, or ``None``."""
    from engine.backtest.report import PngExportError

    for call in calls:
        png = (call.output or {}).get("png") if call.ok and call.name == "backtest" else None
        if png and Path(png).is_file():
            return Path(png).read_bytes(), Path(png).name
        fig = chart_for(call)
        if fig is None:
            continue
        try:
            return await asyncio.to_thread(render_png, fig, browser), f"{call.name}.png"
        except PngExportError as err:
            return f"(The chart could not be drawn: {err.args[0] if err.args else err}.)"
    return None


# --- errors a person understands --------------------------------------------------------------------
_ERRORS = {
    "invalid_input": "That didn't work: {message}.",
    "invalid_arguments": "That didn't work: {message}.",
    "unknown_symbol": "I don't know that symbol: {message}. I cover SPY, QQQ, IWM and VIX.",
    "malformed_symbol": "That symbol doesn't look right: {message}.",
    "no_data": "There is no market data for that right now: {message}.",
    "stale_data": "The market data is stale, so I won't act on it: {message}.",
    "market_closed": "The market is closed: {message}.",
    "risk_rejected": "The risk guard refused the order: {message}. Nothing was sent.",
    "permission_denied": "You're not allowed to do that: {message}.",
    "ticket_error": "That ticket can't be used any more: {message}. Ask again to stage a fresh order.",
    "not_found": "I couldn't find that: {message}.",
    "broker_error": "The broker refused or failed: {message}. Check /positions before trying again.",
    "feed_error": "The market data feed has a problem: {message}. Try again in a moment.",
}
_HINT = {"telegram": " Send /help for what I can do.", "slack": " Type /help for what I can do.", "text": ""}


def error_reply(err: BaseException | dict, surface: Surface = "text") -> Reply:
    """A typed engine error (or its ``to_dict``) as one sentence; anything else as an apology."""
    data = err if isinstance(err, dict) else getattr(err, "to_dict", lambda: None)()
    if not data:
        return Reply("Sorry, something went wrong on my side; it has been logged. Please try again.", ok=False)
    message = str(data.get("message") or "").rstrip(".")
    field_ = f" (field: {data['field']})" if data.get("field") else ""
    template = _ERRORS.get(str(data.get("type")), "That didn't work: {message}.")
    hint = _HINT[surface] if data.get("type") in ("invalid_input", "invalid_arguments") else ""
    return Reply(template.format(message=message + field_) + hint, ok=False)


# --- pushed events ----------------------------------------------------------------------------------
_QUIET_STATES = {"initialized", "submitted", "accepted", "pending", "working", "partially_filled", "filled"}


def event_line(record: dict) -> str | None:
    """One short line for an audit record worth pushing (fills, stops, halts…), else ``None``."""
    kind, d = record.get("kind", ""), record.get("data") or {}
    ledger = (record.get("ledger") or "").upper()
    if kind == "order.fill":
        legs = ", ".join(f"{x.get('side')} {x.get('quantity')}× {x.get('symbol')} @ {answers.px(x.get('price'))}"
                         for x in d.get("legs") or [])
        net = float(d.get("net_price") or 0)  # signed per share: > 0 paid (debit), < 0 received (credit)
        return (f"💰 {ledger} fill: order {d.get('order_id')} {d.get('quantity')} @ {'credit' if net < 0 else 'debit'} "
                f"{answers.px(abs(net))} ({legs}); fees {answers.money(_sum(d, 'commission', 'fees'))}.")
    if kind == "order.state":
        if str(d.get("to")) in _QUIET_STATES:
            return None  # the fill line (or nothing at all) says it better
        why = f": {d['reason']}" if d.get("reason") else ""
        return f"📋 {ledger} order {d.get('order_id')} is {d.get('to')}{why}."
    if kind == "kill_switch":
        why = f" ({d['reason']})" if d.get("reason") else ""
        return f"🛑 Kill switch on {ledger}: {d.get('from')} → {str(d.get('to')).upper()}{why}, by {record.get('actor')}."
    if kind == "mode.switch":
        return f"⚠️ Trading mode switched from {d.get('from')} to {str(d.get('to')).upper()} by {record.get('actor')}."
    if kind == "expiry":
        return (f"⏱ {ledger} expiry: {d.get('action')} {d.get('quantity')}× {d.get('symbol')}"
                f" (settlement {answers.px(d.get('settlement'))}, cash {answers.money(d.get('cash'))}).")
    if kind.startswith("monitor."):
        what = {"exit": "Exit rule hit", "stop": "Stop-out", "flatten": "Auto-flatten"}.get(kind[8:], kind[8:].title())
        legs = ", ".join(str(x.get("symbol")) for x in d.get("legs") or [])
        return f"🔔 {what} on {ledger}: closing {legs or 'positions'} — {d.get('reason') or 'rule triggered'}."
    return None


def _sum(d: dict, *keys: str) -> float:
    return sum(float(d.get(k) or 0) for k in keys)


# --- surface markup ---------------------------------------------------------------------------------
def telegram_html(reply: Reply) -> str:
    """Telegram ``parse_mode=HTML``: escaped prose, the table in ``<pre>``, within the size limit."""
    text = html.escape(reply.text)
    if reply.table:
        room = TELEGRAM_LIMIT - len(text) - 20
        table = reply.table if len(reply.table) <= room else reply.table[:max(room - 2, 0)] + "\n…"
        text += f"\n<pre>{html.escape(table)}</pre>"
    return text[:TELEGRAM_LIMIT] or "…"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(reply: Reply, *, done: str | None = None) -> list[dict]:
    """Block Kit: prose and table sections, then Confirm/Cancel buttons (or ``done`` in their place)."""
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": _cut(slack_escape(reply.text))}}]
    if reply.table:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": "```" + _cut(slack_escape(reply.table), 6) + "```"}})
    if reply.buttons and done is None:
        blocks.append({"type": "actions", "block_id": "smart0dte_ticket", "elements": [
            {"type": "button", "action_id": f"smart0dte_{b.action}", "value": b.key,
             "text": {"type": "plain_text", "text": b.label},
             **({"style": "primary"} if b.action == "confirm" else {"style": "danger"})} for b in reply.buttons]})
    if done:
        blocks.append(slack_note(done))
    return blocks


def slack_note(text: str) -> dict:
    """A small context line under a message (who pressed what, and what came of it)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(slack_escape(text))}]}


def _cut(text: str, reserve: int = 0) -> str:
    limit = SLACK_SECTION_LIMIT - reserve
    return text if len(text) <= limit else text[:limit - 2] + "\n…"
