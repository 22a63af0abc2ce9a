"""Commands that span every domain: `flask demo load` and `flask backup create|restore`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

import demo
from campaign.models import Campaign
from contacts.services import replay_erasures
from contacts.suppression import erased_hashes
from demo import history, live
from extensions import db
from operations import backup
from operations.scale import generate

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
    try:
        erased = erased_hashes()  # erasures made since the backup are made again once it is back
    except SQLAlchemyError:  # nothing readable to keep (an empty or broken database)
        db.session.rollback()
        erased = []
    db.session.remove()
    db.engine.dispose()
    try:
        backup.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except backup.BackupFailed as error:
        raise click.ClickException(error.message) from error
    again = replay_erasures(erased)
    db.session.commit()
    click.echo(f"restored from {source}; {len(erased)} erasures kept, {again} contacts erased again")


demo_cli = AppGroup("demo", help="The demo campaign.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no campaign yet.")
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    help="Also generate N contacts with proportionate events, mailings and deliveries.",
)
@click.option("--live", "live_edition", is_flag=True, help="Also an edition in preparation, dated from today.")
def load(if_empty: bool, scale: int | None, live_edition: bool) -> None:
    """Load the seed's campaign, Mois de l'ESS 2008 (idempotent); --scale N makes it large; --live adds
    an edition in preparation, made from 2008 and dated from today."""
    if if_empty and db.session.scalar(select(Campaign.id).limit(1)):
        click.echo("demo: the database already holds a campaign; nothing loaded")
        return
    campaign, people = demo.load()
    history.load(campaign)
    db.session.commit()
    click.echo(f"demo: campaign “{campaign.name}” ready ({len(campaign.milestones)} milestones)")
    if live_edition:
        edition = live.load(campaign)
        db.session.commit()
        click.echo(f"demo: edition “{edition.name}” in preparation ({edition.starts_on} – {edition.ends_on})")
    if scale:
        report = generate(campaign, scale)
        db.session.commit()
        click.echo(
            f"demo: added {report.contacts} contacts, {report.events} events, {report.mailings} mailings "
            f"with {report.deliveries} deliveries"
        )
    base = current_app.config["PUBLIC_BASE_URL"]
    new = [(user, password) for user, password in people.values() if password]
    if new:
        click.echo(f"demo: sign in at {base}/login; these passwords are shown once:")
        for user, password in new:
            click.echo(f"  {user.email:<28} {password:<18} ({user.role})")
