"""Marshmallow schemas of the templates and mailings API (the contract's field names)."""

from marshmallow import Schema, fields, validate

from contacts.schemas import SegmentFilterSchema
from extensions import Id
from mailings.audience import EXCLUSIONS
from mailings.models import DELIVERY_STATUSES
from mailings.states import STATUSES
from pagination import PageArgs


class TemplateSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=500))
    html = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    text = fields.String(load_default="", validate=validate.Length(max=100_000))
    region = fields.Function(lambda t: t.region.code if t.region else None, dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TemplatePatchSchema(TemplateSchema):
    pass


class IdList(fields.List):
    """A list of ids; one id alone (`"list_ids": 3`) is read as a list of one."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value if isinstance(value, list | tuple) else [value], attr, data, **kwargs)


class AudienceSchema(Schema):
    list_ids = IdList(Id(least=0), load_default=list)
    segment_ids = IdList(Id(least=0), load_default=list)
    contact_ids = IdList(Id(least=0), load_default=list)
    filter = fields.Nested(
        SegmentFilterSchema,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "contacts chosen by filter, as a segment's (several regions, media types, beats, cities)"
        },
    )
    exclude_contact_ids = IdList(
        Id(least=0),
        load_default=None,
        allow_none=True,
        metadata={"description": "contacts left out (contact pressure); absent on an edit: the exclusions stay"},
    )


class StatsSchema(Schema):
    total = fields.Integer()
    pending = fields.Integer()
    sending = fields.Integer()
    retry = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    bounced = fields.Integer()
    skipped = fields.Integer()
    unknown = fields.Integer()


class MailingSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = Id(least=0, load_default=None)
    milestone_id = Id(least=0, allow_none=True, load_default=None)
    template_id = Id(least=0, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    from_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    from_email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    reply_to = fields.String(load_default="", validate=validate.Length(max=254))
    audience = fields.Nested(AudienceSchema, load_default=dict)
    embargo_until = fields.DateTime(allow_none=True, load_default=None)
    status = fields.String(dump_only=True, metadata={"enum": list(STATUSES)})
    status_reason = fields.String(dump_only=True)
    region = fields.String(dump_only=True, allow_none=True)
    scheduled_at = fields.DateTime(dump_only=True, allow_none=True)
    audience_size = fields.Integer(dump_only=True)
    audience_summary = fields.String(dump_only=True, metadata={"description": "the audience as people read it"})
    stats = fields.Nested(StatsSchema, dump_only=True)


class MailingPatchSchema(MailingSchema):
    pass


class ScheduleSchema(Schema):
    send_at = fields.DateTime(required=True, metadata={"description": "Without offset: the campaign's zone"})
    allow_weekend = fields.Boolean(
        load_default=False,
        metadata={"description": "Send on a weekend or a French public holiday (refused with 422 otherwise)"},
    )


class SubmitSchema(Schema):
    send_at = fields.DateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When it goes once approved (without offset: the campaign's zone); past when "
            "approved: it goes at once; absent: it waits, approved, for the region to schedule it"
        },
    )
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    allow_weekend = fields.Boolean(
        load_default=False, metadata={"description": "A person says it may go on a weekend or a public holiday"}
    )


class DecisionSchema(Schema):
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=5000),
        metadata={"description": "Told to the region by email; required to send back (reject)"},
    )


class ApprovalStepSchema(Schema):
    id = fields.Integer()
    decision = fields.String(metadata={"enum": ["submitted", "approved", "sent_back", "reopened", "covered"]})
    author = fields.String()
    comment = fields.String()
    covered_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class TestSendSchema(Schema):
    email = fields.String(required=True)
    contact_id = Id(least=0, load_default=None)


class PreviewQuery(Schema):
    contact_id = Id(least=0, load_default=None)


class PreviewSchema(Schema):
    subject = fields.String()
    html = fields.String()
    text = fields.String()
    size = fields.Integer(metadata={"description": "bytes of the whole message"})
    kb = fields.Float()


class DeliveryQuery(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))


class DeliverySchema(Schema):
    id = fields.Integer()
    contact_id = fields.Integer(allow_none=True)
    email = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    response = fields.String()
    sent_at = fields.DateTime(allow_none=True)


class RecipientQuery(PageArgs):
    excluded = fields.Boolean(
        load_default=None, metadata={"description": "true: only those left out; false: only recipients"}
    )


class RecipientSchema(Schema):
    contact_id = fields.Integer()
    email = fields.String(allow_none=True, metadata={"description": "null for an erased contact"})
    name = fields.String()
    region = fields.String(allow_none=True)
    excluded_because = fields.String(allow_none=True, metadata={"enum": list(EXCLUSIONS)})


class RecipientPageSchema(Schema):
    items = fields.List(fields.Nested(RecipientSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    receiving = fields.Integer(metadata={"description": "how many will receive it"})
    excluded = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "how many are left out, by reason"}
    )
