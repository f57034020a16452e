"""Plain types of the agent API: tool calls, streaming events and the result of one ``ask``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class ToolCall:
    """One tool call: what was asked (``name``, ``args``) and what came back."""

    name: str
    args: dict[str, Any]
    ok: bool | None = None                  # None until run
    output: dict[str, Any] | None = None    # the tool's output model as JSON data
    error: dict[str, Any] | None = None     # {"type", "message", "field"} when it failed
    call_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The contract's ``{"name", "args"}`` view."""
        return {"name": self.name, "args": self.args}


EventKind = Literal["tool_start", "tool_end", "token", "final"]


@dataclass
class Event:
    """A streaming event: ``tool_start`` (``call``), ``tool_end`` (``call`` with output or error),
    ``token`` (``text``: a piece of the answer) and ``final`` (``result``)."""

    kind: EventKind
    call: ToolCall | None = None
    text: str = ""
    result: AskResult | None = None


@dataclass
class AskResult:
    """What one ``ask`` produced.

    ``pending_confirmation`` is set when a tool staged something only a person can approve: an
    order ticket (``{"kind": "order", "ticket_id", "expires_at", "preview", "risk"}``) or a state
    change the model asked for (``{"kind": "cancel_order", "ticket_id": None, "args"}``). The
    surface shows it and asks the person; the assistant itself never confirms. ``orders_placed``
    lists orders that reached a broker during the call and is always empty for ``ask``.
    """

    answer: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    pending_confirmation: dict[str, Any] | None = None
    orders_placed: list[dict[str, Any]] = field(default_factory=list)
    thread_id: str = "default"
    mode: Literal["offline", "llm"] = "offline"

    def to_json(self) -> dict[str, Any]:
        """The ``smart0dte ask --json`` contract."""
        return {"tool_calls": [c.public() for c in self.tool_calls], "answer": self.answer,
                "pending_confirmation": self.pending_confirmation, "orders_placed": list(self.orders_placed)}
