"""The MCP server: the one tool registry served to AI clients with the official ``mcp`` SDK.

Tool schemas come from the pydantic models; results are structured output (plus the same JSON as
text for older clients). Read tools carry ``readOnlyHint``, stage tools ``destructiveHint``.
There is no confirm tool: a staged order's result tells the client that a person must confirm it
in the chat UI, a bot or the CLI. ``smart0dte mcp`` serves stdio (the client launching us acts as
a service principal that can stage, never confirm); ``smart0dte mcp --http`` serves streamable
HTTP behind the same bearer tokens as the REST API.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server

from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal, PrincipalKind, Role
from tools.catalog import load as load_tools
from tools.common import plain
from tools.registry import REGISTRY, Effect, ToolContext

log = logging.getLogger("smart0dte.mcp")

CONFIRM_NOTE = ("Staged only. A person must confirm this ticket in the Smart-0DTE chat UI, a bot or the "
                "CLI before it expires; no AI client can confirm it.")

current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("mcp_principal", default=None)


def stdio_principal() -> Principal:
    return Principal("mcp-stdio", PrincipalKind.SERVICE, frozenset({Role.TRADER}), "mcp")


def tool_definitions() -> list[types.Tool]:
    load_tools()
    out = []
    for spec in REGISTRY.all():
        if spec.effect is Effect.WRITE:  # state changes are a person's, on a person's surface
            continue
        out.append(types.Tool(
            name=spec.name,
            description=spec.description + (f"\n\n{CONFIRM_NOTE}" if spec.effect is Effect.STAGE else ""),
            inputSchema=spec.input_schema(),
            outputSchema=spec.output_schema(),
            annotations=types.ToolAnnotations(
                title=spec.name.replace("_", " "),
                readOnlyHint=spec.effect is Effect.READ,
                destructiveHint=spec.effect is Effect.STAGE,
                idempotentHint=spec.effect is Effect.READ,
                openWorldHint=False,
            ),
        ))
    return out


def build_server(engine: Any, default_principal: Principal | None = None) -> Server:
    server: Server = Server("smart0dte", instructions=(
        "Smart-0DTE: 0DTE options on SPY, QQQ, IWM and VIX. Tools return data; quote their numbers. "
        "Orders can only be staged here; a person confirms them elsewhere."))
    definitions = {t.name: t for t in tool_definitions()}

    @server.list_tools()
    async def _list() -> list[types.Tool]:
        return list(definitions.values())

    @server.call_tool(validate_input=False)  # our pydantic models validate and name the field
    async def _call(name: str, arguments: dict[str, Any]) -> Any:
        if name not in definitions:
            return _error(f"no tool named {name!r}")
        who = current_principal.get() or default_principal
        if who is None:
            return _error("not authenticated")
        spec = REGISTRY.get(name)
        try:
            result = await REGISTRY.call(name, arguments, ToolContext(engine=engine, principal=who))
        except Smart0DTEError as err:
            return _error(json.dumps({"error": err.to_dict()}))
        except Exception:  # never leak internals to a remote client; the log has the details
            log.exception("MCP tool %s failed", name)
            return _error(json.dumps({"error": {"type": "internal", "message": "internal error; it has been logged"}}))
        data = plain(result.model_dump(mode="json"))
        text = json.dumps(data, separators=(",", ":"))
        if spec.effect is Effect.STAGE:
            return [types.TextContent(type="text", text=CONFIRM_NOTE), types.TextContent(type="text", text=text)], data
        return [types.TextContent(type="text", text=text)], data

    return server


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], isError=True)


async def serve_stdio(engine: Any) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(engine, stdio_principal())
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(engine: Any, store: Any = None):
    """A Starlette app serving MCP at ``/mcp``; every request needs a bearer token."""
    import contextlib

    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount

    from tools.auth import UserStore

    users = store or UserStore(engine.db)
    manager = StreamableHTTPSessionManager(app=build_server(engine), stateless=True, json_response=True)

    async def handle(scope, receive, send) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        who = await asyncio.to_thread(users.authenticate, token, "mcp")  # a DB read: off the event loop
        if who is None:
            resp = JSONResponse({"error": {"type": "unauthorized", "message": "missing or invalid bearer token"}},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
            await resp(scope, receive, send)
            return
        bound = current_principal.set(who)
        try:
            await manager.handle_request(scope, receive, send)
        finally:
            current_principal.reset(bound)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with manager.run():
            yield

    return Starlette(routes=[Mount("/mcp", app=handle)], lifespan=lifespan)
