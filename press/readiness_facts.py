"""What press relations tell a region's readiness checklist (registered into `campaign.readiness`
by press/extension.py): the invitations and the reminder sent, the press kit, the release sent,
the journalists who came, each with what shows it."""

from sqlalchemy import func, select

from campaign.models import Campaign, Milestone
from extensions import db
from formatting import long_date
from i18n import _
from mailings.models import Mailing
from press.models import PressKitFile, PressRelease, Rsvp

GONE = ("sending", "sent")  # a mailing that left (or is leaving)
LEFT_AT = func.coalesce(Mailing.started_at, Mailing.scheduled_at, Mailing.updated_at)


def mailings_sent(milestone_ids: list[int]) -> list[tuple[int | None, str, object]]:
    """(milestone id, name, when it started) of the mailings tied to these milestones that left."""
    if not milestone_ids:
        return []
    return db.session.execute(
        select(Mailing.milestone_id, Mailing.name, LEFT_AT)
        .where(
            Mailing.milestone_id.in_(milestone_ids),
            Mailing.status.in_(GONE),
            Mailing.id.not_in(select(PressRelease.mailing_id).where(PressRelease.mailing_id.is_not(None))),
        )
        .order_by(LEFT_AT)
    ).all()


def facts(campaign: Campaign, found_by_region: dict[int, dict[str, Milestone]]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {region_id: {} for region_id in found_by_region}
    conference_of = {f["conference"].id: r for r, f in found_by_region.items() if "conference" in f}
    invitation_of = {f["invitations"].id: r for r, f in found_by_region.items() if "invitations" in f}
    tz = campaign.timezone
    for milestone_id, name, started in mailings_sent(list(conference_of) + list(invitation_of)):
        region_id = conference_of.get(milestone_id) or invitation_of.get(milestone_id)
        when = long_date(started, tz) if started else ""
        if name.startswith("Relance"):
            out[region_id].setdefault("follow_up_calls", _("Relance envoyée le %(day)s", day=when))
        else:
            out[region_id].setdefault("invitations_sent", _("Invitations envoyées le %(day)s", day=when))
    if conference_of:
        files = db.session.execute(
            select(PressKitFile.milestone_id, func.count())
            .where(PressKitFile.milestone_id.in_(list(conference_of)))
            .group_by(PressKitFile.milestone_id)
        ).all()
        for milestone_id, count in files:
            out[conference_of[milestone_id]]["press_kit_ready"] = _("Fichiers au dossier de presse : %(n)s", n=count)
        came = db.session.execute(
            select(Rsvp.milestone_id, func.count())
            .where(Rsvp.milestone_id.in_(list(conference_of)), Rsvp.checked_in_at.is_not(None))
            .group_by(Rsvp.milestone_id)
        ).all()
        for milestone_id, count in came:
            out[conference_of[milestone_id]]["conference_held"] = _("Journalistes venus : %(n)s", n=count)
        phoned = db.session.execute(
            select(Rsvp.milestone_id, func.count())
            .where(Rsvp.milestone_id.in_(list(conference_of)), Rsvp.channel == "phone")
            .group_by(Rsvp.milestone_id)
        ).all()
        for milestone_id, count in phoned:
            out[conference_of[milestone_id]].setdefault(
                "follow_up_calls", _("Réponses notées par téléphone : %(n)s", n=count)
            )
    releases = db.session.execute(
        select(PressRelease.region_id, LEFT_AT)
        .join(Mailing, Mailing.id == PressRelease.mailing_id)
        .where(
            PressRelease.campaign_id == campaign.id,
            PressRelease.region_id.in_(list(found_by_region)),
            Mailing.status.in_(GONE),
        )
    ).all()
    for region_id, started in releases:
        day = long_date(started, tz) if started else ""
        out[region_id].setdefault("release_sent", _("Communiqué envoyé le %(day)s", day=day))
    return out
