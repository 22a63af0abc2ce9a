"""JSON shapes of press relations (they also make the OpenAPI document)."""

from marshmallow import Schema, fields, validate

from extensions import Id
from mailings.schemas import AudienceSchema
from press.models import ANSWER_CHANNELS, RECORDED_ANSWERS, RSVP_ANSWERS


class RsvpSchema(Schema):
    contact_id = fields.Integer()
    answer = fields.String(allow_none=True, metadata={"description": "yes, no, maybe, or null (no answer yet)"})
    answered_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True, metadata={"description": "came on the day"})
    channel = fields.String(
        allow_none=True, metadata={"description": "phone, email, in_person (recorded by a person), null: by link"}
    )
    recorded_by = fields.String(allow_none=True, metadata={"description": "who wrote the answer down"})
    recorded_at = fields.DateTime(allow_none=True)
    walk_in = fields.Boolean(metadata={"description": "came without an invitation, added at the door"})


class AnswerInSchema(Schema):
    contact_id = Id(required=True)
    answer = fields.String(required=True, validate=validate.OneOf(RECORDED_ANSWERS))
    channel = fields.String(required=True, validate=validate.OneOf(ANSWER_CHANNELS))


class WalkInSchema(Schema):
    first_name = fields.String(load_default="", validate=validate.Length(max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    media = fields.String(load_default="", validate=validate.Length(max=200))
    email = fields.String(load_default="", validate=validate.Length(max=254), metadata={"description": "optional"})


class WalkedInSchema(RsvpSchema):
    source = fields.String(metadata={"description": "the new contact's source"})
    legal_basis = fields.String()


class ConferenceSchema(Schema):
    milestone_id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    region = fields.String(dump_only=True, allow_none=True)
    starts_at = fields.DateTime(dump_only=True)
    venue = fields.String(validate=validate.Length(max=200))
    city = fields.String(validate=validate.Length(max=120))
    address = fields.String(validate=validate.Length(max=300))
    speakers = fields.List(fields.String(validate=validate.Length(max=300)))
    notes = fields.String(validate=validate.Length(max=5000))
    invited = fields.Integer(dump_only=True)
    yes = fields.Integer(dump_only=True)
    no = fields.Integer(dump_only=True)
    maybe = fields.Integer(dump_only=True)
    pending = fields.Integer(dump_only=True, metadata={"description": "invited, no answer yet"})
    came = fields.Integer(dump_only=True)


class ConferencePatchSchema(ConferenceSchema):
    pass


class SendSchema(Schema):
    from_name = fields.String(load_default="", validate=validate.Length(max=120))
    from_email = fields.String(load_default="", validate=validate.Length(max=254))
    contact_ids = fields.List(Id(), load_default=list, metadata={"description": "default: region's media"})


class SentSchema(Schema):
    mailing_id = fields.Integer()
    status = fields.String()
    recipients = fields.Integer()


class CheckInSchema(Schema):
    present = fields.Boolean(load_default=True)


class ReleaseSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    region = fields.String(allow_none=True, load_default=None, metadata={"description": "region code; none = national"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=250))
    city = fields.String(load_default="", validate=validate.Length(max=120))
    lead = fields.String(load_default="", validate=validate.Length(max=3000))
    body = fields.String(
        load_default="",
        validate=validate.Length(max=60000),
        metadata={
            "description": "HTML (kept to the editor's allow-list: paragraphs, headings, lists, quotes, links, "
            "images with alt) or plain text (blank lines make paragraphs, '- ' and '1. ' lists, addresses links)"
        },
    )
    press_contact = fields.String(load_default="", validate=validate.Length(max=1000))
    embargo_until = fields.DateTime(
        allow_none=True,
        load_default=None,
        validate=lambda v: 2000 <= v.year <= 2100,
        metadata={"description": "no offset: the campaign's zone"},
    )
    follows_national_id = Id(allow_none=True, load_default=None)
    ready = fields.Boolean(load_default=False)
    effective_embargo = fields.DateTime(dump_only=True, allow_none=True)
    public = fields.Boolean(dump_only=True)
    public_url = fields.String(dump_only=True)
    mailing_id = fields.Integer(dump_only=True, allow_none=True)


class ReleasePatchSchema(ReleaseSchema):
    pass


class RelayReportSchema(Schema):
    contact_id = fields.Integer(allow_none=True)
    channel = fields.String()
    relayed_on = fields.DateTime()
    url = fields.String()


class RelayKitSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    region = fields.String(dump_only=True, allow_none=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=250))
    texts = fields.String(load_default="", validate=validate.Length(max=20000))
    links = fields.List(fields.String(validate=validate.Length(max=1000)), load_default=list)
    mailing_id = fields.Integer(dump_only=True, allow_none=True)
    reports = fields.List(fields.Nested(RelayReportSchema), dump_only=True)


class OverlapSchema(Schema):
    contact_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    other_mailing_id = fields.Integer()
    other_mailing_name = fields.String()
    other_at = fields.DateTime()


class PressureSchema(Schema):
    days = fields.Integer()
    weekly_limit = fields.Integer()
    overlaps = fields.List(fields.Nested(OverlapSchema))


class ExcludeSchema(Schema):
    contact_ids = fields.List(Id(), required=True)


class ExcludedSchema(Schema):
    excluded = fields.Integer()
    exclude_contact_ids = fields.List(Id())


class CampaignQuery(Schema):
    campaign_id = Id(load_default=None)


ANSWERS = RSVP_ANSWERS


class ReleaseMailingSchema(Schema):
    from_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    from_email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    reply_to = fields.String(load_default="", validate=validate.Length(max=254))
    audience = fields.Nested(AudienceSchema, required=True, metadata={"description": "as a mailing's audience"})
