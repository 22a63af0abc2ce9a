"""JSON API of press relations: conferences and their `rsvps`, releases under embargo, relay kits
and contact pressure (thin adapters over press.conferences, newsroom, relay and pressure)."""

from accounts.api import api_blueprint, current_api_user
from campaign.models import Campaign, Milestone
from campaign.services import current_campaign, region_by_code, to_utc, zone
from dbtypes import utcnow
from errors import NotFound, ValidationFailed
from extensions import db
from i18n import _
from mailings.services import get_mailing
from pagination import PageArgs, page_schema
from press import conferences as press_conferences
from press import followup, newsroom, pressure, relay
from press.schemas import (
    AnswerInSchema,
    CampaignQuery,
    CheckInSchema,
    ConferencePatchSchema,
    ConferenceSchema,
    ExcludedSchema,
    ExcludeSchema,
    PressureSchema,
    RelayKitSchema,
    ReleasePatchSchema,
    ReleaseSchema,
    RsvpSchema,
    SendSchema,
    SentSchema,
    WalkedInSchema,
    WalkInSchema,
)
from public_links import public_url

bp = api_blueprint("press_api", "Press conferences and RSVPs, releases under embargo, relay kits, contact pressure")
blueprints = [bp]


def the_campaign(campaign_id: int | None) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else current_campaign()
    if campaign is None:
        raise NotFound(_("Cette campagne n'existe pas."))
    return campaign


def conference_out(milestone: Milestone) -> dict:
    record = press_conferences.details(milestone)
    tz = zone(milestone.campaign.timezone)
    return {
        "milestone_id": milestone.id,
        "kind": milestone.kind,
        "title": milestone.title,
        "region": milestone.region.code if milestone.region else None,
        "starts_at": milestone.starts_at.astimezone(tz),
        "venue": milestone.venue,
        "city": milestone.city,
        "address": record.address,
        "speakers": record.speaker_list,
        "notes": record.notes,
        **press_conferences.summary(milestone),
    }


@bp.route("/milestones/<int:milestone_id>/rsvps")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(RsvpSchema))
def rsvps(args, milestone_id):
    """Every invited contact of a press conference with its answer (null until it answers)."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    items = press_conferences.rsvps(milestone)
    start = (args["page"] - 1) * args["per_page"]
    return {
        "items": items[start : start + args["per_page"]],
        "page": args["page"],
        "per_page": args["per_page"],
        "total": len(items),
    }


def rsvp_out(rsvp) -> dict:
    return {
        "contact_id": rsvp.contact_id,
        "answer": rsvp.answer,
        "answered_at": rsvp.answered_at,
        "checked_in_at": rsvp.checked_in_at,
        "channel": rsvp.channel,
        "recorded_by": rsvp.recorded_by_label or None,
        "recorded_at": rsvp.recorded_at,
        "walk_in": rsvp.walk_in,
    }


@bp.route("/milestones/<int:milestone_id>/rsvps", methods=["POST"])
@bp.arguments(AnswerInSchema)
@bp.response(201, RsvpSchema)
def record_answer(data, milestone_id):
    """Record an answer given by phone, email or on the spot (`yes`, `no`, `maybe`), with who recorded it."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    rsvp = followup.record_answer(current_api_user(), milestone, data["contact_id"], data["answer"], data["channel"])
    db.session.commit()
    return rsvp_out(rsvp)


@bp.route("/milestones/<int:milestone_id>/walk-ins", methods=["POST"])
@bp.arguments(WalkInSchema)
@bp.response(201, WalkedInSchema)
def walk_in(data, milestone_id):
    """A journalist who came without an invitation: a new media contact (source "sur place", legitimate
    interest), marked present; an address already known marks that contact present."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    contact = followup.add_walk_in(current_api_user(), milestone, data)
    db.session.commit()
    rsvp = followup.rsvp_of(milestone, contact.id)
    return {**rsvp_out(rsvp), "source": contact.source, "legal_basis": contact.legal_basis}


@bp.route("/press-conferences")
@bp.arguments(CampaignQuery, location="query")
@bp.response(200, ConferenceSchema(many=True))
def conferences(args):
    """The national view: every conference of the campaign side by side (invited, yes, no, no answer, came)."""
    campaign = the_campaign(args.get("campaign_id"))
    return [conference_out(m) for m in press_conferences.conferences(current_api_user(), campaign)]


@bp.route("/milestones/<int:milestone_id>/press-conference")
@bp.response(200, ConferenceSchema)
def conference(milestone_id):
    """A conference's venue, speakers and answers."""
    return conference_out(press_conferences.get_conference(current_api_user(), milestone_id))


@bp.route("/milestones/<int:milestone_id>/press-conference", methods=["PATCH"])
@bp.arguments(ConferencePatchSchema(partial=True))
@bp.response(200, ConferenceSchema)
def update_conference(data, milestone_id):
    """Change venue, city, address, speakers or notes."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    if "speakers" in data:
        data["speakers"] = "\n".join(s.strip() for s in data["speakers"] if s.strip())
    press_conferences.save_details(current_api_user(), milestone, data)
    db.session.commit()
    return conference_out(milestone)


def sent_out(mailing) -> dict:
    return {"mailing_id": mailing.id, "status": mailing.status, "recipients": len(mailing.audience["contact_ids"])}


@bp.route("/milestones/<int:milestone_id>/invitations", methods=["POST"])
@bp.arguments(SendSchema)
@bp.response(201, SentSchema)
def invite(data, milestone_id):
    """Invite the region's media (or `contact_ids`): a mailing with signed RSVP links, sent now or submitted."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    mailing = press_conferences.invite(current_api_user(), milestone, data)
    db.session.commit()
    return sent_out(mailing)


@bp.route("/milestones/<int:milestone_id>/reminders", methods=["POST"])
@bp.arguments(SendSchema)
@bp.response(201, SentSchema)
def remind(data, milestone_id):
    """A reminder to the invited contacts who have not answered, and to them only."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    mailing = press_conferences.remind(current_api_user(), milestone, data)
    db.session.commit()
    return sent_out(mailing)


@bp.route("/milestones/<int:milestone_id>/rsvps/<int:contact_id>/check-in", methods=["POST"])
@bp.arguments(CheckInSchema)
@bp.response(200, RsvpSchema)
def check_in(data, milestone_id, contact_id):
    """Mark an invited contact as come (`present: false` undoes it)."""
    milestone = press_conferences.get_conference(current_api_user(), milestone_id)
    rsvp = press_conferences.check_in(current_api_user(), milestone, contact_id, data["present"])
    db.session.commit()
    return rsvp_out(rsvp)


# ---- releases ---------------------------------------------------------------------------------


def release_out(release) -> dict:
    tz = zone(release.campaign.timezone)
    embargo = newsroom.effective_embargo(release)
    return {
        "id": release.id,
        "campaign_id": release.campaign_id,
        "region": release.region.code if release.region else None,
        **{f: getattr(release, f) for f in ("title", "city", "lead", "body", "press_contact", "ready")},
        "embargo_until": release.embargo_until.astimezone(tz) if release.embargo_until else None,
        "follows_national_id": release.follows_national_id,
        "effective_embargo": embargo.astimezone(tz) if embargo else None,
        "public": newsroom.is_public(release, utcnow()),
        "public_url": public_url("newsroom.show", release_id=release.id),
        "mailing_id": release.mailing_id,
    }


def release_in(data: dict, campaign: Campaign) -> dict:
    if data.get("embargo_until") is not None:
        data["embargo_until"] = to_utc(data["embargo_until"], campaign.timezone)
    if "region" in data:
        code = data.pop("region")
        region = region_by_code(code) if code else None
        if code and region is None:
            raise ValidationFailed(_("Région inconnue."), {"region": _("inconnue")})
        data["region_id"] = region.id if region else None
    return data


@bp.route("/press-releases")
@bp.arguments(CampaignQuery, location="query")
@bp.response(200, ReleaseSchema(many=True))
def releases(args):
    """The campaign's releases this token may read, embargoed ones included."""
    campaign = the_campaign(args.get("campaign_id"))
    return [release_out(r) for r in newsroom.releases(current_api_user(), campaign)]


@bp.route("/press-releases", methods=["POST"])
@bp.arguments(ReleaseSchema)
@bp.response(201, ReleaseSchema)
def create_release(data):
    """A release; `embargo_until` without offset is read in the campaign's zone."""
    campaign = the_campaign(None)
    release, _held = newsroom.save_release(current_api_user(), None, release_in(data, campaign), campaign)
    db.session.commit()
    return release_out(release)


@bp.route("/press-releases/<int:release_id>")
@bp.response(200, ReleaseSchema)
def get_release(release_id):
    """One release, with the embargo in force and whether it is public."""
    return release_out(newsroom.get_release(current_api_user(), release_id))


@bp.route("/press-releases/<int:release_id>", methods=["PATCH"])
@bp.arguments(ReleasePatchSchema(partial=True))
@bp.response(200, ReleaseSchema)
def update_release(data, release_id):
    """Change a release; moving a national embargo moves the check of the regional ones tied to it."""
    release = newsroom.get_release(current_api_user(), release_id)
    data.pop("region", None)
    newsroom.save_release(current_api_user(), release, release_in(data, release.campaign))
    db.session.commit()
    return release_out(release)


# ---- relay kits -------------------------------------------------------------------------------


def kit_out(kit) -> dict:
    return {
        "id": kit.id,
        "campaign_id": kit.campaign_id,
        "region": kit.region.code if kit.region else None,
        "title": kit.title,
        "texts": kit.texts,
        "links": [u for u in kit.links.splitlines() if u],
        "mailing_id": kit.mailing_id,
        "reports": [
            {"contact_id": r.contact_id, "channel": r.channel, "relayed_on": r.relayed_on, "url": r.url}
            for r in relay.reports(kit)
        ],
    }


@bp.route("/relay-kits")
@bp.arguments(CampaignQuery, location="query")
@bp.response(200, RelayKitSchema(many=True))
def kits(args):
    """The campaign's relay kits, with who relayed what."""
    campaign = the_campaign(args.get("campaign_id"))
    return [kit_out(k) for k in relay.kits(current_api_user(), campaign)]


@bp.route("/relay-kits", methods=["POST"])
@bp.arguments(RelayKitSchema)
@bp.response(201, RelayKitSchema)
def create_kit(data):
    """A relay kit for partners and networks."""
    data["links"] = "\n".join(data.get("links") or [])
    kit = relay.save_kit(current_api_user(), None, data, the_campaign(None))
    db.session.commit()
    return kit_out(kit)


@bp.route("/relay-kits/<int:kit_id>")
@bp.response(200, RelayKitSchema)
def get_kit(kit_id):
    """One relay kit and its reports."""
    return kit_out(relay.get_kit(current_api_user(), kit_id))


@bp.route("/relay-kits/<int:kit_id>/send", methods=["POST"])
@bp.arguments(SendSchema)
@bp.response(201, SentSchema)
def send_kit(data, kit_id):
    """Send the kit as a mailing to the partners and networks (of its region), each with a signed relay link."""
    mailing = relay.send_kit(current_api_user(), relay.get_kit(current_api_user(), kit_id), data)
    db.session.commit()
    return sent_out(mailing)


# ---- contact pressure -------------------------------------------------------------------------


@bp.route("/mailings/<int:mailing_id>/pressure")
@bp.response(200, PressureSchema)
def mailing_pressure(mailing_id):
    """Contacts of this audience who get another mailing of the campaign within the window."""
    mailing = get_mailing(current_api_user(), mailing_id)
    settings = pressure.settings(mailing.campaign_id)
    return {
        "days": settings.pressure_days,
        "weekly_limit": settings.weekly_limit,
        "overlaps": [
            {
                "contact_id": o.contact_id,
                "name": o.name,
                "email": o.email,
                "other_mailing_id": o.other_id,
                "other_mailing_name": o.other_name,
                "other_at": o.other_at,
            }
            for o in pressure.overlaps(mailing)
        ],
    }


@bp.route("/mailings/<int:mailing_id>/pressure/exclude", methods=["POST"])
@bp.arguments(ExcludeSchema)
@bp.response(200, ExcludedSchema)
def exclude(data, mailing_id):
    """Leave these contacts out of the mailing's audience."""
    mailing = get_mailing(current_api_user(), mailing_id)
    count = pressure.exclude(current_api_user(), mailing, data["contact_ids"])
    db.session.commit()
    return {"excluded": count, "exclude_contact_ids": mailing.audience["exclude_contact_ids"]}
