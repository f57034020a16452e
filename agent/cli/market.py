"""``smart0dte quote | chain | dashboard``: market data from the command line.

* ``quote SYMBOL [--json]`` — SPY, QQQ, IWM, VIX or an OCC option symbol
  (``SPY261120C00600000``); JSON ``{"symbol","bid","ask","last","bid_size","ask_size","ts","source"}``.
* ``chain UNDERLYING [--expiry 0dte|YYYY-MM-DD] [--strikes N] [--json]`` — JSON
  ``{"underlying","expiry","spot","ts","rows":[{"symbol","strike","right","bid","ask","mid","iv",
  "delta","gamma","theta","vega","volume","open_interest"}]}``, N strikes either side of ATM.
* ``dashboard [--once]`` — live terminal view of quotes and the SPY 0DTE chain (Ctrl-C exits).

Bad input (unknown symbol, malformed OCC symbol, bad date, no such expiry) exits 2 with one line,
or ``{"error": {"type", "message"}}`` with ``--json``.
"""

from __future__ import annotations

import typer

from agent.cli.common import JSON_OPTION, guarded, print_json, run, with_engine

QUOTE_KEYS = ("symbol", "bid", "ask", "last", "bid_size", "ask_size", "ts", "source")


def quote_payload(q) -> dict:
    return {"symbol": q.symbol, "bid": q.bid, "ask": q.ask, "last": q.last, "bid_size": int(q.bid_size),
            "ask_size": int(q.ask_size), "ts": q.ts.isoformat(), "source": q.source}


def chain_payload(ch, strikes: int | None) -> dict:
    return {"underlying": ch.underlying, "expiry": ch.expiry.isoformat(), "spot": float(ch.spot),
            "ts": ch.ts.isoformat(), "rows": ch.rows(strikes)}


def quote(symbol: str = typer.Argument(..., help="SPY, QQQ, IWM, VIX or an OCC option symbol"),
          as_json: bool = JSON_OPTION) -> None:
    """Latest bid/ask/last of a ticker or an option."""
    if as_json:
        print_json(quote_payload(run(with_engine(lambda engine: engine.quote(symbol)))))
        return

    async def with_previous_close(engine):
        q = await engine.quote(symbol)
        prev = None if len(q.symbol) > 6 else await engine.market.previous_close(q.symbol, q.session)
        return q, prev

    q, prev = run(with_engine(with_previous_close))
    from agent.cli.market_view import quote_table, show

    show(quote_table([q], {q.symbol: prev}, title=f"{q.symbol} — session {q.session or q.ts.date()}"))


def chain(underlying: str = typer.Argument(..., help="SPY, QQQ, IWM or VIX"),
          expiry: str = typer.Option("0dte", "--expiry", help='"0dte" or a date YYYY-MM-DD'),
          strikes: int = typer.Option(10, "--strikes", help="Strikes either side of ATM (1-500)"),
          as_json: bool = JSON_OPTION) -> None:
    """Option chain of one expiry with bid/ask, IV and Greeks, near the money."""
    if not 1 <= strikes <= 500:  # checked here, not by typer, so --json gets the JSON error shape
        from engine.core.errors import InvalidInput

        raise InvalidInput(f"--strikes must be between 1 and 500, not {strikes}", field="strikes")
    ch = run(with_engine(lambda engine: engine.chain(underlying, expiry)))
    if as_json:
        print_json(chain_payload(ch, strikes))
        return
    from agent.cli.market_view import chain_table, show

    show(chain_table(ch, strikes))


def dashboard(once: bool = typer.Option(False, "--once", help="Render one frame and exit"),
              refresh: float = typer.Option(1.0, "--refresh", min=0.1, max=60.0, help="Seconds per frame"),
              underlying: str = typer.Option("SPY", "--underlying", help="Chain shown: SPY, QQQ or IWM"),
              strikes: int = typer.Option(6, "--strikes", min=1, max=40, help="Strikes either side of ATM"),
              ) -> None:
    """Live terminal dashboard of the market feed: quotes and the 0DTE chain near the money."""
    from agent.cli.market_view import run_dashboard

    run_dashboard(once=once, refresh=refresh, underlying=underlying, strikes=strikes)


def register(app: typer.Typer) -> None:
    app.command("quote")(guarded()(quote))
    app.command("chain")(guarded()(chain))
    app.command("dashboard")(guarded("_no_json")(dashboard))
