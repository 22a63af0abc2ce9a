"""`flask contacts ...` (to be built: issue 3)."""

from flask.cli import AppGroup

contacts_cli = AppGroup("contacts", help="Contacts: import and export.")
