"""The real ``openai`` client and LangChain (``create_agent`` on ``ChatOpenAI``) against our loopback
server: question → tool call → engine → answer with the tool's numbers; streaming; errors."""

from __future__ import annotations

import pytest

from tests.integration.agent.conftest import API_KEY, assert_no_secret
from tests.loopback.openai_server import call, last_tool_json, say, tool_messages


def answer_with_quote(body: dict) -> dict:
    q = last_tool_json(body)
    return say(f"SPY is bid {q['bid']:.2f} and offered at {q['ask']:.2f} (mid {q['mid']:.3f}).")


async def test_question_tool_call_engine_answer_with_numbers(assistant, server, llm_engine):
    server.add(call("quote", {"symbol": "SPY"}), answer_with_quote)
    result = await assistant.ask("where is SPY trading?", "t1")
    assert result.mode == "llm"
    assert [c.public() for c in result.tool_calls] == [{"name": "quote", "args": {"symbol": "SPY"}}]
    quote = result.tool_calls[0].output
    assert f"{quote['bid']:.2f}" in result.answer and f"{quote['ask']:.2f}" in result.answer
    live = await llm_engine.quote("SPY")
    assert abs(quote["mid"] - live.mid) / live.mid < 0.01
    # what went to the model: streaming, our tools with schemas, the result inside the envelope
    first, second = server.requests
    assert first["stream"] is True and first["model"] == "gpt-4o-mini"
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"quote", "chain", "place_paper_order", "backtest", "tax_summary"} <= names
    assert "confirm" not in " ".join(names) and len(names) == 16
    assert first["messages"][0]["role"] == "system" and "0DTE" in first["messages"][0]["content"]
    envelope = tool_messages(second)[0]["content"]
    assert envelope.startswith('<tool_output tool="quote" status="ok" trust="untrusted-data">')
    assert server.headers[0].get("authorization") == f"Bearer {API_KEY}"
    assert_no_secret(server.requests, result.answer)


async def test_streaming_events_in_order(assistant, server):
    server.add(call("chain", {"underlying": "QQQ", "strikes_around_atm": 2}),
               lambda body: say(f"QQQ spot {last_tool_json(body)['spot']:.2f}; {len(last_tool_json(body)['rows'])} "
                                "contracts near the money."))
    events = [e async for e in assistant.stream("QQQ chain near the money", "t2")]
    kinds = [e.kind for e in events]
    assert kinds[0] == "tool_start" and kinds[1] == "tool_end" and kinds[-1] == "final"
    tokens = [e.text for e in events if e.kind == "token"]
    assert len(tokens) > 3  # the answer arrived in pieces
    final = events[-1].result
    assert "".join(tokens).strip() == final.answer and "10 contracts" in final.answer


async def test_staging_sets_pending_confirmation_and_places_nothing(assistant, server, llm_engine):
    server.add(call("place_paper_order", {"underlying": "QQQ", "structure": "iron_condor", "side": "sell",
                                          "short_delta": 0.2, "wing_width": 10}),
               lambda body: say(f"Staged ticket {last_tool_json(body)['ticket_id']}. Please confirm it yourself."))
    result = await assistant.ask("paper-sell a 10-wide QQQ iron condor at 20 delta", "t3")
    pending = result.pending_confirmation
    assert pending and pending["kind"] == "order" and pending["ticket_id"] in result.answer
    assert result.orders_placed == [] and await llm_engine.orders("paper") == []
    assert result.to_json()["pending_confirmation"]["ticket_id"] == pending["ticket_id"]


async def test_bad_arguments_come_back_to_the_model_as_a_typed_error(assistant, server):
    server.add(call("chain", {"underlying": "TSLA"}),
               lambda body: say("Error: " + last_tool_json(body)["error"]["message"]))
    result = await assistant.ask("tsla chain", "t4")
    call_ = result.tool_calls[0]
    assert call_.ok is False and call_.error["type"] == "invalid_arguments" and call_.error["field"] == "underlying"
    assert "unknown underlying" in result.answer
    assert 'status="error"' in tool_messages(server.requests[1])[0]["content"]


async def test_unknown_tool_is_refused(assistant, server, llm_engine):
    server.add(call("confirm_order", {"ticket_id": "T1"}),
               lambda body: say(last_tool_json(body)["error"]["message"]))
    result = await assistant.ask("confirm T1", "t5")
    assert result.tool_calls[0].error["type"] == "not_found" and "no tool named" in result.answer
    assert await llm_engine.orders("paper") == []


async def test_write_tool_is_deferred_to_the_person(assistant, server):
    server.add(call("cancel_order", {"order_id": "ORD-7"}), say("I asked you to approve the cancel."))
    result = await assistant.ask("cancel order ORD-7", "t6")
    assert result.pending_confirmation == {"kind": "cancel_order", "ticket_id": None, "args": {"order_id": "ORD-7"}}
    assert result.tool_calls[0].output["status"] == "needs_person_confirmation"


async def test_memory_carries_the_thread_to_the_model(assistant, server):
    server.add(call("quote", {"symbol": "IWM"}), answer_with_quote, say("As I said, that was IWM."))
    await assistant.ask("iwm?", "mem")
    await assistant.ask("which ticker was that?", "mem")
    msgs = server.requests[-1]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1]["content"] == "iwm?" and "bid" in msgs[2]["content"]
    assert len(assistant.history("mem")) == 4


async def test_two_tools_in_one_turn(assistant, server):
    server.add(call("quote", {"symbol": "SPY"}, ("quote", {"symbol": "VIX"})),
               lambda body: say(" / ".join(f"{m['content'][:40]}" for m in tool_messages(body))))
    result = await assistant.ask("spy and vix?", "t7")
    assert [c.args["symbol"] for c in result.tool_calls] == ["SPY", "VIX"]


async def test_model_down_falls_back_to_the_offline_router(llm_engine, server):
    from agent.core import Assistant
    from tests.integration.agent.conftest import PERSON

    server.__exit__(None, None, None)  # the endpoint disappears
    result = await Assistant(llm_engine, PERSON).ask("quote spy", "down")
    assert "language model is unavailable" in result.answer
    assert [c.name for c in result.tool_calls] == ["quote"] and "SPY: bid" in result.answer
    assert_no_secret(result.answer)


FIGURES = [
    ("what happened to spy yesterday?", "market_summary", {"symbol": "SPY", "date": "2026-11-19"},
     lambda o: f"range {o['range']:.2f}, realized vol {o['realized_vol']:.4f}, VIX {o['vix']:.2f}"),
    ("payoff of a 10 delta spy condor", "strategy_payoff",
     {"strategy": "iron_condor", "underlying": "SPY", "short_delta": 0.1, "wing_width": 5},
     lambda o: f"max loss {o['max_loss']:.2f}, breakevens {o['breakevens'][0]:.2f}/{o['breakevens'][1]:.2f}"),
    ("risk?", "risk_status", {}, lambda o: f"state {o['state']}, buying power {o['usage']['buying_power']:.2f}"),
    ("tax 2026", "tax_summary", {"year": 2026}, lambda o: f"wash {o['wash_sale_disallowed']:.2f}"),
    ("my pnl", "pnl", {"period": "today"}, lambda o: f"total {o['total']:.2f}"),
]


@pytest.mark.parametrize("question, tool, args, render", FIGURES, ids=[f[1] for f in FIGURES])
async def test_answers_quote_the_tool_figures(assistant, server, question, tool, args, render):
    server.add(call(tool, args), lambda body: say("Here it is: " + render(last_tool_json(body)) + "."))
    result = await assistant.ask(question, f"fig-{tool}")
    [made] = result.tool_calls
    assert made.ok and made.name == tool
    assert render(made.output) in result.answer  # the numbers the engine produced, not invented ones


async def test_a_model_that_never_stops_calling_tools_is_stopped(assistant, server):
    server.add(*[call("quote", {"symbol": "SPY"})] * 30)
    result = await assistant.ask("loop forever", "loop")
    assert "too many tool steps" in result.answer
    assert len(server.requests) <= 9 and len(result.tool_calls) <= 8


async def test_a_crashing_tool_is_reported_not_fatal(llm_engine, server):
    from pydantic import Field

    from agent.core import Assistant
    from tests.integration.agent.conftest import PERSON
    from tools.catalog import load
    from tools.common import Args, Out
    from tools.registry import Registry, ToolSpec

    class A(Args):
        x: int = Field(1, description="anything")

    async def broken(args, ctx):
        raise RuntimeError(f"boom with {llm_engine.settings.openai_api_key.get_secret_value()}")

    reg = Registry()
    for spec in load().all():
        reg.register(spec)
    reg.register(ToolSpec("broken", "always fails", A, Out, broken))
    server.add(call("broken", {}), lambda body: say("It failed: " + last_tool_json(body)["error"]["message"]))
    result = await Assistant(llm_engine, PERSON, registry=reg).ask("run broken", "crash")
    assert result.tool_calls[0].error["type"] == "internal_error" and "boom" in result.answer
    assert_no_secret(result.answer, server.requests)


async def test_a_refused_key_falls_back_offline_without_echoing_it(assistant, server):
    server.add({"status": 401, "message": "Incorrect API key provided: sk-lo****cdef", "code": "invalid_api_key"})
    result = await assistant.ask("quote iwm", "401")
    assert "language model is unavailable" in result.answer and "AuthenticationError" in result.answer
    assert [c.name for c in result.tool_calls] == ["quote"] and "IWM: bid" in result.answer
    assert_no_secret(result.answer)
