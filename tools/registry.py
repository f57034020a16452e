"""The one tool registry. Every tool is one :class:`ToolSpec`; adapters (LangChain, FastAPI, MCP,
bots, CLI) serve the same registry, so a tool behaves the same on every surface.

A tool function is ``async def fn(args: InputModel, ctx: ToolContext) -> OutputModel``.
:meth:`Registry.call` validates raw arguments (``ToolInputError`` names the field; nothing runs),
checks the side-effect class against the principal, runs the function and writes the call to the
audit log.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from engine.core.errors import InvalidInput, NotFound, PermissionDenied
from engine.core.principal import Principal, Role

if TYPE_CHECKING:
    from engine.runtime import Engine


class Effect(StrEnum):
    READ = "read"    # changes nothing
    STAGE = "stage"  # prepares a ticket a person must confirm
    WRITE = "write"  # changes state; only surfaces acting for a person call these


class ToolInputError(InvalidInput):
    type = "invalid_arguments"


@dataclass(slots=True)
class ToolContext:
    """Built per request by an adapter."""

    engine: Engine
    principal: Principal
    ledger: str = "paper"
    extras: dict[str, Any] = field(default_factory=dict)


ToolFn = Callable[[Any, ToolContext], Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    fn: ToolFn
    effect: Effect = Effect.READ

    def input_schema(self) -> dict:
        return self.input_model.model_json_schema()

    def output_schema(self) -> dict:
        return self.output_model.model_json_schema()


_ROLE_FOR_EFFECT = {Effect.READ: Role.VIEWER, Effect.STAGE: Role.TRADER, Effect.WRITE: Role.TRADER}


def validation_error(err: ValidationError) -> ToolInputError:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first.get("loc", ())) or None
    msg = first.get("msg", "invalid value")
    if msg.startswith(("Value error, ", "Assertion failed, ")):  # pydantic's prefix says nothing to a person
        msg = msg.split(", ", 1)[1]
    return ToolInputError(f"{loc}: {msg}" if loc else msg, field=loc)


class Registry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    def register(self, spec: ToolSpec) -> ToolSpec:
        if spec.name in self._tools:
            raise ValueError(f"tool {spec.name!r} registered twice")
        if spec.input_model.model_config.get("extra") != "forbid":
            raise ValueError(f"tool {spec.name!r}: input model must set extra='forbid'")
        self._tools[spec.name] = spec
        return spec

    def get(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError:
            raise NotFound(f"no tool named {name!r}") from None

    def all(self) -> list[ToolSpec]:
        return list(self._tools.values())

    def names(self) -> list[str]:
        return list(self._tools)

    def parse(self, name: str, args: dict[str, Any] | BaseModel | None) -> tuple[ToolSpec, BaseModel]:
        spec = self.get(name)
        if isinstance(args, spec.input_model):
            return spec, args
        if args is not None and not isinstance(args, dict):
            raise ToolInputError("arguments must be a JSON object")
        try:
            return spec, spec.input_model.model_validate(args or {})
        except ValidationError as err:
            raise validation_error(err) from None

    async def call(self, name: str, args: dict[str, Any] | BaseModel | None, ctx: ToolContext) -> BaseModel:
        t0 = time.perf_counter()
        outcome = "error"
        parsed: BaseModel | None = None
        try:
            spec, parsed = self.parse(name, args)
            needed = _ROLE_FOR_EFFECT[spec.effect]
            if not ctx.principal.has(needed):
                raise PermissionDenied(f"{name} needs the {needed.value} role")
            if spec.effect is Effect.WRITE and not ctx.principal.is_person:
                raise PermissionDenied(f"{name} changes state and only a person may call it")
            result = await spec.fn(parsed, ctx)
            outcome = "ok"
            return result
        except Exception as err:
            outcome = f"error:{type(err).__name__}"
            raise
        finally:
            self._audit(ctx, name, parsed, outcome, time.perf_counter() - t0)

    @staticmethod
    def _audit(ctx: ToolContext, name: str, parsed: BaseModel | None, outcome: str, seconds: float) -> None:
        try:
            ctx.engine.audit.append(
                "tool_call",
                actor=ctx.principal.label,
                data={"tool": name, "args": parsed.model_dump(mode="json") if parsed else None,
                      "outcome": outcome, "ms": round(seconds * 1000, 3), "ledger": ctx.ledger},
            )
        except Exception:  # the audit log must never turn a read into a failure silently
            if outcome == "ok":
                raise


REGISTRY = Registry()
