"""Surfaces beside the chat UI: ``serve`` (REST API), ``users`` (API tokens), and the MCP server and
bots (``mcp``, ``telegram``, ``slack``)."""

from __future__ import annotations

import typer

from agent.cli.common import JSON_OPTION, get_engine, guarded, print_json

users_app = typer.Typer(help="People and programs allowed on the API and MCP surfaces", no_args_is_help=True)


@users_app.command("add")
@guarded()
def users_add(
    name: str = typer.Argument(..., help="User name"),
    role: str = typer.Option("viewer", "--role", help="viewer | trader | live-trader | admin"),
    service: bool = typer.Option(False, "--service", help="A program's token: can stage, never confirm"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user and print their bearer token (shown once, stored hashed)."""
    from tools.auth import UserStore

    engine = get_engine()
    token = UserStore(engine.db).add(name, role, service=service)
    engine.audit.append("user_added", actor="person:cli", data={"name": name, "role": role, "service": service})
    if as_json:
        print_json({"name": name, "role": role, "kind": "service" if service else "person", "token": token})
    else:
        typer.echo(f"user {name} ({role}) created. Token (shown once):\n{token}")


@users_app.command("list")
@guarded()
def users_list(as_json: bool = JSON_OPTION) -> None:
    """Users and roles (never tokens)."""
    from tools.auth import UserStore

    rows = UserStore(get_engine().db).list()
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['name']:<20} {r['role']:<12} {r['kind']}")


@users_app.command("remove")
@guarded()
def users_remove(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a user; their token stops working at once."""
    from tools.auth import UserStore

    engine = get_engine()
    UserStore(engine.db).remove(name)
    engine.audit.append("user_removed", actor="person:cli", data={"name": name})
    if as_json:
        print_json({"removed": name})


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default)"),
    port: int = typer.Option(8080, "--port", min=1, max=65535),
) -> None:
    """Start the REST API (uvicorn)."""
    import uvicorn

    from agent.surfaces_api import build_api

    uvicorn.run(build_api(get_engine()), host=host, port=port, log_level="info")


def mcp(
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP instead of stdio"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8765, "--port", min=1, max=65535),
) -> None:
    """Start the MCP server (stdio by default; --http needs bearer tokens from `users add`)."""
    import asyncio

    from tools import mcp_server

    engine = get_engine()
    if http:
        import uvicorn

        uvicorn.run(mcp_server.http_app(engine), host=host, port=port, log_level="warning")
    else:
        asyncio.run(mcp_server.serve_stdio(engine))


def telegram() -> None:
    """Start the Telegram bot (long polling; needs SMART0DTE_TELEGRAM_BOT_TOKEN and ..._ALLOWED_USERS)."""
    from agent.channels.telegram import from_settings

    _run_bot(from_settings)


def slack(
    port: int = typer.Option(3000, "--port", min=1, max=65535, help="HTTP mode: port of the events endpoint"),
    host: str = typer.Option("127.0.0.1", "--host", help="HTTP mode: interface (put a TLS proxy in front)"),
) -> None:
    """Start the Slack bot: Socket Mode when SMART0DTE_SLACK_APP_TOKEN is set, else HTTP at /slack/events."""
    from agent.channels.slack import from_settings

    _run_bot(from_settings, host=host, port=port)


def _run_bot(build, **run_options) -> None:
    """Build a bot from settings (one clear line and exit 2 when its token is missing) and serve it."""
    import logging
    import sys

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("smart0dte").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would show the bot token
    try:
        bot = build(get_engine())
    except ValueError as err:
        sys.stderr.write(f"error: {err}\n")
        raise typer.Exit(2) from None
    bot.run(**run_options)


def register(app: typer.Typer) -> None:
    app.command("telegram")(telegram)
    app.command("slack")(slack)
    app.command("mcp")(mcp)
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
