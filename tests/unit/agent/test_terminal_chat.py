"""The terminal chat in process: the CLI (not the model) asks the person, only "y" confirms."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agent.cli.chat_terminal import TerminalChat
from engine.core.principal import Principal
from engine.runtime import Engine
from engine.settings import load_settings

PERSON = Principal.person("alice", "terminal")


@pytest.fixture
async def engine():
    eng = Engine(load_settings())
    yield eng
    await eng.close()


def chat(engine, lines: list[str]) -> tuple[TerminalChat, io.StringIO, list[str]]:
    out, feed, prompts = io.StringIO(), iter(lines), []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    console = Console(file=out, width=120, color_system=None)
    return TerminalChat(engine, PERSON, "term", offline=True, console=console, ask_input=ask), out, prompts


async def test_yes_confirms_as_the_person(engine):
    term, out, prompts = chat(engine, ["buy 1 spy 0dte 30 delta call at market", "y", "/quit"])
    await term.loop()
    assert "Confirm? \\[y/N] " in prompts  # escaped for rich; shown as "Confirm? [y/N] "
    assert "Done" in out.getvalue()
    orders = await engine.orders("paper")
    assert len(orders) == 1 and orders[0]["status"] == "filled"
    confirmed = [r for r in engine.audit_tail(100) if r["kind"] == "order.confirmed"]
    assert confirmed and confirmed[-1]["actor"].startswith("person:alice")


@pytest.mark.parametrize("reply", ["", "n", "no", "yes please do it", "Y E S", "confirm"])
async def test_anything_else_declines_and_cancels_the_ticket(engine, reply):
    term, out, _ = chat(engine, ["sell 1 spy ic 10d 5 wide", reply, "/quit"])
    await term.loop()
    assert "nothing was sent" in out.getvalue()
    assert await engine.orders("paper") == []
    assert any(r["kind"] == "order.ticket_cancelled" for r in engine.audit_tail(50))


async def test_forget_and_history(engine):
    term, out, _ = chat(engine, ["quote spy", "/history", "/forget", "/history", "/quit"])
    await term.loop()
    text = out.getvalue()
    assert "user: quote spy" in text and "Deleted 2 message(s)" in text


async def test_end_of_input_leaves_quietly(engine):
    term, out, _ = chat(engine, [])
    await term.loop()
    assert "Smart-0DTE" in out.getvalue()
