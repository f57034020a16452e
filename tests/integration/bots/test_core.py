"""ChannelCore, the logic both bots share, on the embedded engine: double taps, foreign tickets."""

from __future__ import annotations

import asyncio

from agent.channels.core import ChannelCore
from tests.integration.bots.conftest import ALLOWED, ORDER_TEXT, STRANGER, kinds


async def test_a_double_tap_confirms_once(engine):
    core = ChannelCore(engine, "telegram", [ALLOWED], llm="offline", charts=False)
    staged = await core.ask(ALLOWED, ORDER_TEXT, "t")
    key = staged.buttons[0].key
    (first, spent1), (second, spent2) = await asyncio.gather(core.press(ALLOWED, "confirm", key),
                                                             core.press(ALLOWED, "confirm", key))
    assert spent1 and first.text.startswith("✅ Confirmed")
    assert not spent2 and "Already on it" in second.text
    again, spent3 = await core.press(ALLOWED, "confirm", key)
    assert spent3 and not again.ok and "can't be used any more" in again.text
    assert len(kinds(engine, "order.confirmed")) == 1 and len(await engine.positions("paper")) == 1


async def test_a_ticket_is_only_confirmed_by_the_person_it_was_staged_for(engine):
    core = ChannelCore(engine, "slack", ["UA", "UB"], llm="offline", charts=False)
    staged = await core.ask("UA", ORDER_TEXT, "t")
    reply, spent = await core.press("UB", "confirm", staged.buttons[0].key)
    assert not reply.ok and not spent and "someone else" in reply.text, "the owner keeps the buttons"
    assert await engine.positions("paper") == []
    fresh = ChannelCore(engine, "slack", ["UA", "UB"], llm="offline", charts=False)  # e.g. after a restart
    reply, spent = await fresh.press("UB", "confirm", staged.buttons[0].key)
    assert not reply.ok and await engine.positions("paper") == [], "the engine refuses another person too"
    reply, _ = await core.press(STRANGER, "confirm", staged.buttons[0].key)
    assert "not on its list" in reply.text and await engine.positions("paper") == []
    reply, _ = await core.press("UA", "cancel", staged.buttons[0].key)
    assert reply.ok and "Cancelled" in reply.text
    reply, _ = await core.press("UA", "confirm", staged.buttons[0].key)
    assert not reply.ok and await engine.positions("paper") == []


async def test_unknown_command_and_missing_symbol_explain_themselves(engine):
    core = ChannelCore(engine, "telegram", [ALLOWED], llm="offline", charts=False)
    assert "Which symbol?" in (await core.command(ALLOWED, "/quote")).text
    unknown = await core.command(ALLOWED, "/moon")
    assert not unknown.ok and "/quote SPY" in unknown.text
    pnl = await core.command(ALLOWED, "/pnl@smart0dte_bot", "week")
    assert pnl.ok and pnl.text.startswith("P&L week (paper)")
