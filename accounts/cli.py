"""`flask users ...`: accounts from the command line."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from accounts import services
from accounts.models import ROLES, Region, User
from errors import DomainError
from extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--region", "region_code", help="Region code, for a regional coordinator.")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(email: str, role: str, region_code: str | None, name: str, password_stdin: bool) -> None:
    """Create an account."""

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    region_id = None
    if region_code:
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise click.BadParameter(f"no region with code {region_code}", param_hint="--region")
        region_id = region.id
    try:
        user = services.create_user(email, role, password, region_id, name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} {error.fields}") from error
    db.session.commit()
    click.echo(f"created {user.email} ({user.role})")


@users_cli.command("token")
@click.argument("email")
def token(email: str) -> None:
    """Print a new API token for EMAIL on one line."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    raw = services.issue_token(user)
    db.session.commit()
    click.echo(raw)
