"""``smart0dte db upgrade|status`` and ``smart0dte settings`` (masked)."""

from __future__ import annotations

import typer

from agent.cli.common import JSON_OPTION, get_engine, guarded, print_json

db_app = typer.Typer(help="Database migrations", no_args_is_help=True)


@db_app.command("upgrade")
@guarded()
def upgrade(as_json: bool = JSON_OPTION) -> None:
    """Create or migrate the common database and both ledgers to the newest schema."""
    from engine.store.migrate import upgrade_all

    engine = get_engine()
    try:
        revisions = upgrade_all(engine.db)
    finally:
        engine.db.dispose()
    if as_json:
        print_json({"ok": True, "revisions": revisions})
    else:
        for target, rev in revisions.items():
            typer.echo(f"{target}: {rev or 'created from models'}")


@db_app.command("revision")
@guarded()
def revision(message: str = typer.Option(..., "--message", "-m", help="What the change is")) -> None:
    """Write a migration for model changes (developers; commit the files it prints)."""
    from engine.store.migrate import autogenerate

    written = autogenerate(message)
    for path in written:
        typer.echo(str(path))
    if not written:
        typer.echo("no model changes")


def show_settings(as_json: bool = JSON_OPTION) -> None:
    """The settings in force, secrets masked."""
    from engine.settings import get_settings

    data = get_settings().model_dump(mode="json")  # SecretStr dumps as '**********'
    if as_json:
        print_json(data)
    else:
        for key, value in data.items():
            typer.echo(f"{key} = {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("settings")(guarded()(show_settings))
