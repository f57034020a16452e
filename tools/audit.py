"""Audit tool: ``audit_log`` — the latest records of the append-only, hash-chained audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from tools.common import Args, Out, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec


class AuditLogArgs(Args):
    limit: int = Field(20, ge=1, le=500, description="How many of the latest records")


class AuditRecord(Out):
    id: int | str | None = None
    ts: dt.datetime | None = None
    kind: str
    actor: str | None = None
    data: dict = Field(default_factory=dict)


class AuditLogResult(Out):
    records: list[AuditRecord]


def audit_record(obj: Any) -> AuditRecord:
    raw = plain(obj)
    data = raw.get("data")
    return AuditRecord(id=pick(raw, "id", "seq"), ts=pick(raw, "ts", "created_at", "timestamp"),
                       kind=str(pick(raw, "kind", "type", default="")), actor=pick(raw, "actor"),
                       data=data if isinstance(data, dict) else {})


async def audit_log(args: AuditLogArgs, ctx: ToolContext) -> AuditLogResult:
    return AuditLogResult(records=[audit_record(r) for r in ctx.engine.audit_tail(args.limit)])


AUDIT_LOG = REGISTRY.register(ToolSpec(
    "audit_log", "The latest records of the audit log (orders, risk decisions, fills, tool calls).",
    AuditLogArgs, AuditLogResult, audit_log, effect=Effect.READ))
