"""`flask demo ...`: the demo campaign."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campaign import demo, event_demo
from campaign.models import Campaign
from contacts import demo as contacts_demo
from extensions import db

demo_cli = AppGroup("demo", help="The demo campaign.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no campaign yet.")
def load(if_empty: bool) -> None:
    """Load the seed's campaign, Mois de l'ESS 2008 (idempotent)."""
    if if_empty and db.session.scalar(select(Campaign.id).limit(1)):
        click.echo("demo: the database already holds a campaign; nothing loaded")
        return
    campaign, people = demo.load()
    event_demo.load(campaign)
    contacts_demo.load()
    from mailings import demo as mailings_demo  # issue 4: the demo email templates

    mailings_demo.load(campaign)
    from mailings import press_demo  # issue 6: a release under embargo, conference details, a relay kit

    press_demo.load(campaign)
    db.session.commit()
    click.echo(f"demo: campaign “{campaign.name}” ready ({len(campaign.milestones)} milestones)")
    base = current_app.config["PUBLIC_BASE_URL"]
    new = [(user, password) for user, password in people.values() if password]
    if new:
        click.echo(f"demo: sign in at {base}/login; these passwords are shown once:")
        for user, password in new:
            click.echo(f"  {user.email:<28} {password:<18} ({user.role})")
