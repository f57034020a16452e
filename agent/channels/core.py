"""What every chat bot does, whatever the chat: the allow-list, the person behind a message, the
commands, the agent, the Confirm/Cancel buttons and the pushed events.

Adapters (:mod:`agent.channels.telegram`, :mod:`agent.channels.slack`) only translate their
platform's updates into calls of :class:`ChannelCore` and its :class:`~agent.channels.format.Reply`
back into messages, so both bots behave the same.

Safety: a user id outside the allow-list gets a polite refusal, recorded in the audit log as
``bot.refused``, and nothing else runs. Free text goes to :class:`agent.core.Assistant`, which acts
as the model *for* the person and can only stage; the staged ticket is confirmed only by
:meth:`ChannelCore.press` (the Confirm button, pressed by an allow-listed user) with that user's
PERSON principal — typed text never confirms. Each button key works once: the adapter removes the
buttons and the engine refuses a ticket's reuse anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from agent.channels import format as fmt
from agent.confirm import confirm_pending, decline_pending
from agent.types import ToolCall
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal
from tools.catalog import load as load_tools
from tools.registry import ToolContext

log = logging.getLogger("smart0dte.channels")

#: Audit kinds pushed to the chats: fills, order states, kill switch, mode, expiry, stop-outs and
#: auto-flatten (``monitor.*``). Signals stay on the UI/API feeds: on a phone they would be noise.
PUSH_KINDS = ("order.fill", "order.state", "kill_switch", "mode.switch", "expiry", "monitor.*")

HELP = ("I'm Smart-0DTE. Ask me in plain words (\"SPY 0DTE chain near the money\", \"paper-sell a 10-wide "
        "QQQ iron condor at 20 delta\"), or use a command:\n"
        "/quote SPY — bid/ask now\n/chain SPY — 0DTE chain near the money, with the IV smile\n"
        "/positions — open paper positions\n/pnl [today|week|month] — profit and loss\n"
        "/risk — kill switch and limit usage\n/halt [reason] — stop all trading now (kill switch HALTED)\n"
        "A staged order comes with Confirm/Cancel buttons; only the Confirm button sends it.")

REFUSAL = ("Sorry, this Smart-0DTE bot is private and you are not on its list of allowed users, so I can't "
           "help here. Ask the owner to add your user id ({user_id}).")

#: command → (tool, argument name of the first word, default arguments)
COMMANDS: dict[str, tuple[str, str | None, dict]] = {
    "quote": ("quote", "symbol", {}),
    "chain": ("chain", "underlying", {"strikes_around_atm": 7}),
    "positions": ("positions", None, {}),
    "pnl": ("pnl", "period", {}),
    "risk": ("risk_status", None, {}),
}


class ChannelCore:
    """The bot logic of one surface (``"telegram"`` or ``"slack"``) over one engine.

    ``allowed``: user ids allowed to use the bot (compared as strings). ``llm`` is passed to
    :class:`agent.core.Assistant` (``"auto"``, ``"offline"`` or a LangChain model).
    """

    def __init__(self, engine: Any, surface: str, allowed: Iterable[Any], *, llm: Any = "auto",
                 charts: bool = True) -> None:
        self.engine = engine
        self.surface = surface
        self.allowed = {str(u) for u in allowed}
        self.llm = llm
        self.charts = charts
        self.registry = load_tools()
        self._assistants: dict[str, Any] = {}
        self._pending: dict[str, dict] = {}   # button key → pending confirmation
        self._owner: dict[str, str] = {}      # button key → the user it was staged for
        self._busy: set[str] = set()          # keys being confirmed/cancelled right now (double taps)

    # --- who ------------------------------------------------------------------------------------
    def is_allowed(self, user_id: Any) -> bool:
        return str(user_id) in self.allowed

    def person(self, user_id: Any) -> Principal:
        """The PERSON principal of an allow-listed user (the allow-list is this bot's authentication)."""
        return Principal.person(str(user_id), self.surface)

    def refuse(self, user_id: Any, what: str) -> fmt.Reply:
        """The polite refusal for a stranger; the attempt is audited, nothing else runs."""
        try:
            self.engine.audit.append("bot.refused", actor=f"person:{user_id}@{self.surface}",
                                     data={"surface": self.surface, "user_id": str(user_id), "attempt": what})
        except Exception:  # the refusal itself must still reach the person
            log.exception("could not audit a refusal")
        return fmt.Reply(REFUSAL.format(user_id=user_id), ok=False)

    # --- free text → the agent ------------------------------------------------------------------
    async def ask(self, user_id: Any, text: str, thread_id: str) -> fmt.Reply:
        if not self.is_allowed(user_id):
            return self.refuse(user_id, "message")
        assistant = self._assistant(str(user_id))
        try:
            result = await assistant.ask(text, thread_id)
        except Smart0DTEError as err:
            return fmt.error_reply(err, self.surface)  # type: ignore[arg-type]
        if result.pending_confirmation:
            key = str(result.pending_confirmation.get("ticket_id") or "")
            if not key:  # a deferred state change (e.g. cancel_order) has no ticket: name it ourselves
                key = "d" + secrets.token_hex(6)
                result.pending_confirmation = {**result.pending_confirmation, "key": key}
            self._pending[key] = result.pending_confirmation
            self._owner[key] = str(user_id)
        reply = fmt.reply_for_result(result)
        return self._charts(reply, result.tool_calls)

    def _assistant(self, user_id: str) -> Any:
        from agent.core import Assistant

        if user_id not in self._assistants:
            self._assistants[user_id] = Assistant(self.engine, self.person(user_id), llm=self.llm)
        return self._assistants[user_id]

    # --- commands -------------------------------------------------------------------------------
    async def command(self, user_id: Any, name: str, arg: str = "") -> fmt.Reply:
        """``/quote SPY``, ``/chain SPY``, ``/positions``, ``/pnl``, ``/risk``, ``/halt``, ``/help``."""
        name = name.lower().lstrip("/").split("@")[0]
        if not self.is_allowed(user_id):
            return self.refuse(user_id, f"/{name}")
        if name in ("help", "start"):
            return fmt.Reply(HELP)
        if name == "halt":
            return await self.halt(user_id, arg)
        if name not in COMMANDS:
            return fmt.Reply(f"I don't know /{name}.\n\n{HELP}", ok=False)
        tool, first, args = COMMANDS[name]
        args = dict(args)
        words = arg.split()
        if first and words:
            args[first] = words[0].upper() if first in ("symbol", "underlying") else words[0].lower()
        elif first in ("symbol", "underlying"):
            return fmt.Reply(f"Which symbol? For example: /{name} SPY", ok=False)
        call = await self.run_tool(user_id, tool, args)
        if not call.ok:
            return fmt.error_reply(call.error or {}, self.surface)  # type: ignore[arg-type]
        return self._charts(fmt.reply_for_call(call), [call])

    async def run_tool(self, user_id: Any, name: str, args: dict) -> ToolCall:
        """Run a read tool as the person themselves (a command is the person's own request)."""
        call = ToolCall(name, args)
        try:
            result = await self.registry.call(name, args, ToolContext(self.engine, self.person(user_id)))
        except Smart0DTEError as err:
            call.ok, call.error = False, err.to_dict()
            return call
        call.ok, call.output = True, result.model_dump(mode="json")
        return call

    async def halt(self, user_id: Any, reason: str = "") -> fmt.Reply:
        """Kill switch to HALTED on every ledger: working orders are cancelled, nothing new is sent."""
        if not self.is_allowed(user_id):
            return self.refuse(user_id, "/halt")
        why = reason.strip() or f"halted from {self.surface}"
        try:
            out = await self.engine.set_kill_switch("halted", self.person(user_id), why)
        except Smart0DTEError as err:
            return fmt.error_reply(err, self.surface)  # type: ignore[arg-type]
        ledgers = ", ".join(sorted(out.get("ledgers") or {})) or "all ledgers"
        return fmt.Reply(f"🛑 Trading HALTED on {ledgers} ({why}). Working orders are being cancelled; "
                         "no new order can be sent until a person resumes it.")

    # --- buttons --------------------------------------------------------------------------------
    def claim(self, user_id: Any, action: str, key: str) -> fmt.Reply | None:
        """Checks made before a pressed button is touched: ``None`` reserves ``key`` for this press
        (the adapter then removes the buttons and calls :meth:`carry_out`); a Reply is for the
        presser alone and leaves the message as it is (a stranger, someone else's ticket, a double tap)."""
        if not self.is_allowed(user_id):
            return self.refuse(user_id, f"button {action}")
        if action not in ("confirm", "cancel"):
            return fmt.Reply("I don't know that button.", ok=False)
        if key.startswith("d") and key not in self._pending:  # a deferred change lives in this process only
            return fmt.Reply("That request has expired; ask again.", ok=False)
        if key in self._busy:
            return fmt.Reply("Already on it: that ticket is being handled.", ok=False)
        if self._owner.get(key, str(user_id)) != str(user_id):  # in a group: someone else's ticket
            return fmt.Reply("That ticket was staged for someone else; only they can confirm or cancel it.",
                             ok=False)
        self._busy.add(key)
        return None

    async def carry_out(self, user_id: Any, action: str, key: str) -> fmt.Reply:
        """Confirm or cancel ``key`` (claimed by :meth:`claim`) as the person ``user_id``."""
        # A ticket id is enough to confirm an order, also after a restart; the engine checks that
        # this person staged it and that it is still valid.
        pending = self._pending.get(key) or {"kind": "order", "ticket_id": key}
        person = self.person(user_id)
        try:
            if action == "confirm":
                out = await confirm_pending(self.engine, pending, person, pending.get("ledger") or "paper")
                reply = fmt.Reply(_confirmed_line(pending, out))
            else:
                await decline_pending(self.engine, pending, person)
                reply = fmt.Reply("✖ Cancelled; that ticket can never be sent now.")
        except Smart0DTEError as err:
            reply = fmt.error_reply(err, self.surface)  # type: ignore[arg-type]
        finally:
            self._busy.discard(key)
        self._pending.pop(key, None)
        self._owner.pop(key, None)
        return reply

    async def press(self, user_id: Any, action: str, key: str) -> tuple[fmt.Reply, bool]:
        """:meth:`claim` then :meth:`carry_out`: the answer, and whether the buttons are spent."""
        refusal = self.claim(user_id, action, key)
        if refusal is not None:
            return refusal, False
        return await self.carry_out(user_id, action, key), True

    # --- pushed events --------------------------------------------------------------------------
    async def events(self, *, after_id: int | None = None, poll_s: float = 0.25) -> AsyncIterator[tuple[int, str]]:
        """``(audit id, line)`` to push to the allow-listed chats, from now on (or after ``after_id``)."""
        from engine.events import follow

        async for record in follow(self.engine, PUSH_KINDS, after_id=after_id, poll_s=poll_s):
            line = fmt.event_line(record)
            if line:
                yield record["id"], line

    async def start_push(self, targets: Callable[[], Iterable[Any]], send: Callable[[Any, str], Awaitable[Any]],
                         *, poll_s: float = 0.25) -> asyncio.Task:
        """Start sending every event line from now on to each of ``targets()`` with ``send``.

        The cursor is taken before this returns, so nothing that happens after it is missed; a
        failing database read is retried from the last line sent, a failing chat skips that chat.
        """
        cursor = await asyncio.to_thread(self.engine.audit.count)

        async def run() -> None:
            nonlocal cursor
            while True:
                try:
                    async for record_id, line in self.events(after_id=cursor, poll_s=poll_s):
                        for target in sorted(targets()):
                            try:
                                await send(target, line)
                            except Exception as err:  # one unreachable chat must not silence the others
                                log.warning("could not push to %s: %s", target, type(err).__name__)
                        cursor = record_id
                except asyncio.CancelledError:
                    raise
                except Exception:  # a database hiccup must not end the pushes for the session
                    log.exception("event push failed; retrying")
                    await asyncio.sleep(2)

        return asyncio.create_task(run())

    def _charts(self, reply: fmt.Reply, calls: list[ToolCall]) -> fmt.Reply:
        if self.charts:
            reply.charts = [c for c in calls if fmt.drawable(c)]
        return reply

    async def picture(self, reply: fmt.Reply) -> tuple[bytes, str] | str | None:
        """The chart of ``reply`` (PNG bytes and a file name), a sentence if it can't be drawn, or
        ``None``. Adapters call it after sending the text: drawing takes Chromium a few seconds."""
        if not reply.charts:
            return None
        return await fmt.chart_image(reply.charts, self.engine.settings.backtest.browser_path)


def _confirmed_line(pending: dict, out: dict) -> str:
    if pending.get("kind") != "order":
        return f"✅ Done: {pending.get('kind', '').replace('_', ' ')} → {out.get('status', 'ok')}."
    filled = out.get("filled_quantity")
    price = f" @ {fmt.answers.px(out['avg_fill_price'])}" if out.get("avg_fill_price") is not None else ""
    return (f"✅ Confirmed. Order {out.get('order_id')} on {str(out.get('account') or 'paper').upper()}: "
            f"{out.get('status')}{f', filled {filled}' if filled else ''}{price}.")


def serve_forever(start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    """Run a bot until Ctrl-C or SIGTERM, then stop it cleanly (the ``smart0dte`` bot commands)."""

    async def main() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, done.set)
        await start()
        try:
            await done.wait()
        finally:
            await stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
