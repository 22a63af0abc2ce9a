"""JSON shapes of press relations (they also make the OpenAPI document)."""

from marshmallow import Schema, fields, validate

from mailings.press_models import RSVP_ANSWERS


class RsvpSchema(Schema):
    contact_id = fields.Integer()
    answer = fields.String(allow_none=True, metadata={"description": "yes, no, or null (no answer yet)"})
    answered_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True, metadata={"description": "came on the day"})


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
    notes = fields.String()
    invited = fields.Integer(dump_only=True)
    yes = fields.Integer(dump_only=True)
    no = fields.Integer(dump_only=True)
    pending = fields.Integer(dump_only=True, metadata={"description": "invited, no answer yet"})
    came = fields.Integer(dump_only=True)


class ConferencePatchSchema(ConferenceSchema):
    pass


class SendSchema(Schema):
    from_name = fields.String(load_default="", validate=validate.Length(max=120))
    from_email = fields.String(load_default="", validate=validate.Length(max=254))
    contact_ids = fields.List(fields.Integer(), load_default=list, metadata={"description": "default: region's media"})


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
    lead = fields.String(load_default="")
    body = fields.String(load_default="")
    press_contact = fields.String(load_default="")
    embargo_until = fields.DateTime(allow_none=True, load_default=None)
    follows_national_id = fields.Integer(allow_none=True, load_default=None)
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
    texts = fields.String(load_default="")
    links = fields.List(fields.String(), load_default=list)
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
    contact_ids = fields.List(fields.Integer(), required=True)


class ExcludedSchema(Schema):
    excluded = fields.Integer()
    exclude_contact_ids = fields.List(fields.Integer())


class CampaignQuery(Schema):
    campaign_id = fields.Integer(load_default=None)


ANSWERS = RSVP_ANSWERS
