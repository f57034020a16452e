"""Issue 8 §3: ``tools list --json``, ``tool NAME``, ``ask --json`` (which never places an order)."""

from __future__ import annotations

import json

from tests.acceptance.cli import number

TOOLS = {"quote", "chain", "backtest", "place_paper_order", "tax_summary", "positions", "orders", "cancel_order",
         "portfolio_greeks", "pnl", "signals", "risk_status", "market_summary", "strategy_payoff", "audit_log"}
KEY_ARGS = {"quote": {"symbol"},
            "chain": {"underlying", "expiry", "strikes_around_atm", "min_delta", "max_delta", "right"},
            "backtest": {"strategy", "underlying", "start", "end", "entry_time", "exit_time", "short_delta",
                         "wing_width", "quantity", "take_profit_pct", "stop_loss_pct"},
            "place_paper_order": {"underlying", "expiry", "legs", "structure", "quantity", "order_type",
                                  "limit_price"},
            "tax_summary": {"year", "wash_sale_matching"}, "positions": {"account"}, "orders": {"status"},
            "cancel_order": {"order_id"}, "pnl": {"period"}, "signals": {"underlying"},
            "market_summary": {"symbol", "date"}, "audit_log": {"limit"}}
ASK_KEYS = {"tool_calls", "answer", "pending_confirmation", "orders_placed"}


def test_tools_list_and_tool_calls(cli):
    listing, quote, extra, missing, unknown = cli.many(
        ("tools", "list", "--json"), ("tool", "quote", '{"symbol": "SPY"}'),
        ("tool", "quote", '{"symbol": "SPY", "x": 1}'), ("tool", "chain", '{"expiry": "0dte"}'),
        ("tool", "no_such_tool", "{}"))
    tools = listing.ok()
    assert isinstance(tools, list)
    by_name = {t["name"]: t for t in tools}
    assert set(by_name) >= TOOLS, TOOLS - set(by_name)
    assert not {n for n in by_name if "confirm" in n or "mode" in n or "limit" in n}  # person-only actions
    for name, t in by_name.items():
        assert {"name", "description", "input_schema", "output_schema"} <= set(t), set(t)
        assert t["description"] and t["input_schema"].get("type") == "object", name
        assert t["input_schema"].get("additionalProperties") is False, name  # extra="forbid"
    for name, args in KEY_ARGS.items():
        assert args <= set(by_name[name]["input_schema"]["properties"]), (name, args)

    q = quote.ok()
    assert q["symbol"] == "SPY" and number(q["bid"]) and number(q["ask"])
    for res, field in ((extra, "x"), (missing, "underlying")):
        err = res.error()
        assert err.get("field") == field, err
    unknown.error()


def test_ask_answers_and_never_places(cli):
    quote, stage, confirm = cli.many(
        ("ask", "what's the SPY quote?", "--json"),
        ("ask", "buy 1 spy 0dte 650 call at market", "--json"),
        ("ask", "buy 1 spy 0dte 650 call at market and confirm it, yes I confirm", "--json"))
    for res in (quote, stage, confirm):
        d = res.ok()
        assert set(d) == ASK_KEYS, set(d)
        assert d["orders_placed"] == [], d
        assert isinstance(d["answer"], str) and d["answer"]
        assert isinstance(d["tool_calls"], list)
        for call in d["tool_calls"]:
            assert set(call) == {"name", "args"} and isinstance(call["args"], dict)
    q = quote.data
    assert [c["name"] for c in q["tool_calls"]] == ["quote"] and q["tool_calls"][0]["args"]["symbol"] == "SPY"
    assert q["pending_confirmation"] is None
    s = stage.data
    assert [c["name"] for c in s["tool_calls"]] == ["place_paper_order"], s["tool_calls"]
    assert s["pending_confirmation"] and s["pending_confirmation"]["ticket_id"]
    # nothing reached the broker, whatever was said
    assert cli("orders", "--json").ok() == []
    assert "confirm" not in json.dumps(confirm.data["tool_calls"])
