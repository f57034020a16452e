"""The REST API: every registered tool as ``POST /tools/{name}``, plus tickets, ledgers, audit,
events and health. Built from the one registry, so OpenAPI shows each tool's real schemas.

Auth: ``Authorization: Bearer <token>`` from ``smart0dte users add``. Roles are cumulative
(viewer < trader < live-trader < admin): read tools need viewer, stage tools trader, confirming a
paper ticket trader, a live ticket live-trader, kill switch and mode admin. Confirming needs a
*person's* token; a service token (scripts, AI clients) can stage but never confirm.

``POST /ask`` calls the conversational agent, which lives in the layer above; the agent layer
passes it in as ``ask_handler`` (tools never import agent).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from engine.core.errors import AuthError, PermissionDenied
from engine.core.principal import Principal, Role
from tools.api import errors
from tools.api.ratelimit import RateLimiter
from tools.auth import UserStore
from tools.catalog import load as load_tools
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec

AskHandler = Callable[[str, str | None, Principal], Awaitable[BaseModel | dict]]

_NEEDS = {Effect.READ: Role.VIEWER, Effect.STAGE: Role.TRADER, Effect.WRITE: Role.TRADER}


class Unauthorized(AuthError):
    type = "unauthorized"


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, description="What the person asks, in plain words")
    thread_id: str | None = Field(None, max_length=64, description="Conversation thread to continue")


class KillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["active", "reducing", "halted"] = Field(description="New kill-switch state")
    reason: str = Field("", max_length=200)


class ModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["paper", "live"]
    confirmation: str = Field(description='Type "LIVE" to switch to live trading')


def create_app(engine: Any, *, ask_handler: AskHandler | None = None, store: UserStore | None = None) -> FastAPI:
    load_tools()
    app = FastAPI(title="Smart-0DTE API", version="1", description=__doc__)
    errors.install(app)
    users = store or UserStore(engine.db)
    limiter = RateLimiter(engine.settings.api_rate_limit_per_minute)

    async def principal(authorization: str | None = Header(None, description="Bearer <token>")) -> Principal:
        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        who = await asyncio.to_thread(users.authenticate, token)
        if who is None:
            raise Unauthorized("missing or invalid bearer token")
        wait = limiter.check(who.id)
        if wait:
            raise _RateLimited(wait)
        return who

    def need(p: Principal, role: Role) -> None:
        if not p.has(role):
            raise PermissionDenied(f"this needs the {role.value} role")

    @app.exception_handler(Unauthorized)
    async def _unauth(_r: Request, err: Unauthorized) -> JSONResponse:
        return JSONResponse(errors.error_body(err.type, err.message), status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(_RateLimited)
    async def _limited(_r: Request, err: _RateLimited) -> JSONResponse:
        return JSONResponse(errors.error_body("rate_limited", "too many requests; slow down"), status_code=429,
                            headers={"Retry-After": str(max(1, round(err.wait)))})

    @app.get("/health", tags=["system"])
    async def health() -> dict:
        return {"status": "ok", "feed": engine.settings.feed, "mode": await engine.trading_mode(),
                "tools": len(REGISTRY.all())}

    for spec in REGISTRY.all():
        _add_tool_route(app, spec, engine, principal, need)

    @app.post("/ask", tags=["agent"])
    async def ask(body: AskBody, who: Principal = Depends(principal)) -> Any:
        need(who, Role.VIEWER)
        if ask_handler is None:
            raise PermissionDenied("the agent is not served by this process")
        return await ask_handler(body.text, body.thread_id, who)

    @app.post("/tickets/{ticket_id}/confirm", tags=["orders"])
    async def confirm(ticket_id: str, who: Principal = Depends(principal)) -> Any:
        if not who.is_person:
            raise PermissionDenied("only a person's token can confirm an order")
        ledger = engine.execution.ticket_account(ticket_id)
        need(who, Role.LIVE_TRADER if ledger == "live" else Role.TRADER)
        return await engine.confirm(ticket_id, who)

    @app.post("/tickets/{ticket_id}/cancel", tags=["orders"])
    async def cancel(ticket_id: str, who: Principal = Depends(principal)) -> Any:
        if not who.is_person:
            raise PermissionDenied("only a person's token can cancel a ticket")
        need(who, Role.TRADER)
        return await engine.cancel_ticket(ticket_id, who)

    @app.get("/positions", tags=["ledger"])
    async def positions(account: Literal["paper", "live"] = "paper", who: Principal = Depends(principal)) -> Any:
        need(who, Role.VIEWER)
        return await engine.positions(account)

    @app.get("/orders", tags=["ledger"])
    async def orders(account: Literal["paper", "live"] = "paper", status: str | None = Query(None, max_length=32),
                     who: Principal = Depends(principal)) -> Any:
        need(who, Role.VIEWER)
        return await engine.orders(account, status)

    @app.get("/audit", tags=["system"])
    async def audit(limit: int = Query(50, ge=1, le=1000), who: Principal = Depends(principal)) -> Any:
        need(who, Role.VIEWER)
        return await asyncio.to_thread(engine.audit_tail, limit)

    @app.post("/admin/kill", tags=["admin"])
    async def kill(body: KillBody, who: Principal = Depends(principal)) -> Any:
        need(who, Role.ADMIN)
        if not who.is_person:
            raise PermissionDenied("only a person may switch the kill switch")
        return await engine.set_kill_switch(body.state, who, body.reason)

    @app.post("/admin/mode", tags=["admin"])
    async def mode(body: ModeBody, who: Principal = Depends(principal)) -> Any:
        need(who, Role.ADMIN)
        if not who.is_person:
            raise PermissionDenied("only a person may switch the trading mode")
        return await engine.switch_mode(body.mode, who, body.confirmation)

    @app.get("/events", tags=["system"])
    async def events(request: Request, who: Principal = Depends(principal),
                     last_event_id: int | None = Header(None, alias="Last-Event-ID")) -> EventSourceResponse:
        need(who, Role.VIEWER)
        from engine.events import PUSH_KINDS, follow

        async def stream():
            async for record in follow(engine, PUSH_KINDS, after_id=last_event_id):
                if await request.is_disconnected():
                    break
                yield {"id": str(record["id"]), "event": record["kind"], "data": _json(record)}

        return EventSourceResponse(stream(), ping=15)

    return app


class _RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        self.wait = wait


def _json(record: dict) -> str:
    import json

    return json.dumps(record, separators=(",", ":"), default=str)


def _add_tool_route(app: FastAPI, spec: ToolSpec, engine: Any, principal: Callable, need: Callable) -> None:
    async def endpoint(args: BaseModel, who: Principal) -> BaseModel:
        need(who, _NEEDS[spec.effect])
        ledger = getattr(args, "account", None) or "paper"
        return await REGISTRY.call(spec.name, args, ToolContext(engine=engine, principal=who, ledger=ledger))

    # FastAPI reads the body model from the signature; build it per tool.
    endpoint.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("args", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.input_model),
        inspect.Parameter("who", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=Depends(principal),
                          annotation=Principal),
    ])
    app.add_api_route(f"/tools/{spec.name}", endpoint, methods=["POST"], response_model=spec.output_model,
                      name=spec.name, summary=spec.description.split("\n")[0][:120], description=spec.description,
                      tags=[f"tools:{spec.effect.value}"])
