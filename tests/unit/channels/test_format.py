"""The formatting layer: tables, buttons, errors, pushed lines and each surface's markup."""

from __future__ import annotations

import logging

import pytest

from agent.channels import format as fmt
from agent.types import AskResult, ToolCall
from engine.core.errors import RiskRejected, TicketError, UnknownSymbol


def chain_output(strikes=range(640, 661), atm=650.0) -> dict:
    rows = []
    for k in strikes:
        for right, delta in (("call", 0.5 - (k - atm) / 20), ("put", -0.5 - (k - atm) / 20)):
            rows.append({"symbol": f"SPY{k}{right[0]}", "strike": float(k), "right": right, "bid": 1.0 + k / 1000,
                         "ask": 1.05 + k / 1000, "mid": 1.02, "iv": 0.2 + abs(k - atm) / 100, "delta": delta})
    return {"underlying": "SPY", "expiry": "2026-11-20", "spot": 650.1, "atm_strike": atm, "ts": "2026-11-20T15:30:00Z",
            "source": "sim", "rows": rows}


def test_chain_table_is_a_calls_strike_puts_grid_around_the_money():
    table = fmt.chain_table(chain_output(), rows=5)
    lines = table.splitlines()
    assert lines[0].split("|")[1].strip() == "strike" and len(lines) == 2 + 5
    strikes = [float(line.split("|")[1].strip(" *")) for line in lines[2:]]
    assert strikes == [648, 649, 650, 651, 652], "the five strikes nearest the money, in order"
    atm = next(line for line in lines if "*" in line)
    assert "650" in atm and "+0.50" in atm and "-0.50" in atm and "20%" in atm
    assert "1.65/1.70" in atm, "the call's bid/ask of the row's own strike"


def test_chain_answer_becomes_prose_plus_table():
    call = ToolCall("chain", {"underlying": "SPY"}, ok=True, output=chain_output())
    reply = fmt.reply_for_call(call)
    assert reply.text.startswith("SPY options expiring 2026-11-20") and "\n" not in reply.text
    assert reply.table and "CALL bid/ask" in reply.table


def test_indented_rows_become_the_table():
    out = {"account": "paper", "positions": [
        {"symbol": "SPY261120C00652000", "quantity": 1, "avg_price": 0.67, "mark": 0.7, "unrealized_pnl": 3.0}]}
    reply = fmt.reply_for_call(ToolCall("positions", {}, ok=True, output=out))
    assert reply.text == "1 position(s) on the paper ledger:"
    assert reply.table.startswith("SPY261120C00652000: +1 avg 0.67") and "+$3.00" in reply.table


def test_pending_order_gets_confirm_and_cancel_buttons_with_its_ticket():
    result = AskResult("Staged PAPER ticket T1.", pending_confirmation={"kind": "order", "ticket_id": "T1"})
    reply = fmt.reply_for_result(result)
    assert [(b.action, b.key) for b in reply.buttons] == [("confirm", "T1"), ("cancel", "T1")]
    assert "typing \"confirm\" does nothing" in reply.text
    assert not fmt.reply_for_result(AskResult("SPY: bid 1")).buttons


@pytest.mark.parametrize(("err", "words"), [
    (UnknownSymbol("unknown symbol 'XYZ'", field="symbol"), ["don't know that symbol", "XYZ", "SPY, QQQ"]),
    (RiskRejected("order refused: max_loss_per_order"), ["risk guard refused", "Nothing was sent"]),
    (TicketError("ticket T1 was already confirmed"), ["can't be used any more", "already confirmed"]),
])
def test_typed_errors_read_as_sentences(err, words):
    reply = fmt.error_reply(err, "telegram")
    assert not reply.ok and all(w in reply.text for w in words), reply.text


def test_an_unexpected_error_never_shows_internals():
    reply = fmt.error_reply(RuntimeError("password=hunter2 at /srv/x.py line 3"), "slack")
    assert "hunter2" not in reply.text and "went wrong" in reply.text


def test_invalid_input_hints_at_help_per_surface():
    err = {"type": "invalid_arguments", "message": "period: must be today, week or month", "field": "period"}
    assert "Send /help" in fmt.error_reply(err, "telegram").text
    assert "Type /help" in fmt.error_reply(err, "slack").text


def test_event_lines():
    fill = {"kind": "order.fill", "ledger": "paper", "data": {
        "order_id": "T1", "quantity": 1, "net_price": "0.67", "commission": "1.00", "fees": "0.04",
        "legs": [{"symbol": "SPY261120C00652000", "side": "buy", "quantity": 1, "price": "0.67"}]}}
    line = fmt.event_line(fill)
    assert "PAPER fill: order T1 1 @ debit 0.67" in line and "SPY261120C00652000 @ 0.67" in line and "$1.04" in line
    sold = fmt.event_line({**fill, "data": {**fill["data"], "net_price": "-0.65"}})
    assert "@ credit 0.65" in sold
    assert fmt.event_line({"kind": "order.state", "data": {"to": "accepted"}}) is None
    rejected = fmt.event_line({"kind": "order.state", "ledger": "live", "data": {"order_id": "T2", "to": "rejected",
                                                                                 "reason": "collar"}})
    assert rejected == "📋 LIVE order T2 is rejected: collar."
    halt = fmt.event_line({"kind": "kill_switch", "ledger": "paper", "actor": "risk-guard",
                           "data": {"from": "active", "to": "halted", "reason": "daily loss limit reached"}})
    assert "HALTED" in halt and "daily loss limit" in halt
    flat = fmt.event_line({"kind": "monitor.flatten", "ledger": "paper",
                           "data": {"reason": "0DTE auto-flatten at 15:50 ET", "legs": [{"symbol": "SPY1"}]}})
    assert flat.startswith("🔔 Auto-flatten on PAPER: closing SPY1")
    stop = fmt.event_line({"kind": "monitor.exit", "ledger": "paper", "data": {"reason": "stop at -50%", "legs": []}})
    assert "Exit rule hit" in stop and "stop at -50%" in stop
    exp = fmt.event_line({"kind": "expiry", "ledger": "paper", "data": {"action": "EXPIRE", "quantity": 1,
                                                                         "symbol": "SPY1", "settlement": 650, "cash": 0}})
    assert "EXPIRE 1× SPY1" in exp
    assert "LIVE" in fmt.event_line({"kind": "mode.switch", "actor": "person:a", "data": {"from": "paper", "to": "live"}})
    assert fmt.event_line({"kind": "tool_call", "data": {}}) is None


def test_telegram_html_escapes_and_fits_one_message():
    reply = fmt.Reply("a <b> & c", table="x" * 10_000)
    html = fmt.telegram_html(reply)
    assert html.startswith("a &lt;b&gt; &amp; c\n<pre>") and html.endswith("</pre>")
    assert len(html) <= fmt.TELEGRAM_LIMIT


def test_slack_blocks_buttons_then_done_line():
    reply = fmt.Reply("Staged <T1> & more", table="row", buttons=[fmt.Button("Confirm", "confirm", "T1"),
                                                                   fmt.Button("Cancel", "cancel", "T1")])
    blocks = fmt.slack_blocks(reply)
    assert blocks[0]["text"]["text"] == "Staged &lt;T1&gt; &amp; more"
    assert blocks[1]["text"]["text"] == "```row```"
    actions = blocks[2]["elements"]
    assert [(a["action_id"], a["value"], a["style"]) for a in actions] == [
        ("smart0dte_confirm", "T1", "primary"), ("smart0dte_cancel", "T1", "danger")]
    done = fmt.slack_blocks(reply, done="Confirmed")
    assert all(b["type"] != "actions" for b in done) and done[-1]["type"] == "context"
    assert all(len(b["text"]["text"]) <= 3000 for b in fmt.slack_blocks(fmt.Reply("y" * 9000)) if "text" in b)


def test_telegram_token_never_reaches_the_log(caplog):
    from agent.channels.telegram import _hide_token_in_logs

    _hide_token_in_logs("123:very-secret")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"',
                                        "https://api.telegram.org/bot123:very-secret/getUpdates")
    assert "very-secret" not in caplog.text and "<bot-token>" in caplog.text


def test_charts_are_figures_of_the_tools_own_series():
    payoff = ToolCall("strategy_payoff", {}, ok=True, output={
        "strategy": "iron_condor", "underlying": "SPY", "curve": [{"spot": 640, "pnl": -400}, {"spot": 650, "pnl": 100}]})
    fig = fmt.chart_for(payoff)
    assert list(fig.data[0].x) == [640, 650] and list(fig.data[0].y) == [-400, 100]
    chain = ToolCall("chain", {}, ok=True, output=chain_output(range(649, 652)))
    smile = fmt.chart_for(chain)
    assert [t.name for t in smile.data] == ["calls", "puts"] and list(smile.data[0].y) == pytest.approx([21, 20, 21])
    assert fmt.drawable(chain) and fmt.drawable(payoff)
    assert not fmt.drawable(ToolCall("quote", {}, ok=True, output={"symbol": "SPY"}))
    assert not fmt.drawable(ToolCall("chain", {}, ok=False, error={"type": "no_data"}))


async def test_a_chart_that_cannot_be_drawn_says_why(tmp_path):
    chain = ToolCall("chain", {}, ok=True, output=chain_output(range(649, 652)))
    said = await fmt.chart_image([chain], tmp_path / "no-chromium-here")
    assert isinstance(said, str) and "could not be drawn" in said and "no Chromium" in said


def test_the_slack_manifest_declares_every_slash_command_the_bot_serves():
    import json
    from pathlib import Path

    from agent.channels import slack

    manifest = json.loads((Path(slack.__file__).parent / "slack_manifest.json").read_text())
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == {f"/{c}" for c in slack.SLASH_COMMANDS}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}


def test_telegram_token_is_redacted_for_every_logger_reaching_the_root_handlers():
    from agent.channels.telegram import _hide_token_in_logs

    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        _hide_token_in_logs("555:child-secret")
        logging.getLogger("telegram.ext.Updater").error("network error at /bot555:child-secret/getUpdates")
    finally:
        root.removeHandler(handler)
    assert seen and all("child-secret" not in m for m in seen)
