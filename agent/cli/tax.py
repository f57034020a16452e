"""``smart0dte tax import | report | export | explain | whatif`` — the tax ledger from the command line.

* ``tax import FILE [--json]`` — project trade CSV (``datetime,account,symbol,side,quantity,price,
  fees``) or an IB Flex Query trade export (XML or CSV). A bad row exits 2 naming the row and the
  reason, and nothing from the file is imported; re-importing a file adds nothing.
* ``tax report --year YYYY [--json] [--wash-sale-matching identical|underlying]`` — JSON
  ``{"year","wash_sale_matching","short_term":{"proceeds","cost_basis","adjustments","gain"},
  "long_term":{…},"wash_sale_disallowed","section_1256":{"net","short_term_40","long_term_60"},
  "rows":[{"description","symbol","quantity","date_acquired","date_sold","proceeds","cost_basis",
  "code","adjustment","gain","term","box"}]}`` (numbers in dollars).
* ``tax export --year YYYY --form 8949|6781|schedule-d --out FILE.csv``.
* ``--lot-method fifo|lifo|hifo`` (report, explain): which lots sales close (default FIFO).
* ``tax explain --year YYYY [--json]`` — one plain-English line per row (why a loss was disallowed).
* ``tax whatif SYMBOL QUANTITY PRICE [--side BUY|SELL] [--account live] [--json]`` — would this
  trade, made now, be (or cause) a wash sale?

State lives under ``SMART0DTE_HOME``; paper trades are never part of tax.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.common import JSON_OPTION, fail, get_engine, guarded, print_json

MATCHING_OPTION = typer.Option(None, "--wash-sale-matching",
                               help="identical (same contract, default) or underlying (conservative)")
YEAR_OPTION = typer.Option(..., "--year", help="Tax year, e.g. 2025")
LOT_OPTION = typer.Option(None, "--lot-method", help="fifo (default), lifo or hifo (highest cost first)")


def _service(fn):
    """Run ``fn(tax_service)``; the database is opened only if something is stored (a report on a
    fresh home never loads SQLAlchemy), and closed afterwards."""
    from engine.tax.service import TaxService

    tax = TaxService(get_engine().settings)
    try:
        return fn(tax)
    finally:
        tax.close()


def _check_matching(value: str | None, as_json: bool) -> str | None:
    if value is not None and value not in ("identical", "underlying"):
        fail(f"--wash-sale-matching must be identical or underlying, not {value!r}", as_json,
             type_="invalid_input")
    return value


def import_(file: Path = typer.Argument(..., help="Trade CSV or IB Flex Query export (XML/CSV)"),
            as_json: bool = JSON_OPTION) -> None:
    """Import trades from a file (all rows or none)."""
    result = _service(lambda tax: tax.import_file_sync(file))
    if as_json:
        print_json(result.to_dict())
        return
    if result.already_imported:
        typer.echo(f"{result.file}: already imported, nothing added")
        return
    extra = f", {result.duplicates} already stored" if result.duplicates else ""
    paper = f", {result.paper_rows} paper rows ignored" if result.paper_rows else ""
    typer.echo(f"{result.file}: imported {result.imported} trades ({result.kind}){extra}{paper}")


def report(year: int = YEAR_OPTION, as_json: bool = JSON_OPTION,
           wash_sale_matching: str | None = MATCHING_OPTION, lot_method: str | None = LOT_OPTION) -> None:
    """Form 8949 totals and rows, wash-sale disallowed losses, the §1256 60/40 split."""
    matching = _check_matching(wash_sale_matching, as_json)
    rep = _service(lambda tax: tax.report_sync(year, matching, lot_method=lot_method))
    if as_json:
        print_json(rep.to_dict())
        return
    from agent.cli.tax_view import show_report

    show_report(rep)


def export(year: int = YEAR_OPTION,
           form: str = typer.Option(..., "--form", help="8949, 6781 or schedule-d"),
           out: Path = typer.Option(..., "--out", help="CSV file to write"),
           wash_sale_matching: str | None = MATCHING_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Write Form 8949, Form 6781 Part I or Schedule D as CSV."""
    matching = _check_matching(wash_sale_matching, as_json)
    path = _service(lambda tax: tax.export_sync(year, form, out, matching))
    if as_json:
        print_json({"year": year, "form": form, "out": str(path)})
    else:
        typer.echo(f"wrote {path}")


def explain(year: int = YEAR_OPTION, as_json: bool = JSON_OPTION,
            wash_sale_matching: str | None = MATCHING_OPTION, lot_method: str | None = LOT_OPTION) -> None:
    """Why each row has its numbers (wash sales, expiries, folded premiums, §1256 marks)."""
    matching = _check_matching(wash_sale_matching, as_json)
    rep = _service(lambda tax: tax.report_sync(year, matching, lot_method=lot_method))
    lines = rep.explanations()
    if as_json:
        print_json({"year": rep.year, "wash_sale_matching": rep.wash_sale_matching, "explanations": lines})
        return
    for e in lines:
        typer.echo(f"{e['date_sold']}  {e['symbol']:<22} {e['explanation']}")


def whatif(symbol: str = typer.Argument(..., help="Ticker or OCC option symbol"),
           quantity: int = typer.Argument(..., help="Shares or contracts"),
           price: str = typer.Argument(..., help="Price per share (option premium per share)"),
           side: str = typer.Option("SELL", "--side", help="BUY or SELL"),
           account: str = typer.Option("live", "--account", help="Account, e.g. live or ira"),
           as_json: bool = JSON_OPTION) -> None:
    """Would this trade, made now, be (or cause) a wash sale?"""
    warning = _service(lambda tax: tax.whatif_sync(symbol, quantity, price, account, side=side))
    if as_json:
        print_json({"wash_sale": warning is not None, "warning": warning})
        return
    typer.echo(warning.message if warning else "no wash sale: this trade neither realizes a washed loss "
               "nor replaces a recent loss")


def register(app: typer.Typer) -> None:
    tax = typer.Typer(name="tax", help="Tax lots, wash sales, Section 1256, Form 8949/6781/Schedule D.",
                      no_args_is_help=True)
    tax.command("import")(guarded()(import_))
    tax.command("report")(guarded()(report))
    tax.command("export")(guarded()(export))
    tax.command("explain")(guarded()(explain))
    tax.command("whatif")(guarded()(whatif))
    app.add_typer(tax, name="tax")
