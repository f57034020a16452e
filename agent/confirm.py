"""The person's side of a pending confirmation: the one place a surface turns a staged ticket (or a
deferred state change) into an action, and only for a person.

Surfaces (terminal chat, Chainlit button, bot reply) call :func:`confirm_pending` after the PERSON
said yes, with that person's principal; the engine checks again that a person confirms. The model
never reaches this code: it is not a tool.
"""

from __future__ import annotations

from typing import Any

from engine.core.errors import InvalidInput, PermissionDenied
from engine.core.principal import Principal
from tools.catalog import load as load_tools
from tools.common import plain
from tools.registry import ToolContext


def _require_person(person: Principal) -> None:
    if not isinstance(person, Principal) or not person.is_person:
        raise PermissionDenied("only a person can confirm; a model, tool or service cannot")


async def confirm_pending(engine: Any, pending: dict, person: Principal, ledger: str = "paper") -> dict:
    """Carry out ``pending`` (from ``AskResult.pending_confirmation``) for ``person``.

    An order ticket goes to ``Engine.confirm`` (risk is checked again there); a deferred tool call
    (e.g. ``cancel_order``) runs through the registry with the person as principal.
    """
    _require_person(person)
    kind = pending.get("kind")
    if kind == "order":
        return plain(await engine.confirm(str(pending["ticket_id"]), person))
    registry = load_tools()
    if kind in registry.names():
        result = await registry.call(kind, pending.get("args") or {}, ToolContext(engine, person, ledger))
        return result.model_dump(mode="json")
    raise InvalidInput(f"nothing to confirm for {kind!r}", field="kind")


async def decline_pending(engine: Any, pending: dict, person: Principal) -> dict:
    """The person said no: a staged ticket is cancelled so it can never be confirmed later."""
    _require_person(person)
    if pending.get("kind") == "order" and pending.get("ticket_id"):
        return plain(await engine.cancel_ticket(str(pending["ticket_id"]), person))
    return {"status": "declined"}
