"""``smart0dte backtest``, ``smart0dte signals`` and ``smart0dte sweep``.

Contract (issue 6 §5, kept exactly)::

    smart0dte backtest --strategy iron_condor|vertical|straddle|strangle|butterfly|iron_butterfly|
        long_call|long_put|short_put|short_call --underlying SPY --start YYYY-MM-DD --end YYYY-MM-DD
        [--short-delta 0.10] [--wing-width 5] [--entry 10:00] [--exit 15:50] [--take-profit 0.5]
        [--stop-loss 2.0] [--quantity 1] [--json]
      → {"strategy","underlying","start","end","data":"quoted"|"modeled","trades","total_pnl",
         "win_rate","profit_factor","max_drawdown","sharpe","equity_curve":[{"date","equity"}],
         "report"}  (plus further statistics and the trades table)
    smart0dte signals [UNDERLYING] --json → list of current signals

A range without data exits 2 saying so. Extra options (not in the contract, all optional):
``--source store|synthetic``, ``--seed``, ``--settlement cash|physical``, ``--risk-per-trade``,
``--filter calm|trend_up|…`` (signal entry filter), ``--png`` (the chart as PNG too: it starts a
Chromium, seconds of a call that otherwise ends well under that); ``--exit expiry`` holds
to expiry; ``--take-profit none`` / ``--stop-loss none`` disable them.
"""

from __future__ import annotations

import typer

from agent.cli.common import JSON_OPTION, guarded, print_json, run, with_engine


def _opt_float(text: str | None, name: str) -> float | None:
    if text is None or text.strip().lower() in ("none", "off", ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--{name} must be a number or 'none', got {text!r}") from None


def _print_backtest(d: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    m = d["metrics"]
    t = Table(title=f"{d['underlying']} {d['strategy']} {d['start']}..{d['end']} ({d['data']}, {d['source']})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k in ("trades", "total_pnl", "win_rate", "avg_win", "avg_loss", "profit_factor", "expectancy",
              "max_drawdown", "sharpe", "sortino", "exposure"):
        v = m.get(k)
        t.add_row(k, "n/a" if v is None else f"{v:,.4g}" if isinstance(v, float) else str(v))
    con = Console()
    con.print(t)
    con.print(f"report: {d['report']}" + (f"  png: {d['png']}" if d.get("png") else ""))


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    @guarded()
    def backtest_cmd(
        strategy: str = typer.Option(..., "--strategy", help="iron_condor|vertical|straddle|strangle|butterfly|"
                                     "iron_butterfly|long_call|long_put|short_put|short_call"),
        underlying: str = typer.Option("SPY", "--underlying", help="SPY, QQQ or IWM"),
        start: str = typer.Option(..., "--start", help="First session YYYY-MM-DD"),
        end: str = typer.Option(..., "--end", help="Last session YYYY-MM-DD"),
        short_delta: float = typer.Option(0.10, "--short-delta", help="|delta| of the short strikes"),
        wing_width: float = typer.Option(5.0, "--wing-width", help="Points from short strike to wing"),
        entry: str = typer.Option("10:00", "--entry", help="Entry time ET (HH:MM)"),
        exit_: str = typer.Option("15:50", "--exit", help="Time exit ET (HH:MM) or 'expiry'"),
        take_profit: str = typer.Option("0.5", "--take-profit", help="Share of the credit/debit, or 'none'"),
        stop_loss: str = typer.Option("2.0", "--stop-loss", help="Loss as a multiple of it, or 'none'"),
        quantity: int = typer.Option(1, "--quantity", help="Structures per trade"),
        source: str | None = typer.Option(None, "--source", help="store (default) or synthetic history"),
        seed: int | None = typer.Option(None, "--seed", help="Seed of synthetic history"),
        settlement: str | None = typer.Option(None, "--settlement", help="cash or physical (held to expiry)"),
        risk_per_trade: float | None = typer.Option(None, "--risk-per-trade",
                                                    help="Size each trade so its max loss is this share of equity"),
        entry_filter: str = typer.Option("none", "--filter",
                                         help="Signal filter at entry: none|calm|trend_up|trend_down|no_breakout|"
                                              "low_vix"),
        png: bool = typer.Option(False, "--png", help="Also render the report's PNG chart (starts a Chromium)"),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Minute-level 0DTE backtest of one structure over a date range."""
        from pydantic import ValidationError

        from engine.backtest.params import BacktestParams

        try:
            params = BacktestParams(
                strategy=strategy, underlying=underlying, start=start, end=end, short_delta=short_delta,
                wing_width=wing_width, entry=entry, exit=exit_, take_profit=_opt_float(take_profit, "take-profit"),
                stop_loss=_opt_float(stop_loss, "stop-loss"), quantity=quantity, source=source, seed=seed,
                settlement=settlement, risk_per_trade=risk_per_trade, entry_filter=entry_filter, png=png)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first.get("loc", ())) or "input"
            raise ValueError(f"{where.replace('_', '-')}: {first.get('msg')}") from None

        result = run(with_engine(lambda e: e.backtest(params)))
        data = result.to_dict()
        if as_json:
            print_json(data)
        else:
            _print_backtest(data)

    @app.command("signals")
    @guarded()
    def signals_cmd(
        underlying: str | None = typer.Argument(None, help="SPY, QQQ, IWM or VIX; omitted = all"),
        correlation: int | None = typer.Option(None, "--correlation", min=3, max=2000,
                                               help="Instead: the SPY/QQQ/IWM/VIX correlation matrix over N minutes"),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Current signals: opening range, VWAP, IV rank, IV-RV, VIX regime, correlation, momentum."""
        if correlation is not None:
            m = run(with_engine(lambda e: e.signal_engine.correlation_matrix(correlation)))
            if as_json:
                print_json(m)
            else:
                typer.echo(f"correlation of 1-minute returns, last {m['window']} minutes to {m['ts']}")
                typer.echo("      " + "".join(f"{t:>8}" for t in m["tickers"]))
                for t, row in zip(m["tickers"], m["matrix"], strict=True):
                    typer.echo(f"{t:>6}" + "".join(f"{'n/a' if x is None else f'{x:.2f}':>8}" for x in row))
            return
        sigs = run(with_engine(lambda e: e.signals(underlying)))
        rows = [s.to_dict() for s in sigs]
        if as_json:
            print_json(rows)
            return
        from rich.console import Console
        from rich.table import Table

        t = Table("signal", "underlying", "direction", "strength", "confidence", "reason")
        for r in rows:
            t.add_row(r["name"], r["underlying"], r["direction"], f"{r['strength']:.2f}", f"{r['confidence']:.2f}",
                      "; ".join(r["reasons"]))
        Console().print(t)

    @app.command("sweep")
    @guarded()
    def sweep_cmd(
        strategy: str = typer.Option(..., "--strategy"),
        underlying: str = typer.Option("SPY", "--underlying"),
        start: str = typer.Option(..., "--start"),
        end: str = typer.Option(..., "--end"),
        deltas: str = typer.Option("0.05,0.10,0.15", "--short-delta", help="Comma-separated grid"),
        widths: str = typer.Option("5", "--wing-width", help="Comma-separated grid"),
        entries: str = typer.Option("10:00", "--entry", help="Comma-separated grid of HH:MM"),
        tps: str = typer.Option("0.5", "--take-profit", help="Comma-separated grid ('none' allowed)"),
        sls: str = typer.Option("2.0", "--stop-loss", help="Comma-separated grid ('none' allowed)"),
        metric: str = typer.Option("sharpe", "--metric", help="Rank by: sharpe|total_pnl|profit_factor|..."),
        backend: str | None = typer.Option(None, "--backend", help="process (default), ray or serial"),
        source: str | None = typer.Option(None, "--source", help="store or synthetic"),
        top: int = typer.Option(10, "--top"),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Grid search over delta, width, entry time, take-profit and stop-loss, ranked by a metric."""
        from engine.backtest.params import BacktestParams
        from engine.backtest.service import BacktestService
        from engine.settings import get_settings

        split = lambda text: [x.strip() for x in text.split(",") if x.strip()]  # noqa: E731
        grid = {"short_delta": [float(x) for x in split(deltas)], "wing_width": [float(x) for x in split(widths)],
                "entry": split(entries), "take_profit": [_opt_float(x, "take-profit") for x in split(tps)],
                "stop_loss": [_opt_float(x, "stop-loss") for x in split(sls)]}
        base = BacktestParams(strategy=strategy, underlying=underlying, start=start, end=end, source=source,
                              report=False)
        res = BacktestService(get_settings()).sweep(base, grid, metric=metric, backend=backend, top=top)
        if as_json:
            print_json(res.to_dict())
            return
        from rich.console import Console
        from rich.table import Table

        t = Table(*grid.keys(), "trades", "total_pnl", metric, title=f"{res.runs} runs in {res.seconds:.1f}s "
                  f"({res.backend})")
        for row in res.rows:
            t.add_row(*(str(row["params"][k]) for k in grid), str(row["trades"]), f"{row['total_pnl']:,.2f}",
                      str(row.get(metric)))
        Console().print(t)
