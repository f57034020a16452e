"""The terminal chat behind ``smart0dte chat`` (rich).

The answer streams as it is written; tool calls show as dim lines. When a turn leaves a pending
confirmation, the CLI itself — never the model — shows the preview and asks the person
``Confirm? [y/N]``; only "y"/"yes" confirms (a live ticket needs its id typed). Slash commands:
``/history``, ``/forget`` (delete this thread), ``/forget-all`` (delete my history), ``/quit``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.confirm import confirm_pending, decline_pending
from agent.core import Assistant
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal

HELP = "Ask about quotes, chains, backtests, paper orders, P&L, risk, signals, taxes. /history /forget /forget-all /quit"


class TerminalChat:
    def __init__(self, engine: Any, person: Principal, thread: str, offline: bool = False,
                 console: Console | None = None, ask_input: Any = None) -> None:
        self.engine = engine
        self.person = person
        self.thread = thread
        self.console = console or Console()
        self.input = ask_input or self.console.input
        self.assistant = Assistant(engine, person, llm="offline" if offline else "auto", ledger="paper")

    async def loop(self) -> None:
        self.console.print(f"[bold]Smart-0DTE[/bold] ({self.assistant.mode}) — {HELP}")
        while True:
            try:
                text = self.input("[bold cyan]you>[/bold cyan] ").strip()
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return
            if not text:
                continue
            if text.startswith("/"):
                if not self.command(text):
                    return
                continue
            await self.turn(text)

    def command(self, text: str) -> bool:
        cmd = text.split()[0].lower()
        if cmd in ("/quit", "/exit", "/q"):
            return False
        if cmd == "/history":
            for m in self.assistant.history(self.thread):
                self.console.print(f"[dim]{m['at'][:19]}[/dim] [bold]{m['role']}[/bold]: {m['content']}")
        elif cmd == "/forget":
            n = self.assistant.delete_history(self.thread)
            self.console.print(f"Deleted {n} message(s) of this thread.")
        elif cmd == "/forget-all":
            n = self.assistant.delete_history(None)
            self.console.print(f"Deleted {n} message(s) of all your threads.")
        else:
            self.console.print(HELP)
        return True

    async def turn(self, text: str) -> None:
        result = None
        self.console.print("[bold green]assistant>[/bold green] ", end="")
        async for event in self.assistant.stream(text, self.thread):
            if event.kind == "tool_start" and event.call:
                self.console.print(f"\n[dim]→ {event.call.name} {event.call.args}[/dim]")
            elif event.kind == "token":
                self.console.print(event.text, end="", markup=False, highlight=False)
            elif event.kind == "final":
                result = event.result
        self.console.print()
        if result is not None and result.pending_confirmation:
            await self.ask_person(result.pending_confirmation)

    def preview(self, pending: dict) -> None:
        if pending.get("kind") != "order":
            self.console.print(f"[yellow]Pending action:[/yellow] {pending.get('kind')} {pending.get('args')}")
            return
        p = pending.get("preview") or {}
        table = Table(title=f"Ticket {pending['ticket_id']} ({pending.get('ledger', 'paper')}) — "
                            f"expires {str(pending.get('expires_at') or '')[:19]}")
        for col in ("side", "ratio", "symbol", "bid", "ask"):
            table.add_column(col)
        for leg in p.get("legs") or []:
            table.add_row(str(leg.get("side")), str(leg.get("ratio")), str(leg.get("symbol")), str(leg.get("bid")),
                          str(leg.get("ask")))
        self.console.print(table)
        self.console.print(f"net {p.get('net_price')} ({p.get('price_effect') or ''}), max profit {p.get('max_profit')}, "
                           f"max loss {p.get('max_loss')}, breakevens {p.get('breakevens')}, fees {p.get('fees')}")
        failed = [c for c in (pending.get("risk") or {}).get("checks") or [] if not c.get("passed")]
        for c in failed:
            self.console.print(f"[red]risk check failed: {c.get('name')}: {c.get('reason')}[/red]")

    async def ask_person(self, pending: dict) -> None:
        self.preview(pending)
        try:
            answer = self.input(escape("Confirm? [y/N] ")).strip().lower()
            if answer in ("y", "yes") and pending.get("ledger") == "live":
                typed = self.input(f"LIVE order: type the ticket id {pending['ticket_id']} to confirm: ").strip()
                answer = "y" if typed == pending["ticket_id"] else "n"
        except (EOFError, KeyboardInterrupt):
            answer = "n"
        try:
            if answer in ("y", "yes"):
                done = await confirm_pending(self.engine, pending, self.person)
                self.console.print(f"[green]Done:[/green] {done}")
            else:
                await decline_pending(self.engine, pending, self.person)
                self.console.print("Not confirmed; nothing was sent.")
        except Smart0DTEError as err:
            self.console.print(f"[red]{err.type}: {err.message}[/red]")
