"""``smart0dte data …``: the bar store from the command line.

* ``data import FILE --symbol SPY [--label auto|start|end] [--tz ZONE]`` — load a 1-minute bar CSV (all or
  nothing: one bad row rejects the file, naming the row and the reason; exit 2). ``--json`` prints
  ``{"symbol","file","rows","days","new_days","first","last"}`` (``first``/``last``: bar starts,
  ISO 8601 with the New York offset; ``days``: days now stored for the symbol).
* ``data days [SYMBOL]`` — stored symbols and their first/last day and day count.
* ``data bars SYMBOL [--start D] [--end D] [--interval 1m|5m|15m|30m|1h] [--limit N]`` — stored bars.
* ``data prune [--include-imported]`` — apply ``SMART0DTE_BAR_RETENTION_DAYS``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.common import JSON_OPTION, guarded, print_json

data_app = typer.Typer(help="Historical bars: import CSV files, list and read the bar store.",
                       no_args_is_help=True)


def _store():
    from engine.market.bars import BarStore
    from engine.settings import get_settings

    return BarStore(get_settings())


@data_app.command("import")
@guarded()
def import_cmd(
    file: Path = typer.Argument(..., help="CSV of 1-minute bars (e.g. datetime,open,high,low,close,volume)"),
    symbol: str = typer.Option(..., "--symbol", "-s", help="Symbol the bars belong to, e.g. SPY"),
    label: str = typer.Option("auto", "--label",
                              help="Timestamps mark bar start, end, or auto-detect from the session edges"),
    tz: str = typer.Option("America/New_York", "--tz", help="Time zone of timestamps written without an offset"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load a 1-minute bar CSV into the bar store (Parquet under SMART0DTE_HOME)."""
    from engine.core.errors import InvalidInput
    from engine.core.instruments import parse_symbol

    if label not in ("auto", "start", "end"):
        raise InvalidInput(f"--label must be auto, start or end, not {label!r}", field="label")
    symbol = str(parse_symbol(symbol))  # a product underlying, index or OCC option: bars of FOO help no one
    store = _store()
    before = set(store.days(symbol))
    rows = store.import_csv(file, symbol, label=label, tz=tz)  # type: ignore[arg-type]
    days = store.days(symbol)
    frame = store.minute_bars(symbol, days[0], days[-1])
    added = sorted(set(days) - before)
    out = {"symbol": symbol.strip().upper(), "file": str(file), "rows": rows, "days": len(days),
           "new_days": len(added), "first": frame.index[0], "last": frame.index[-1]}
    if as_json:
        print_json(out)
        return
    typer.echo(f"imported {rows} bars of {out['symbol']} from {file.name}: "
               f"{out['first']:%Y-%m-%d %H:%M} to {out['last']:%Y-%m-%d %H:%M} (bar starts, New York); "
               f"{len(added)} new day(s), {len(days)} stored")


@data_app.command("days")
@guarded()
def days_cmd(
    symbol: str | None = typer.Argument(None, help="One symbol; all stored symbols if omitted"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stored symbols with their day range."""
    store = _store()
    syms = [symbol.strip().upper()] if symbol else store.symbols()
    rows = []
    for s in syms:
        d = store.days(s)
        rows.append({"symbol": s, "days": len(d), "first": d[0] if d else None, "last": d[-1] if d else None})
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("symbol", "days", "first", "last")
    for r in rows:
        table.add_row(r["symbol"], str(r["days"]), str(r["first"] or "-"), str(r["last"] or "-"))
    Console().print(table)


@data_app.command("bars")
@guarded()
def bars_cmd(
    symbol: str = typer.Argument(..., help="Symbol, e.g. SPY"),
    start: str | None = typer.Option(None, "--start", help="First day YYYY-MM-DD (default: first stored)"),
    end: str | None = typer.Option(None, "--end", help="Last day YYYY-MM-DD (default: last stored)"),
    interval: str = typer.Option("1m", "--interval", help="1m, 5m, 15m, 30m or 1h"),
    limit: int = typer.Option(0, "--limit", min=0, help="Only the last N bars (0 = all)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stored bars of one symbol (bar start times, New York)."""
    from engine.core.errors import NoData

    store = _store()
    frame = store.resample(symbol, interval, start, end)
    if frame.empty:
        raise NoData(f"no {symbol.strip().upper()} bars stored for that range (see `smart0dte data days`)")
    if limit:
        frame = frame.tail(limit)
    rows = [{"start": ts, "open": float(r.open), "high": float(r.high), "low": float(r.low),
             "close": float(r.close), "volume": int(r.volume)} for ts, r in zip(frame.index, frame.itertuples(),
                                                                               strict=True)]
    if as_json:
        print_json({"symbol": symbol.strip().upper(), "interval": interval, "bars": rows})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("start", "open", "high", "low", "close", "volume")
    for r in rows:
        table.add_row(f"{r['start']:%Y-%m-%d %H:%M}", f"{r['open']:.2f}", f"{r['high']:.2f}",
                      f"{r['low']:.2f}", f"{r['close']:.2f}", f"{r['volume']:,}")
    Console().print(table)


@data_app.command("prune")
@guarded()
def prune_cmd(
    include_imported: bool = typer.Option(False, "--include-imported",
                                          help="Also delete imported history older than the retention"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete stored days older than SMART0DTE_BAR_RETENTION_DAYS."""
    store = _store()
    removed = store.prune(include_imported=include_imported)
    if as_json:
        print_json({"removed_days": removed, "retention_days": store.retention_days})
    else:
        typer.echo(f"removed {removed} day partition(s) older than {store.retention_days} days")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
