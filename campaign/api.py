"""JSON API: regions, campaigns (with the playbook) and milestones."""

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.api import SELF_SERVICE_ENDPOINTS, api_blueprint, current_api_user
from accounts.models import Region
from campaign import brand, editions, playbook, services
from campaign.brand import brand_of, save_brand
from campaign.calendar import feed_url
from campaign.models import Campaign, Milestone
from campaign.schemas import (
    CampaignPatchSchema,
    CampaignSchema,
    ChosenCampaignSchema,
    MilestonePatchSchema,
    MilestoneQuery,
    MilestoneSchema,
    NewEditionOutSchema,
    NewEditionSchema,
    PlaybookSchema,
    RegionSchema,
)
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from pagination import PageArgs, page_schema, paginate

bp = api_blueprint("campaigns", "Regions, campaigns and their timeline")
SELF_SERVICE_ENDPOINTS.add("campaigns.choose_campaign")  # a viewer too chooses the edition it reads


def campaign_out(campaign: Campaign) -> dict:
    data = {c: getattr(campaign, c) for c in ("id", *services.CAMPAIGN_FIELDS)}
    data["calendar_url"] = feed_url(campaign, reader=current_api_user())
    data["brand"] = brand_of(campaign).out()
    return data


def milestones_out(campaign: Campaign, milestones: list[Milestone]) -> list[dict]:
    """Milestones with their computed `late` and `warnings`, times in the campaign's zone."""
    everything = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == campaign.id).options(selectinload(Milestone.depends_on))
    ).all()
    assessments = services.assess(campaign, everything, utcnow())
    tz = services.zone(campaign.timezone)
    out = []
    for m in milestones:
        a = assessments[m.id]
        out.append(
            {
                "id": m.id,
                "campaign_id": m.campaign_id,
                "kind": m.kind,
                "title": m.title,
                "description": m.description,
                "starts_at": m.starts_at.astimezone(tz),
                "ends_at": m.ends_at.astimezone(tz) if m.ends_at else None,
                "region": m.region.code if m.region else None,
                "owner_id": m.owner_id,
                "status": m.status,
                "depends_on": [d.id for d in m.depends_on],
                "venue": m.venue,
                "city": m.city,
                "late": a.late,
                "warnings": [{"code": w.code, "message": w.message} for w in a.warnings],
            }
        )
    return out


@bp.route("/regions")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(RegionSchema))
def regions(args):
    """The regions, by code."""
    return paginate(select(Region).where(Region.active).order_by(Region.code), args)


@bp.route("/campaigns")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(CampaignSchema))
def campaigns(args):
    """Every campaign, the latest first."""
    query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    return paginate(query, args, lambda rows: [campaign_out(c) for c in rows])


@bp.route("/campaigns", methods=["POST"])
@bp.arguments(CampaignSchema)
@bp.response(201, CampaignSchema)
def create_campaign(data):
    """A new, empty campaign (national leads and admins)."""
    campaign = services.save_campaign(current_api_user(), None, data)
    db.session.commit()
    return campaign_out(campaign)


@bp.route("/campaigns/from-playbook", methods=["POST"])
@bp.arguments(PlaybookSchema)
@bp.response(201, CampaignSchema)
def from_playbook(data):
    """A campaign with its whole timeline, built from a few dates on the seed's plan."""
    codes = data.get("regions")
    query = select(Region).where(Region.active).order_by(Region.name)
    chosen = db.session.scalars(query).all()
    if codes is not None:
        chosen = [services.region_by_code(code) for code in codes]
    services.zone(data["timezone"])
    campaign = playbook.build(
        current_api_user(),
        data["name"],
        data["ag_date"],
        data["event_month_start"],
        chosen,
        data["timezone"],
    )
    db.session.commit()
    return campaign_out(campaign)


def make_edition(data: dict, campaign_id: int) -> dict:
    source = services.get_campaign(campaign_id)
    campaign, copied = editions.new_edition(
        current_api_user(), source, data["name"], data["event_month_start"], data.get("ag_date")
    )
    db.session.commit()
    return {**campaign_out(campaign), "copied": copied}


@bp.route("/campaigns/<int:campaign_id>/new-edition", methods=["POST"])
@bp.arguments(NewEditionSchema)
@bp.response(201, NewEditionOutSchema)
def new_edition(data, campaign_id):
    """A new edition from this one (national leads and admins): its timeline shifted to the new
    month by the playbook's rules (a Tuesday stays a Tuesday), templates and settings carried over,
    contacts, lists and segments shared; answers, deliveries, sends and coverage stay behind."""
    return make_edition(data, campaign_id)


@bp.route("/campaigns/<int:campaign_id>/copy", methods=["POST"])
@bp.arguments(NewEditionSchema)
@bp.response(201, NewEditionOutSchema)
def copy_campaign(data, campaign_id):
    """The same as `POST /campaigns/{id}/new-edition`."""
    return make_edition(data, campaign_id)


def chosen_out(user) -> dict:
    current = services.current_campaign(user)
    return {"campaign_id": user.campaign_id, "campaign": campaign_out(current) if current else None}


@bp.route("/me/campaign")
@bp.response(200, ChosenCampaignSchema)
def chosen_campaign():
    """The edition this account works on (pages and API defaults follow it): its choice, else the default."""
    return chosen_out(current_api_user())


@bp.route("/me/campaign", methods=["PUT"])
@bp.arguments(ChosenCampaignSchema)
@bp.response(200, ChosenCampaignSchema)
def choose_campaign(data):
    """Choose the edition to work on, remembered across sign-ins (`null`: follow the default edition)."""
    user = current_api_user()
    editions.choose_campaign(user, data["campaign_id"])
    db.session.commit()
    return chosen_out(user)


@bp.route("/campaigns/<int:campaign_id>")
@bp.response(200, CampaignSchema)
def get_campaign(campaign_id):
    """One campaign."""
    return campaign_out(services.get_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>", methods=["PATCH"])
@bp.arguments(CampaignPatchSchema(partial=True))
@bp.response(200, CampaignSchema)
def update_campaign(data, campaign_id):
    """Change a campaign's name, dates, zone or colour."""
    campaign = services.save_campaign(current_api_user(), services.get_campaign(campaign_id), data)
    db.session.commit()
    return campaign_out(campaign)


@bp.route("/campaigns/<int:campaign_id>/logo", methods=["PUT"])
@bp.response(200, CampaignSchema)
def put_logo(campaign_id):
    """Upload the common logo once (multipart `file`, PNG or JPEG): every region's documents carry it."""
    campaign = services.get_campaign(campaign_id)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("a file is required", {"file": "required (multipart field `file`)"})
    save_brand(current_api_user(), campaign, {}, logo=upload.read(brand.LOGO_MAX_BYTES + 1))
    db.session.commit()
    return campaign_out(campaign)


@bp.route("/campaigns/<int:campaign_id>/logo", methods=["DELETE"])
@bp.response(200, CampaignSchema)
def delete_logo(campaign_id):
    """Remove the logo: documents then show the campaign's name."""
    campaign = services.get_campaign(campaign_id)
    save_brand(current_api_user(), campaign, {}, drop_logo=True)
    db.session.commit()
    return campaign_out(campaign)


@bp.route("/campaigns/<int:campaign_id>", methods=["DELETE"])
@bp.response(204)
def delete_campaign(campaign_id):
    """Delete a campaign and its timeline."""
    services.delete_campaign(current_api_user(), services.get_campaign(campaign_id))
    db.session.commit()


@bp.route("/campaigns/<int:campaign_id>/milestones")
@bp.arguments(MilestoneQuery, location="query")
@bp.response(200, page_schema(MilestoneSchema))
def milestones(args, campaign_id):
    """The campaign's milestones this token may read, by start time."""
    campaign = services.get_campaign(campaign_id)
    query = services.timeline_milestones(current_api_user(), campaign, args.get("region"), args.get("kind"))
    query = query.options(selectinload(Milestone.depends_on), selectinload(Milestone.region))
    return paginate(query, args, lambda rows: milestones_out(campaign, rows))


@bp.route("/campaigns/<int:campaign_id>/milestones", methods=["POST"])
@bp.arguments(MilestoneSchema)
@bp.response(201, MilestoneSchema)
def create_milestone(data, campaign_id):
    """A new milestone; a regional coordinator creates them in its own region only."""
    campaign = services.get_campaign(campaign_id)
    milestone = services.save_milestone(current_api_user(), campaign, None, data)
    db.session.commit()
    return milestones_out(campaign, [milestone])[0]


@bp.route("/milestones/<int:milestone_id>")
@bp.response(200, MilestoneSchema)
def get_milestone(milestone_id):
    """One milestone, with `late` and `warnings`."""
    milestone = services.get_milestone(current_api_user(), milestone_id)
    return milestones_out(milestone.campaign, [milestone])[0]


@bp.route("/milestones/<int:milestone_id>", methods=["PATCH"])
@bp.arguments(MilestonePatchSchema(partial=True))
@bp.response(200, MilestoneSchema)
def update_milestone(data, milestone_id):
    """Change a milestone (e.g. `{"status": "done"}`)."""
    milestone = services.get_milestone(current_api_user(), milestone_id)
    services.save_milestone(current_api_user(), milestone.campaign, milestone, data)
    db.session.commit()
    return milestones_out(milestone.campaign, [milestone])[0]


@bp.route("/milestones/<int:milestone_id>", methods=["DELETE"])
@bp.response(204)
def delete_milestone(milestone_id):
    """Delete a milestone."""
    services.delete_milestone(current_api_user(), services.get_milestone(current_api_user(), milestone_id))
    db.session.commit()


blueprints = [bp]
