"""``smart0dte tools list``, ``tool``, ``ask`` and ``chat``: the tool catalogue and the assistant.

Contract (issue 8 §3):

* ``smart0dte tools list --json`` → ``[{"name", "description", "effect", "input_schema", "output_schema"}]``
* ``smart0dte tool NAME '<json args>'`` → the tool's output JSON; bad arguments exit 2 with
  ``{"error": {"type", "message", "field"}}``. The caller is the person at the terminal.
* ``smart0dte ask "TEXT" --json`` → ``{"tool_calls": [{"name", "args"}], "answer",
  "pending_confirmation": null | {"ticket_id", …}, "orders_placed": []}`` — the assistant acts as
  the person's agent: it may stage, never confirm, so ``orders_placed`` is always empty.
* ``smart0dte chat`` — a terminal conversation; a staged order shows its preview and the CLI (not
  the model) asks the person ``Confirm? [y/N]``.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

import typer

from agent.cli.common import JSON_OPTION, print_json, run, with_engine


def _person(surface: str = "cli"):
    from engine.core.principal import Principal

    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers): still one local person
        user = "local"
    return Principal.person(user, surface)


def _error(err: Exception, type_: str = "error") -> None:
    from engine.core.errors import Smart0DTEError

    if isinstance(err, Smart0DTEError):
        payload = {"type": err.type, "message": err.message, "field": err.field}
    else:
        payload = {"type": type_, "message": str(err), "field": None}
    print_json({"error": payload})
    raise typer.Exit(2)


def tools_list(as_json: bool = JSON_OPTION) -> None:
    """List every tool with its description and the JSON schemas of its input and output."""
    from tools.catalog import load

    specs = load().all()
    if as_json:
        print_json([{"name": s.name, "description": s.description, "effect": s.effect.value,
                     "input_schema": s.input_schema(), "output_schema": s.output_schema()} for s in specs])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Smart-0DTE tools")
    for col in ("name", "effect", "arguments", "description"):
        table.add_column(col)
    for s in specs:
        props = s.input_schema().get("properties", {})
        table.add_row(s.name, s.effect.value, ", ".join(props), s.description)
    Console().print(table)


def tool(name: str = typer.Argument(..., help="Tool name (see `smart0dte tools list`)"),
         args: str = typer.Argument("{}", help="Arguments as a JSON object"),
         ledger: str = typer.Option("paper", "--ledger", help="paper or live ledger for account-wide tools")) -> None:
    """Run one tool as the person at this terminal and print its output JSON."""
    from engine.core.errors import Smart0DTEError
    from tools.catalog import load
    from tools.registry import ToolContext, ToolInputError

    try:
        raw = json.loads(args)
    except json.JSONDecodeError as err:
        _error(ToolInputError(f"arguments are not valid JSON: {err.msg} at character {err.pos}"))
    registry = load()
    try:
        spec, parsed = registry.parse(name, raw)  # bad arguments fail before any engine part starts
        if ledger not in ("paper", "live"):
            raise ToolInputError(f"ledger must be paper or live, not {ledger!r}", field="ledger")
    except Smart0DTEError as err:
        _error(err)
    person = _person()

    async def go(engine: Any) -> Any:
        return await registry.call(spec.name, parsed, ToolContext(engine, person, ledger))

    try:
        result = run(with_engine(go))
    except Smart0DTEError as err:
        _error(err)
    print_json(result.model_dump(mode="json"))


def ask(text: str = typer.Argument(..., help="What to ask, in plain words"),
        as_json: bool = JSON_OPTION,
        thread: str = typer.Option("cli", "--thread", help="Conversation thread id (memory is per thread)"),
        offline: bool = typer.Option(False, "--offline", help="Use the offline router even if an LLM is set")) -> None:
    """Ask the assistant one question; it may call tools and stage (never place) paper orders."""
    from agent.core import Assistant
    from engine.core.errors import Smart0DTEError

    person = _person()

    async def go(engine: Any) -> Any:
        return await Assistant(engine, person, llm="offline" if offline else "auto").ask(text, thread)

    try:
        result = run(with_engine(go))
    except Smart0DTEError as err:
        _error(err)
    if as_json:
        print_json(result.to_json())
        return
    sys.stdout.write(result.answer + "\n")
    if result.pending_confirmation:
        p = result.pending_confirmation
        sys.stdout.write(f"(pending your confirmation: {p.get('ticket_id') or p.get('kind')}; confirm it with "
                         f"`smart0dte order confirm {p.get('ticket_id')}` or in `smart0dte chat`)\n"
                         if p.get("ticket_id") else "(needs your approval in `smart0dte chat`)\n")


def chat(thread: str = typer.Option("terminal", "--thread", help="Conversation thread id"),
         offline: bool = typer.Option(False, "--offline", help="Use the offline router even if an LLM is set")) -> None:
    """A terminal conversation. Staged orders show a preview and ask you `Confirm? [y/N]`."""
    from agent.cli.chat_terminal import TerminalChat

    run(with_engine(lambda engine: TerminalChat(engine, _person("terminal"), thread, offline).loop()))


def register(app: typer.Typer) -> None:
    tools_app = typer.Typer(help="The typed tool catalogue", no_args_is_help=True)
    tools_app.command("list")(tools_list)
    app.add_typer(tools_app, name="tools")
    app.command("tool")(tool)
    app.command("ask")(ask)
    app.command("chat")(chat)
