"""The LLM path: a LangChain agent (``langchain.agents.create_agent``) on ``ChatOpenAI``.

* The model is ``ChatOpenAI`` from settings (``openai_model``, ``openai_api_key``,
  ``openai_base_url`` for Ollama/vLLM/LM Studio or any OpenAI-compatible server), streaming.
* Tools are the registry's (:mod:`agent.langchain_tools`). A middleware intercepts EVERY tool call
  the model makes — known or not, valid or not — and runs it through the assistant's runner
  (registry, agent principal, audit), so errors come back typed and state-changing tools are
  deferred to the person. The model receives results only inside the untrusted-data envelope.
* The system prompt comes from ``prompts/``; history is the thread's stored text turns (redacted).
* If the model endpoint fails, the turn falls back to the offline router and says so.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from agent import answers, prompts
from agent.langchain_tools import as_langchain_tools
from agent.memory import Message
from agent.safety import envelope
from agent.types import ToolCall

if TYPE_CHECKING:
    from agent.core import Assistant, _Turn

log = logging.getLogger(__name__)

MAX_MODEL_CALLS = 8
#: The turn whose tool calls are running (a context variable: concurrent turns never mix).
_TURN: ContextVar[_Turn | None] = ContextVar("smart0dte_turn", default=None)


def chat_model(settings: Any) -> Any:
    """``ChatOpenAI`` configured from settings (a local server needs no real key)."""
    from langchain_openai import ChatOpenAI

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return ChatOpenAI(model=settings.openai_model, api_key=key, base_url=settings.openai_base_url,
                      streaming=True, temperature=0, max_retries=1, timeout=60)


class LLMRunner:
    """Builds the agent once per assistant and runs turns on it."""

    def __init__(self, assistant: Assistant, model: Any) -> None:
        from langchain.agents import create_agent
        from langchain.agents.middleware import AgentMiddleware
        from langchain_core.messages import ToolMessage

        self.assistant = assistant
        runner = self

        class RouteThroughRegistry(AgentMiddleware):
            """Every tool call goes through the assistant's runner; nothing else executes tools."""

            async def awrap_tool_call(self, request: Any, handler: Any) -> Any:
                tc = request.tool_call
                content = await runner.execute(tc.get("name", ""), tc.get("args") or {}, tc.get("id"))
                return ToolMessage(content=content, tool_call_id=tc.get("id") or "", name=tc.get("name", ""))

        self.graph = create_agent(model, as_langchain_tools(assistant.registry, self._standalone),
                                  middleware=[RouteThroughRegistry()])

    @classmethod
    def for_assistant(cls, assistant: Assistant) -> LLMRunner:
        choice = assistant._llm_choice
        model = chat_model(assistant.engine.settings) if isinstance(choice, str) else choice
        return cls(assistant, model)

    async def _standalone(self, name: str, args: dict) -> str:
        return await self.execute(name, args, None)

    async def execute(self, name: str, args: Any, call_id: str | None) -> str:
        """Run one model-requested tool call in the current turn; the enveloped result."""
        turn = _TURN.get()
        if turn is None:
            raise RuntimeError("a tool call outside an assistant turn")
        call = ToolCall(str(name), args if isinstance(args, dict) else {"_raw": args}, call_id=call_id)
        call = await turn.tool(call)
        if call.ok:
            return envelope(call.name, call.output)
        return envelope(call.name, {"error": call.error}, ok=False)

    def _messages(self, text: str, history: list[Message]) -> list[Any]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        a = self.assistant
        msgs: list[Any] = [SystemMessage(prompts.system_prompt(a.today().isoformat(), f"user {a.user_id}"))]
        for m in history:
            if m.role == "user":
                msgs.append(HumanMessage(a.redactor.text(m.content)))
            else:  # what the tools were asked, so "backtest that" can refer back
                used = "; ".join(f"{c.get('name')} {c.get('args')}" for c in m.tool_calls)
                msgs.append(AIMessage(a.redactor.text(m.content + (f"\n[tools used: {used}]" if used else ""))))
        msgs.append(HumanMessage(a.redactor.text(text)))  # a pasted key never reaches the model
        return msgs

    async def run(self, turn: _Turn, text: str, history: list[Message]) -> None:
        from langchain_core.messages import AIMessage, AIMessageChunk
        from langgraph.errors import GraphRecursionError

        reset = _TURN.set(turn)
        final_text = ""
        streamed: list[str] = []
        try:
            config = {"recursion_limit": 2 * MAX_MODEL_CALLS + 1}
            async for item, meta in self.graph.astream({"messages": self._messages(text, history)}, config,
                                                       stream_mode="messages"):
                if meta.get("langgraph_node") != "model":
                    continue
                if isinstance(item, AIMessageChunk) and isinstance(item.content, str) and item.content:
                    streamed.append(item.content)
                    turn.token(item.content)
                elif isinstance(item, AIMessage) and not isinstance(item, AIMessageChunk):
                    final_text = item.content if isinstance(item.content, str) else ""
                if isinstance(item, AIMessageChunk) and (item.tool_call_chunks or item.tool_calls):
                    streamed.append("\n")  # text before a tool call is a separate thought
        except GraphRecursionError:
            turn.token("\n" + prompts.load("notices/too_many_steps"))
        except Exception as err:  # the model endpoint failed: answer offline, say so
            if not _is_model_error(err):
                raise
            log.warning("language model unavailable: %s", type(err).__name__)
            turn.token(prompts.load("notices/llm_unavailable").format(error=type(err).__name__) + "\n")
            await turn._offline(text)
            return
        finally:
            _TURN.reset(reset)
        if not "".join(streamed).strip() and not final_text:
            for call in turn.calls:  # the model said nothing: show the data by template
                turn.token(answers.for_call(call) + "\n")
        elif final_text and not "".join(streamed).strip():
            turn.token(final_text)


def _is_model_error(err: Exception) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        return False
    return isinstance(err, (openai.APIError, openai.APIConnectionError, openai.APITimeoutError))
