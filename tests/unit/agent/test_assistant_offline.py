"""The offline assistant end to end on the simulated engine: answers quote the tools' numbers,
staging leaves a pending confirmation and no order, memory and thread context work."""

from __future__ import annotations

import pytest

from agent.confirm import confirm_pending, decline_pending
from agent.core import Assistant
from engine.core.errors import PermissionDenied
from engine.core.principal import Principal
from engine.runtime import Engine
from engine.settings import load_settings

PERSON = Principal.person("alice", "test")


@pytest.fixture
async def engine():
    eng = Engine(load_settings())
    yield eng
    await eng.close()


@pytest.fixture
def assistant(engine):
    return Assistant(engine, PERSON)


async def test_offline_without_llm_settings(assistant):
    assert assistant.mode == "offline" and assistant.today().isoformat() == "2026-11-20"


async def test_quote_answer_contains_the_numbers(assistant):
    r = await assistant.ask("what's spy trading at?")
    out = r.tool_calls[0].output
    assert r.to_json()["tool_calls"] == [{"name": "quote", "args": {"symbol": "SPY"}}]
    assert f"{out['bid']:,.2f}" in r.answer and f"{out['ask']:,.2f}" in r.answer
    assert r.pending_confirmation is None and r.orders_placed == []


async def test_chain_answer_lists_strikes(assistant):
    r = await assistant.ask("spy 0dte chain 2 strikes around atm")
    rows = r.tool_calls[0].output["rows"]
    assert len(rows) == 10 and all(f"{row['strike']:.2f}" in r.answer for row in rows)


async def test_summary_answer(assistant):
    r = await assistant.ask("what happened to SPY volatility yesterday?")
    out = r.tool_calls[0].output
    assert out["date"] == "2026-11-19" and f"{out['vix']:,.2f}" in r.answer


async def test_stage_then_person_confirms(assistant, engine):
    r = await assistant.ask("buy 1 spy 0dte 30 delta call at market")
    p = r.pending_confirmation
    assert p["kind"] == "order" and p["ticket_id"] in r.answer and r.orders_placed == []
    assert await engine.orders("paper") == []
    with pytest.raises(PermissionDenied):  # the agent can never confirm its own ticket
        await confirm_pending(engine, p, assistant.actor)
    done = await confirm_pending(engine, p, PERSON)
    assert done["order_id"] and done["status"] == "filled"
    assert len(await engine.orders("paper")) == 1


async def test_declined_ticket_cannot_be_confirmed_later(assistant, engine):
    r = await assistant.ask("sell 1 spy ic 10d 5 wide")
    await decline_pending(engine, r.pending_confirmation, PERSON)
    with pytest.raises(Exception, match="(?i)cancel|ticket"):
        await confirm_pending(engine, r.pending_confirmation, PERSON)
    assert await engine.orders("paper") == []


async def test_cancel_is_deferred_to_the_person(assistant, engine):
    r = await assistant.ask("cancel order 4242")
    assert r.pending_confirmation == {"kind": "cancel_order", "ticket_id": None, "args": {"order_id": "4242"}}
    assert "approval" in r.answer
    with pytest.raises(Exception, match="4242"):
        await confirm_pending(engine, r.pending_confirmation, PERSON)


async def test_thread_context_backtest_that(assistant):
    await assistant.ask("show the payoff of a 20 delta qqq iron condor 10 wide", "ctx")
    r = await assistant.ask("backtest that over the last 5 days on synthetic data", "ctx")
    assert r.tool_calls[0].args == {"strategy": "iron_condor", "underlying": "QQQ", "start": "2026-11-15",
                                    "end": "2026-11-20", "short_delta": 0.2, "wing_width": 10.0,
                                    "data_source": "synthetic"}
    assert r.tool_calls[0].ok and "Backtest iron_condor on QQQ" in r.answer


async def test_no_imported_bars_is_said_then_synthetic_history_is_used(assistant):
    r = await assistant.ask("backtest spy ic last 5 days")  # no imported bars in a fresh home
    first, second = r.tool_calls
    assert first.ok is False and "no SPY minute bars" in r.answer
    assert second.args["data_source"] == "synthetic" and second.ok and second.output["source"] == "synthetic"
    assert "synthetic history" in r.answer and "Backtest iron_condor on SPY" in r.answer


async def test_errors_are_explained(assistant):
    r = await assistant.ask("chain spy expiring 2026-11-21")  # a Saturday: nothing listed
    assert r.tool_calls[0].ok is False and r.answer.startswith("I couldn't run chain")


async def test_off_topic_and_refusals_call_nothing(assistant):
    for text in ("tell me a joke", "confirm my order", "switch to live"):
        r = await assistant.ask(text)
        assert r.tool_calls == [] and r.answer


async def test_history_and_delete(assistant):
    await assistant.ask("quote qqq", "h")
    await assistant.ask("quote iwm", "h")
    assert [m["role"] for m in assistant.history("h")] == ["user", "assistant", "user", "assistant"]
    assert assistant.history("h")[1]["tool_calls"] == [{"name": "quote", "args": {"symbol": "QQQ"}}]
    assert assistant.delete_history() == 4 and assistant.history("h") == []


async def test_stream_events(assistant):
    events = [e async for e in assistant.stream("quote vix")]
    assert [e.kind for e in events] == ["tool_start", "tool_end", "token", "final"]
    assert events[1].call.ok and events[-1].result.answer.startswith("VIX")
