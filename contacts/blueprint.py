"""The contacts blueprint, shared by the contact pages (views) and the import pages (import_views)."""

from flask import Blueprint
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import Region
from accounts.scoping import can_read, can_write
from extensions import db

bp = Blueprint("contacts", __name__)


@bp.before_request
@login_required
def signed_in():
    """Every contact page needs an account."""


def readable_regions() -> list[Region]:
    regions = db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()
    return [r for r in regions if can_read(current_user, r.id)]


def region_choices(blank_label) -> list[SelectChoice]:
    national = [SelectChoice("", blank_label)] if can_write(current_user, None) else []
    return national + [SelectChoice(r.code, r.name) for r in readable_regions() if can_write(current_user, r.id)]
