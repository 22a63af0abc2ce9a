"""Press kits as PDF: the campaign's (or a region's) for the newsroom and invitations, and one per
release, public once the release is, and for the signed-in team while its embargo holds."""

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from campaign.models import Campaign
from dbtypes import utcnow
from errors import NotFound
from press import newsroom
from press.models import PressRelease
from press.newsroom_views import newsroom_scope
from printing.presskit import kit_version, print_press_kit
from printing.views import pdf_answer, public

team = Blueprint("printing_team", __name__)


@team.before_request
@login_required
def signed_in():
    """The team's copy of a release's kit, embargo or not."""


def kit_answer(campaign: Campaign, region, release: PressRelease | None, name: str) -> Response:
    now = utcnow()
    version = kit_version(campaign, region, release, now)
    private = release is not None and not newsroom.is_public(release, now)  # under embargo: the team's
    return pdf_answer(version, lambda: print_press_kit(campaign, region, release, now), name, private)


@public.route("/newsroom/press-kit.pdf")
def press_kit():
    """The campaign's press kit (`?campaign=`, `?region=`): what invitations link to."""
    campaign, region = newsroom_scope()
    return kit_answer(campaign, region, None, f"dossier-de-presse-{region.code if region else 'france'}.pdf")


@public.route("/newsroom/<int:release_id>/press-kit.pdf")
def release_press_kit(release_id: int):
    try:
        item = newsroom.public_release(release_id, utcnow())
    except NotFound:
        abort(404)
    return kit_answer(item.campaign, item.region, item, f"dossier-de-presse-{item.id}.pdf")


@team.route("/press/releases/<int:release_id>/press-kit.pdf")
def team_press_kit(release_id: int):
    item = newsroom.get_release(current_user, release_id)
    return kit_answer(item.campaign, item.region, item, f"dossier-de-presse-{item.id}.pdf")
