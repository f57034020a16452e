"""``smart0dte order | positions | orders | pnl | risk | kill | mode | audit``: trading from the shell.

Contract (issue 5 §9):

* ``order stage '<json>'`` → ``{"ticket_id","expires_at","preview":{"legs","net_price","max_profit",
  "max_loss","breakevens","margin","fees"},"risk":{"passed","checks":[{"name","passed","reason"}]}}``
* ``order confirm TICKET_ID [--yes]`` → ``{"order_id","status","fills":[…]}``. ``--yes`` is for
  paper only; a live ticket asks the person at the terminal to type the ticket id.
* ``positions|orders [--account paper|live] --json``; ``risk status --json`` →
  ``{"state","limits","usage"}``; ``kill --halt|--reducing|--resume``; ``mode [paper|live]``;
  ``audit verify`` (exit 0 intact, 1 naming the first broken record); ``audit tail --json``.

The person behind the CLI is the operating-system user (a PERSON principal). Bad requests exit 2
with one line (``{"error":{…}}`` with ``--json``) and change nothing.
"""

from __future__ import annotations

import getpass
import sys

import typer

from agent.cli.common import JSON_OPTION, fail, guarded, print_json, run, to_jsonable, with_engine

ACCOUNT_OPTION = typer.Option("paper", "--account", help="Ledger: paper or live")

order_app = typer.Typer(help="Stage, confirm and cancel orders.", no_args_is_help=True)
risk_app = typer.Typer(help="Risk guard status.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def person():
    from engine.core.principal import Principal

    return Principal.person(getpass.getuser(), "cli")


def _table(rows: list[dict], columns: list[str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(to_jsonable(r.get(c))) for c in columns))
    Console().print(table)


# --- order --------------------------------------------------------------------------------------
@order_app.command("stage")
@guarded()
def stage(request: str = typer.Argument(..., help="Order request JSON"), as_json: bool = JSON_OPTION) -> None:
    """Price an order, run the risk checks and return a ticket to confirm within 120 s."""
    import json

    try:
        data = json.loads(request)
    except json.JSONDecodeError as err:
        fail(f"order request is not valid JSON: {err.msg} at position {err.pos}", as_json, type_="invalid_input")
    if not isinstance(data, dict):
        fail("order request must be a JSON object", as_json, type_="invalid_input")
    ticket = run(with_engine(lambda e: e.stage(data, person())))
    print_json(ticket.to_dict())


@order_app.command("confirm")
@guarded()
def confirm(ticket_id: str = typer.Argument(..., help="Ticket id from order stage"),
            yes: bool = typer.Option(False, "--yes", help="Confirm a PAPER ticket without a prompt"),
            as_json: bool = JSON_OPTION) -> None:
    """Send a staged order. Paper: --yes or answer y. Live: type the ticket id."""

    async def go(engine):
        account = engine.execution.ticket_account(ticket_id)
        if account == "live":
            await engine.execution.require_live(person())  # armed, broker, live mode, role: before any prompt
            if yes:
                fail("--yes is not accepted for live orders: type the ticket id to confirm", as_json,
                     type_="permission_denied")
            sys.stderr.write(f"LIVE order {ticket_id}: type the ticket id to send it: ")
            sys.stderr.flush()
            typed = sys.stdin.readline().strip()
            if typed != ticket_id:
                fail("typed text does not match the ticket id: nothing was sent", as_json, type_="not_confirmed")
        elif not yes:
            sys.stderr.write(f"paper order {ticket_id}: send it? [y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                fail("not confirmed: nothing was sent", as_json, type_="not_confirmed")
        return await engine.confirm(ticket_id, person())

    result = run(with_engine(go))
    print_json({"order_id": result["order_id"], "status": result["status"], "fills": result["fills"],
                "account": result["account"], "filled_quantity": result["filled_quantity"],
                "avg_fill_price": result["avg_fill_price"], "reason": result["reason"]})


@order_app.command("cancel")
@guarded()
def cancel(order_id: str = typer.Argument(..., help="Order id (or a staged ticket id)"),
           account: str = ACCOUNT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Cancel a working order, or withdraw a staged ticket."""

    async def go(engine):
        ex = engine.execution
        try:
            order = await ex.cancel_order(order_id, person(), account)
        except Exception as err:
            if getattr(err, "field", None) != "order_id":
                raise
            return await engine.cancel_ticket(order_id, person())
        return {"order_id": order["order_id"], "status": order["status"], "reason": order["reason"]}

    print_json(run(with_engine(go)))


# --- positions / orders / pnl -----------------------------------------------------------------------
@guarded()
def positions(account: str = ACCOUNT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Open positions with marks and P&L."""
    rows = run(with_engine(lambda e: e.positions(account)))
    if as_json:
        print_json(rows)
        return
    _table(rows, ["symbol", "quantity", "avg_price", "mark", "unrealized_pnl", "realized_pnl"], f"{account} positions")


@guarded()
def orders(account: str = ACCOUNT_OPTION,
           status: str = typer.Option(None, "--status", help="open, or one status (filled, canceled, …)"),
           as_json: bool = JSON_OPTION) -> None:
    """Orders, newest first."""
    rows = run(with_engine(lambda e: e.orders(account, status)))
    if as_json:
        print_json(rows)
        return
    _table(rows, ["order_id", "underlying", "quantity", "order_type", "limit_price", "status", "filled_quantity",
                  "avg_fill_price", "created_at"], f"{account} orders")


@guarded()
def pnl(account: str = ACCOUNT_OPTION,
        period: str = typer.Option("today", "--period", help="today, week, month, year or all"),
        as_json: bool = JSON_OPTION) -> None:
    """Realized, unrealized and fees over a period."""
    data = run(with_engine(lambda e: e.pnl(account, period)))
    if as_json:
        print_json(data)
        return
    _table([data], ["account", "period", "realized", "fees", "unrealized", "total", "cash"], "P&L")


# --- risk / kill / mode ---------------------------------------------------------------------------
@risk_app.command("status")
@guarded()
def risk_status(account: str = ACCOUNT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Kill-switch state, limits and how much of them is used."""
    data = run(with_engine(lambda e: e.risk_status(account)))
    if as_json:
        print_json(data)
        return
    usage = data["usage"]
    _table([{"state": data["state"], **usage}], ["state", "open_contracts", "open_orders", "orders_last_minute",
                                                  "buying_power", "daily_pnl"], f"{account} risk")


@guarded()
def kill(halt: bool = typer.Option(False, "--halt", help="Stop everything; cancel working orders"),
         reducing: bool = typer.Option(False, "--reducing", help="Allow only risk-reducing orders"),
         resume: bool = typer.Option(False, "--resume", help="Back to normal trading"),
         account: str = typer.Option(None, "--account", help="One ledger (default: every ledger)"),
         reason: str = typer.Option("", "--reason", help="Why (goes to the audit log)"),
         as_json: bool = JSON_OPTION) -> None:
    """The kill switch: --halt, --reducing or --resume."""
    chosen = [name for name, on in (("halted", halt), ("reducing", reducing), ("active", resume)) if on]
    if len(chosen) != 1:
        fail("give exactly one of --halt, --reducing or --resume", as_json, type_="invalid_input")
    data = run(with_engine(lambda e: e.execution.set_kill_switch(chosen[0], person(), reason or "CLI", account)))
    print_json(data) if as_json else sys.stdout.write(f"kill switch: {data['state'].upper()}\n")


@guarded()
def mode(target: str = typer.Argument(None, help="paper or live; omit to show the mode"),
         as_json: bool = JSON_OPTION) -> None:
    """Show or switch the trading mode (live asks you to type LIVE)."""

    async def go(engine):
        if target is None:
            return {"mode": await engine.trading_mode()}
        typed = ""
        if target.lower() == "live":
            sys.stderr.write("Switching to LIVE trading with real money. Type LIVE to confirm: ")
            sys.stderr.flush()
            typed = sys.stdin.readline().strip()
        return await engine.switch_mode(target, person(), typed)

    data = run(with_engine(go))
    print_json(data) if as_json else sys.stdout.write(f"mode: {data['mode']}\n")


# --- audit ------------------------------------------------------------------------------------------
@audit_app.command("verify")
@guarded()
def audit_verify(as_json: bool = JSON_OPTION) -> None:
    """Check the hash chain: exit 0 when intact, 1 naming the first broken record."""
    from agent.cli.common import get_engine

    engine = get_engine()
    try:
        ok, broken, message = engine.audit_verify()
    finally:
        engine.db.dispose()
    if as_json:
        print_json({"ok": ok, "first_broken_id": broken, "message": message})
    elif ok:
        sys.stdout.write(f"audit log intact: {message}\n")
    else:
        sys.stderr.write(f"audit log BROKEN at record {broken}: {message}\n")
    raise typer.Exit(0 if ok else 1)


@audit_app.command("tail")
@guarded()
def audit_tail(limit: int = typer.Option(20, "--limit", "-n", min=1, max=10_000),
               as_json: bool = JSON_OPTION) -> None:
    """The newest audit records, oldest first."""
    from agent.cli.common import get_engine

    engine = get_engine()
    try:
        rows = engine.audit_tail(limit)
    finally:
        engine.db.dispose()
    if as_json:
        print_json(rows)
        return
    for r in rows:
        sys.stdout.write(f"{r['id']:>6} {to_jsonable(r['ts'])} {r['kind']:<22} {r['actor']}\n")


def register(app: typer.Typer) -> None:
    app.add_typer(order_app, name="order")
    app.command("positions")(positions)
    app.command("orders")(orders)
    app.command("pnl")(pnl)
    app.add_typer(risk_app, name="risk")
    app.command("kill")(kill)
    app.command("mode")(mode)
    app.add_typer(audit_app, name="audit")
