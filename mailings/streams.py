"""Which stream a mailing belongs to, for the choices people make on their preference page
(contacts.preferences): a relay kit's is partner news (press says so through `hooks.streams`), a
regional mailing is its region's, anything else is national."""

from accounts.models import Region
from contacts.preferences import NATIONAL, stopped_ids
from extensions import db
from mailings.hooks import hooks
from mailings.models import Mailing


def mailing_stream(mailing: Mailing) -> str:
    for find in hooks().streams:
        if stream := find(mailing):
            return stream
    if mailing.region_id:
        region = db.session.get(Region, mailing.region_id)
        if region is not None:
            return region.code
    return NATIONAL


def chose_to_stop(mailing: Mailing):
    """The contacts who stopped this mailing's stream (a select of ids)."""
    return stopped_ids(mailing_stream(mailing))
