"""``smart0dte``: the command line. Each concern registers its commands from its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="smart0dte",
    help="Smart-0DTE: 0DTE options on SPY, QQQ, IWM and VIX — quotes, chains, paper trading, "
    "backtests, tax, and a chat assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module has ``register(app)``; modules import heavy libraries inside commands only.
_MODULES = (
    "agent.cli.admin",      # db upgrade, settings
    "agent.cli.market",     # quote, chain, dashboard
    "agent.cli.data",       # data import
    "agent.cli.trading",    # order, positions, orders, risk, kill, mode, audit
    "agent.cli.research",   # backtest, signals, sweep
    "agent.cli.tax",        # tax import|report|export
    "agent.cli.assistant",  # tools, tool, ask, chat
    "agent.cli.surfaces",   # serve, mcp, telegram, slack, users
    "agent.cli.ui",         # ui (the Chainlit web chat)
)

for _name in _MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
