"""Template and mailing pages, and the public unsubscribe page (to be built: issue 4)."""

from flask import Blueprint

bp = Blueprint("mailings", __name__)
public = Blueprint("public_mail", __name__)
