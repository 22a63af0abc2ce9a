"""`flask backup create|restore`: the database, whichever engine it is on."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from extensions import db
from operations import backup

backup_cli = AppGroup("backup", help="Back up and restore the database.")


@backup_cli.command("create")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def create(target: Path) -> None:
    """Write a consistent backup of the whole database to TARGET."""
    try:
        backup.create(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except backup.BackupFailed as error:
        raise click.ClickException(error.message) from error
    click.echo(f"backup written to {target} ({target.stat().st_size} bytes)")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(source: Path, yes: bool) -> None:
    """Replace the database's content with the backup SOURCE (stop the web app, scheduler and workers first)."""
    if not yes:
        click.confirm("This replaces everything in the database. Go on?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        backup.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except backup.BackupFailed as error:
        raise click.ClickException(error.message) from error
    click.echo(f"restored from {source}")
