"""The assistant: one conversation turn from text to tool calls to an answer.

``Assistant(engine, person).ask(text, thread_id)`` routes the text — through the LangChain agent
when a language model is configured (``SMART0DTE_OPENAI_API_KEY`` or ``..._BASE_URL``), else
through the deterministic offline router — runs the tools through the registry as
``Principal.agent_for(person)`` (so it can stage but never confirm), and answers. ``stream`` yields
the same turn as events (``tool_start``, ``tool_end``, ``token``, ``final``).

Tools that change state (``Effect.WRITE``, e.g. ``cancel_order``) are never run for the model:
they come back as ``pending_confirmation`` for the person, like a staged order ticket. Surfaces
carry out a pending item only after the person says yes (:mod:`agent.confirm`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

from agent import answers, prompts
from agent.memory import ConversationStore
from agent.router.parse import route
from agent.safety import Redactor
from agent.types import AskResult, Event, ToolCall
from engine.core.clock import NY
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal, PrincipalKind
from tools.catalog import load as load_tools
from tools.registry import Effect, Registry, ToolContext

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 4000


class Assistant:
    """A conversation partner for one person (see module docstring).

    ``llm``: ``"auto"`` (the LLM when configured), ``"offline"`` (always the router), or a
    LangChain chat model to use as is (tests, other providers).
    """

    def __init__(self, engine: Any, principal: Principal, *, llm: Any = "auto", ledger: str = "paper",
                 store: ConversationStore | None = None, registry: Registry | None = None,
                 history_turns: int = 10) -> None:
        self.engine = engine
        self.person = principal
        self.actor = principal if principal.kind is PrincipalKind.AGENT else Principal.agent_for(principal)
        self.user_id = principal.on_behalf_of if principal.kind is PrincipalKind.AGENT else principal.id
        self.ledger = ledger
        self.registry = registry or load_tools()
        self.redactor = Redactor(engine.settings)
        self.store = store if store is not None else ConversationStore(engine.db, engine.settings.chat_retention_days)
        self.history_turns = history_turns
        self._llm_choice = llm
        self._runner = None

    # --- public API ------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        if self._llm_choice == "offline":
            return "offline"
        if self._llm_choice == "auto":
            return "llm" if self.engine.settings.llm_configured else "offline"
        return "llm"

    async def ask(self, text: str, thread_id: str = "default") -> AskResult:
        """One turn; the final :class:`AskResult`."""
        result = None
        async for event in self.stream(text, thread_id):
            if event.kind == "final":
                result = event.result
        assert result is not None
        return result

    async def stream(self, text: str, thread_id: str = "default") -> AsyncIterator[Event]:
        """One turn as events: ``tool_start``/``tool_end`` per tool call, ``token`` pieces, ``final``."""
        text = (text or "").strip()[:MAX_INPUT_CHARS]
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        turn = _Turn(self, thread_id, queue)
        task = asyncio.create_task(turn.run(text))
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                yield event
            await task
        finally:
            if not task.done():
                task.cancel()

    def history(self, thread_id: str = "default", limit: int = 50) -> list[dict]:
        return [{"role": m.role, "content": m.content, "tool_calls": m.tool_calls, "at": m.created_at.isoformat()}
                for m in self.store.history(self.user_id, thread_id, limit)]

    def delete_history(self, thread_id: str | None = None) -> int:
        """The person's "delete my history" (one thread, or every thread when ``None``)."""
        return self.store.delete_history(self.user_id, thread_id)

    def today(self) -> date:
        """The exchange date of the engine's clock (simulated time when the feed is simulated)."""
        try:
            return self.engine.clock.now().astimezone(NY).date()
        except Exception:  # no market part: wall time in New York
            return datetime.now(UTC).astimezone(NY).date()

    # --- tool execution (shared by both paths) ---------------------------------------------------
    async def run_tool(self, call: ToolCall) -> tuple[ToolCall, dict | None]:
        """Run one call as the agent; returns it filled in and any pending confirmation it created."""
        try:
            spec = self.registry.get(call.name)
        except Smart0DTEError as err:
            call.ok, call.error = False, err.to_dict()
            return call, None
        if spec.effect is Effect.WRITE:
            return self._defer(call, spec.name)
        ctx = ToolContext(self.engine, self.actor, self.ledger, extras={"call_id": call.call_id})
        try:
            result = await self.registry.call(call.name, call.args, ctx)
        except Smart0DTEError as err:
            call.ok, call.error = False, self.redactor.data(err.to_dict())
            return call, None
        except Exception as err:  # a bug or an outage must not end the conversation
            log.exception("tool %s failed", call.name)
            call.ok, call.error = False, {"type": "internal_error", "field": None,
                                          "message": self.redactor.text(f"{type(err).__name__}: {err}")[:300]}
            return call, None
        call.ok, call.output = True, self.redactor.data(result.model_dump(mode="json"))
        pending = None
        if spec.effect is Effect.STAGE and call.output.get("ticket_id"):
            out = call.output
            pending = {"kind": "order", "ticket_id": out["ticket_id"], "expires_at": out.get("expires_at"),
                       "ledger": out.get("ledger", "paper"), "preview": out.get("preview"), "risk": out.get("risk")}
        return call, pending

    def _defer(self, call: ToolCall, name: str) -> tuple[ToolCall, dict]:
        """A state-changing tool asked for by the model: the person decides, not the model."""
        try:
            _, parsed = self.registry.parse(name, call.args)
        except Smart0DTEError as err:
            call.ok, call.error = False, err.to_dict()
            return call, None  # type: ignore[return-value]
        args = parsed.model_dump(mode="json")
        call.ok = True
        call.output = {"status": "needs_person_confirmation", "action": name, "args": args}
        try:
            self.engine.audit.append("tool_call", actor=self.actor.label, data={
                "tool": name, "args": args, "outcome": "deferred_to_person", "ledger": self.ledger})
        except Exception:
            log.exception("audit of a deferred tool call failed")
        return call, {"kind": name, "ticket_id": None, "args": args}


def _no_history(call: ToolCall) -> bool:
    """A backtest that found no imported bars and did not ask for a data source."""
    return (call.name == "backtest" and not call.ok and (call.error or {}).get("type") == "no_data"
            and "data_source" not in call.args)


class _Turn:
    """State of one turn: tool calls made, pending confirmation, the answer being streamed."""

    def __init__(self, assistant: Assistant, thread_id: str, queue: asyncio.Queue) -> None:
        self.a = assistant
        self.thread_id = thread_id
        self.queue = queue
        self.calls: list[ToolCall] = []
        self.pending: dict | None = None
        self.answer_parts: list[str] = []

    def emit(self, event: Event) -> None:
        self.queue.put_nowait(event)

    def token(self, text: str) -> None:
        if text:
            text = self.a.redactor.text(text)
            self.answer_parts.append(text)
            self.emit(Event("token", text=text))

    async def tool(self, call: ToolCall) -> ToolCall:
        self.emit(Event("tool_start", call=call))
        call, pending = await self.a.run_tool(call)
        self.calls.append(call)
        if pending is not None:
            self.pending = pending
        self.emit(Event("tool_end", call=call))
        return call

    async def run(self, text: str) -> None:
        mode = self.a.mode
        try:
            try:
                if not text:
                    self.token(answers.fixed("greeting"))
                elif mode == "llm":
                    await self._llm(text)
                else:
                    await self._offline(text)
            except Exception as err:  # a failing part ends the turn politely, never the conversation
                log.exception("assistant turn failed")
                self.token("\n" + prompts.load("notices/turn_failed").format(error=type(err).__name__))
            answer = "".join(self.answer_parts).strip()
            result = AskResult(answer=answer, tool_calls=self.calls, pending_confirmation=self.pending,
                               orders_placed=[], thread_id=self.thread_id, mode=mode)  # type: ignore[arg-type]
            self._remember(text, answer)
            self.emit(Event("final", result=result))
        finally:
            self.queue.put_nowait(None)

    async def _offline(self, text: str) -> None:
        context = self.a.store.context(self.a.user_id, self.thread_id)
        r = route(text, self.a.today(), context)
        if r.kind != "tool":
            self.token(answers.fixed(r.kind, r.topic))
            return
        for i, call in enumerate(r.calls):
            await self.tool(call)
            self.token(("\n" if i else "") + answers.for_call(call))
            if _no_history(call):  # say so, then show the same test on the simulated market's history
                retry = await self.tool(ToolCall(call.name, {**call.args, "data_source": "synthetic"}))
                self.token("\n" + prompts.load("notices/synthetic_instead") + "\n" + answers.for_call(retry))
        self.a.store.set_context(self.a.user_id, self.thread_id, r.context)

    async def _llm(self, text: str) -> None:
        from agent.llm import LLMRunner

        if self.a._runner is None:
            self.a._runner = LLMRunner.for_assistant(self.a)
        history = self.a.store.history(self.a.user_id, self.thread_id, self.a.history_turns * 2)
        await self.a._runner.run(self, text, history)

    def _remember(self, text: str, answer: str) -> None:
        try:
            self.a.store.append(self.a.user_id, self.thread_id, "user", self.a.redactor.text(text))
            self.a.store.append(self.a.user_id, self.thread_id, "assistant", answer,
                                [c.public() for c in self.calls])
        except Exception:  # memory is a convenience; the turn itself succeeded
            log.exception("could not store the conversation turn")
