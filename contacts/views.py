"""Contact pages (to be built: issue 3)."""

from flask import Blueprint

bp = Blueprint("contacts", __name__)
