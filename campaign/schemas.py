"""The JSON shapes of regions, campaigns and milestones (they also make the OpenAPI document)."""

from marshmallow import Schema, fields, validate

from campaign.models import MILESTONE_KINDS, MILESTONE_STATUSES
from extensions import Id
from pagination import PageArgs


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    chamber = fields.String()


COLOR = validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="expected #rrggbb")


class BrandSchema(Schema):
    primary_color = fields.String(
        validate=COLOR, metadata={"description": "#rrggbb; white text on it must reach 4.5:1 (WCAG AA)"}
    )
    accent_color = fields.String(
        validate=COLOR, metadata={"description": "#rrggbb; as text on white it must reach 4.5:1 (WCAG AA)"}
    )
    footer = fields.String(validate=validate.Length(max=500))
    logo_url = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The common logo; set it with PUT /campaigns/{id}/logo (multipart `file`)"},
    )


class CampaignSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None)
    timezone = fields.String(load_default="Europe/Paris", validate=validate.Length(max=64))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    primary_color = fields.String(validate=COLOR)
    brand = fields.Nested(BrandSchema)
    calendar_url = fields.String(
        dump_only=True,
        metadata={"description": "Subscribable .ics; ?region=CODE narrows it"},
    )


class NewEditionSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    event_month_start = fields.Date(
        required=True, metadata={"description": "First day of the new edition's event month"}
    )
    ag_date = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "Its annual general assembly; absent: the earlier one's, shifted by whole weeks"},
    )


class NewEditionOutSchema(CampaignSchema):
    copied = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        dump_only=True,
        metadata={"description": "What was carried over, by kind (milestones, templates...)"},
    )


class ChosenCampaignSchema(Schema):
    campaign_id = Id(
        least=0,
        required=True,
        allow_none=True,
        metadata={"description": "The edition to work on; null: the default one"},
    )
    campaign = fields.Nested(CampaignSchema, dump_only=True, allow_none=True)


class PlaybookSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    ag_date = fields.Date(
        required=True,
        metadata={"description": "Annual general assembly: the internal launch"},
    )
    event_month_start = fields.Date(required=True, metadata={"description": "First day of the event month"})
    regions = fields.List(
        fields.String(),
        metadata={"description": "Region codes; all active regions if absent"},
    )
    timezone = fields.String(load_default="Europe/Paris")


class WarningSchema(Schema):
    code = fields.String()
    message = fields.String()


class MovedSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    name = fields.String()
    from_ = fields.DateTime(data_key="from", attribute="from")
    to = fields.DateTime()
    moved = fields.Boolean()
    warning = fields.String(metadata={"description": "Why it stays where it is (French); empty when it moves"})


class MovesSchema(Schema):
    applied = fields.Boolean(metadata={"description": "false: a proposal (send `move_dependents: true`)"})
    milestones = fields.List(fields.Nested(MovedSchema))
    mailings = fields.List(fields.Nested(MovedSchema))


class MilestoneSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(MILESTONE_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String()
    starts_at = fields.DateTime(required=True, metadata={"description": "Without offset: the campaign's zone"})
    ends_at = fields.DateTime(allow_none=True)
    region = fields.String(allow_none=True, metadata={"description": "Region code; null for national"})
    owner_id = Id(least=0, allow_none=True)
    status = fields.String(validate=validate.OneOf(MILESTONE_STATUSES))
    depends_on = fields.List(Id(least=0))
    venue = fields.String(validate=validate.Length(max=200))
    city = fields.String(validate=validate.Length(max=120))
    anchor_id = Id(
        least=0,
        allow_none=True,
        metadata={"description": "The milestone this one hangs on (moves with it); null: a free date"},
    )
    offset_days = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=-400, max=400),
        metadata={"description": "Days from the anchor's day (invitations: -10); alone, it moves the date"},
    )
    allow_weekend = fields.Boolean(
        metadata={"description": "A send (mailing, press release) may fall on a weekend or a French public holiday"}
    )
    move_dependents = fields.Boolean(
        load_only=True,
        metadata={"description": "PATCH: move what hangs on this milestone (and their mailings) with it"},
    )
    late = fields.Boolean(dump_only=True)
    warnings = fields.List(fields.Nested(WarningSchema), dump_only=True)
    moved = fields.List(
        fields.Integer(),
        dump_only=True,
        metadata={"description": "PATCH: ids of the milestones moved with this one (`move_dependents`)"},
    )
    moves = fields.Nested(
        MovesSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "PATCH that moved the start: what hangs on it, moved or proposed"},
    )


class MilestoneQuery(PageArgs):
    region = fields.String(metadata={"description": "Region code, or 'national'"})
    kind = fields.String(validate=validate.OneOf(MILESTONE_KINDS))


class CampaignPatchSchema(CampaignSchema):
    """PATCH body: any subset of the campaign's fields."""


class MilestonePatchSchema(MilestoneSchema):
    """PATCH body: any subset of the milestone's fields."""
