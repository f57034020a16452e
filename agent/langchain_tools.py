"""The tool registry as LangChain tools (the agent's adapter; LangChain is an agent concern).

Every :class:`tools.registry.ToolSpec` becomes a ``StructuredTool`` whose name, description and
argument schema (the tool's pydantic input model) are what the model sees. Calling it runs
``runner(name, args)`` — in the agent that is the assistant's own tool runner, which executes
through the registry as ``Principal.agent_for(person)`` and returns the result wrapped in the
untrusted-data envelope (:func:`agent.safety.envelope`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from tools.registry import Effect, Registry, ToolSpec

Runner = Callable[[str, dict[str, Any]], Awaitable[str]]

_EFFECT_NOTE = {
    Effect.READ: "",
    Effect.STAGE: " (Stages only: the person confirms it themselves; you cannot.)",
    Effect.WRITE: " (Changes state: the person must approve it on their surface before it happens.)",
}


def as_langchain_tool(spec: ToolSpec, runner: Runner) -> BaseTool:
    async def _call(**kwargs: Any) -> str:
        args = spec.input_model.model_validate(kwargs).model_dump(mode="json", exclude_unset=True)
        return await runner(spec.name, args)

    return StructuredTool.from_function(coroutine=_call, name=spec.name,
                                        description=spec.description + _EFFECT_NOTE[spec.effect],
                                        args_schema=spec.input_model, infer_schema=False)


def as_langchain_tools(registry: Registry, runner: Runner) -> list[BaseTool]:
    return [as_langchain_tool(spec, runner) for spec in registry.all()]
