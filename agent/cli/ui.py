"""``smart0dte ui [--demo] [--host H] [--port P]``: the Chainlit web chat (``make run`` = ``--demo``).

Prints the address (and the demo account in demo mode) and serves until Ctrl-C; never opens a
browser. Without users in ``SMART0DTE_USERS`` (argon2 hashes) and ``SMART0DTE_AUTH_SECRET`` it
refuses to start unless ``--demo`` / ``SMART0DTE_DEMO_MODE=true``. See :mod:`agent.ui.launch`.
"""

from __future__ import annotations

import sys

import typer


def ui(demo: bool = typer.Option(False, "--demo", help="Demo mode: account demo/demo, paper trading; never in production"),
       host: str | None = typer.Option(None, "--host", help="Address to listen on (default SMART0DTE_UI_HOST, 127.0.0.1)"),
       port: int | None = typer.Option(None, "--port", min=1, max=65535,
                                       help="Port (default SMART0DTE_UI_PORT, 8000)")) -> None:
    """The web chat (Chainlit): prints its address and serves until Ctrl-C; never opens a browser."""
    from agent.ui.auth import NoUsers
    from agent.ui.launch import banner, prepare, serve
    from engine.settings import SettingsError, load_settings

    try:
        launch = prepare(load_settings(**({"demo_mode": True} if demo else {})), demo=demo, host=host, port=port)
    except (NoUsers, SettingsError) as err:
        sys.stderr.write(f"error: {err}\n")
        raise typer.Exit(2) from None
    sys.stdout.write(banner(launch) + "\n")
    sys.stdout.flush()
    try:
        serve(launch)
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
