"""`flask scheduler run` and `flask mailings worker` (to be built: issue 4)."""

from flask.cli import AppGroup

scheduler_cli = AppGroup("scheduler", help="The scheduler: due mailings, embargoes, reminders.")
mailings_cli = AppGroup("mailings", help="Delivery workers.")
