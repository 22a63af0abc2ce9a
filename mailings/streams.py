"""Which stream a mailing belongs to, for the choices people make on their preference page
(contacts.preferences): a relay kit's is partner news (press says so through `hooks.streams`), a
regional mailing is its region's, anything else is national."""

from accounts.models import Region
from contacts.preferences import NATIONAL, stopped_ids
from extensions import db
from mailings.hooks import hooks
from mailings.models import Mailing


def mailing_stream(mailing: Mailing) -> str:
    """`national`, a region's code or `partners` (a template's preview passes a mailing-like object
    without a region: national)."""
    for find in hooks().streams:
        if stream := find(mailing):
            return stream
    region_id = getattr(mailing, "region_id", None)
    if region_id:
        region = db.session.get(Region, region_id)
        if region is not None:
            return region.code
    return NATIONAL


def chose_to_stop(mailing: Mailing):
    """The contacts who stopped this mailing's stream (a select of ids)."""
    return stopped_ids(mailing_stream(mailing))
