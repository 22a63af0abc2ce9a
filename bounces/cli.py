"""`flask bounces process [FILE ...]` (a mail server's pipe, or saved messages) and `flask bounces fetch`."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from bounces import mailbox, services
from extensions import db

bounces_cli = AppGroup("bounces", help="Bounces and complaints reported after delivery.")
EX_TEMPFAIL = 75  # sysexits.h: the mail server keeps the message and tries again later


@bounces_cli.command("process")
@click.argument("files", nargs=-1, type=click.File("rb"))
def process_command(files) -> None:
    """Process one message per FILE, or the one on standard input (a mail server's pipe transport).

    One line per report saying what was done; exit 0 also for a message that is no bounce, 75
    (try again later) when the database cannot be reached, so that the mail server keeps the message."""
    sources = files or (sys.stdin.buffer,)
    failed = False
    for source in sources:
        name = getattr(source, "name", "<stdin>")
        name = "stdin" if name in ("<stdin>", "-") or not isinstance(name, str) else name
        try:
            outcome = services.process_message(source.read(), "pipe" if name == "stdin" else "file")
            db.session.commit()
        except OperationalError as error:
            db.session.rollback()
            click.echo(f"{name}: database unavailable, try again later: {str(error).splitlines()[0]}")
            sys.exit(EX_TEMPFAIL)
        except Exception as error:  # a message no rule foresaw: said, and the next one goes on
            db.session.rollback()
            click.echo(f"{name}: could not be processed: {error}")
            failed = True
            continue
        prefix = f"{name}: " if len(sources) > 1 else ""
        for line in outcome.lines:
            click.echo(prefix + line)
    if failed:
        sys.exit(EX_TEMPFAIL)


@bounces_cli.command("fetch")
def fetch_command() -> None:
    """Read RELAIS_BOUNCE_MAILBOX once: process, then remove (or move) what was processed."""
    try:
        result = mailbox.fetch()
    except mailbox.MailboxError as error:
        click.echo(f"mailbox: {error}")
        sys.exit(1)
    for line in result.lines:
        click.echo(line)
    click.echo(
        f"mailbox: {result.processed} processed, {result.kept} kept for a person, {result.unreadable} unreadable"
    )
