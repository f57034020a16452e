"""The REST API with the agent plugged into ``POST /ask`` (tools never import the agent layer)."""

from __future__ import annotations

from typing import Any

from engine.core.principal import Principal


def build_api(engine: Any):
    from agent.core import Assistant
    from tools.api.app import create_app

    assistants: dict[str, Assistant] = {}

    async def ask(text: str, thread_id: str | None, who: Principal) -> dict:
        assistant = assistants.get(who.id)
        if assistant is None:
            assistant = assistants[who.id] = Assistant(engine, who)
        result = await assistant.ask(text, thread_id or "api")
        return {**result.to_json(), "thread_id": result.thread_id}

    return create_app(engine, ask_handler=ask)
