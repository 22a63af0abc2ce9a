"""The JSON shapes of contacts, lists, segments and imports (they also make the OpenAPI document)."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from contacts.models import CIVILITIES, CONTACT_KINDS, LEGAL_BASES, MEDIA_SCOPES, MEDIA_TYPES, PARTNERSHIP_STATUSES
from extensions import Id
from pagination import PageArgs


def one_of(values):
    return validate.OneOf(values)


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(required=True, metadata={"description": "Unique, case-insensitive; stored lower-cased"})
    civility = fields.String(
        allow_none=True,
        validate=one_of(("", *CIVILITIES)),
        metadata={"description": "madame or monsieur; null (or '') when unknown"},
    )
    first_name = fields.String(validate=validate.Length(max=100))
    last_name = fields.String(validate=validate.Length(max=100))
    full_name = fields.String(dump_only=True)
    salutation = fields.String(
        dump_only=True,
        metadata={"description": "'Madame Durand', 'Monsieur Martin', or 'Madame, Monsieur' when unknown"},
    )
    organisation = fields.String(allow_none=True, metadata={"description": "Organisation name (created if new)"})
    job_title = fields.String(validate=validate.Length(max=150))
    city = fields.String(validate=validate.Length(max=100))
    kind = fields.String(validate=one_of(CONTACT_KINDS), load_default="other")
    region = fields.String(allow_none=True, metadata={"description": "Region code; null for national"})
    phone = fields.String(metadata={"description": "Any French or international form; stored in E.164"})
    tags = fields.List(fields.String(validate=validate.Length(max=60)))
    media_type = fields.String(allow_none=True, validate=one_of(MEDIA_TYPES))
    media_scope = fields.String(allow_none=True, validate=one_of(MEDIA_SCOPES))
    outlet = fields.String(validate=validate.Length(max=200))
    beats = fields.List(fields.String(validate=validate.Length(max=60)))
    partnership_status = fields.String(allow_none=True, validate=one_of(PARTNERSHIP_STATUSES))
    partnership_level = fields.String(validate=validate.Length(max=50))
    legal_basis = fields.String(validate=one_of(LEGAL_BASES), load_default="legitimate_interest")
    source = fields.String(validate=validate.Length(max=200))
    collected_at = fields.DateTime(dump_only=True)
    opted_out = fields.Boolean(metadata={"description": "true suppresses the address; it cannot be undone here"})
    opted_out_at = fields.DateTime(dump_only=True)
    bounced = fields.Boolean()
    bounced_at = fields.DateTime(dump_only=True)
    notes = fields.String()
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ContactPatchSchema(ContactSchema):
    """PATCH body: any subset of the contact's fields."""


class ContactQuery(PageArgs):
    q = fields.String(metadata={"description": "Name, e-mail or organisation; accents and case ignored"})
    kind = fields.List(
        fields.String(validate=one_of(CONTACT_KINDS)), metadata={"description": "Any of these kinds (repeat it)"}
    )
    region = fields.List(
        fields.String(), metadata={"description": "Region code, or 'national'; any of several (repeat it)"}
    )
    tag = fields.List(fields.String(), metadata={"description": "Any of these tags (repeat the parameter)"})
    media_type = fields.List(
        fields.String(validate=one_of(MEDIA_TYPES)), metadata={"description": "Any of these types (repeat it)"}
    )
    beat = fields.List(fields.String(), metadata={"description": "Any of these beats (repeat the parameter)"})
    city = fields.List(
        fields.String(),
        metadata={
            "description": "Any of these cities (repeat it, or separate them by commas); accents and case ignored"
        },
    )


class ExportQuery(Schema):
    format = fields.String(load_default="csv", validate=one_of(("csv", "vcard")))
    q = fields.String()
    kind = fields.String(validate=one_of(CONTACT_KINDS))
    region = fields.String()
    tag = fields.List(fields.String())
    media_type = fields.String(validate=one_of(MEDIA_TYPES))
    beat = fields.List(fields.String())
    city = fields.List(fields.String(), metadata={"description": "Any of these cities; accents and case ignored"})


class ImportQuery(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1: check and count, change nothing"})


class ImportForm(Schema):
    """The multipart/form-data body of an import: the file and its options."""

    file = Upload(
        required=True,
        metadata={"description": "CSV (`,` or `;`, UTF-8 with or without BOM, or cp1252), .xlsx, .xls or .ods"},
    )
    mapping = fields.String(
        metadata={"description": 'JSON object: CSV column -> contact field, e.g. {"Courriel": "email"}; "" ignores'}
    )
    source = fields.String(validate=validate.Length(max=200), metadata={"description": "Where the file comes from"})
    legal_basis = fields.String(validate=one_of(LEGAL_BASES), load_default="legitimate_interest")
    on_duplicate = fields.String(validate=one_of(("update", "skip")), load_default="update")
    kind = fields.String(validate=one_of(CONTACT_KINDS), load_default="other", metadata={"description": "Default"})
    region = fields.String(metadata={"description": "Default region code for rows without one"})


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "As in a spreadsheet: the header is row 1"})
    message = fields.String()
    field = fields.String(metadata={"description": "the contact field at fault (email, phone, civility...)"})
    column = fields.String(metadata={"description": "the file's column for that field"})
    imported = fields.Boolean(
        metadata={"description": "true: the row was imported without this cell; false: the row was refused"}
    )


class ImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema), metadata={"description": "the first 100 rows refused"})
    rejected = fields.Integer(metadata={"description": "how many rows were refused in all"})
    partial = fields.Integer(metadata={"description": "how many rows were imported with a wrong cell left empty"})
    rows = fields.Integer()
    dry_run = fields.Boolean()
    format = fields.String(metadata={"description": "google, outlook, french or generic"})
    encoding = fields.String(metadata={"description": "a CSV's; empty for a workbook"})
    delimiter = fields.String(metadata={"description": "a CSV's; empty for a workbook"})
    file_type = fields.String(metadata={"description": "csv, xlsx, xls or ods"})
    sheet = fields.String(metadata={"description": "the workbook's sheet that was read"})
    rejected_url = fields.String(
        metadata={"description": "the rows refused or imported incomplete, as a CSV to fix and import again (a day)"}
    )


class ImportJobSchema(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "where to follow the import (GET)"})
    filename = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    rows = fields.Integer(metadata={"description": "rows read so far"})
    bytes = fields.Integer(metadata={"description": "bytes read so far"})
    total = fields.Integer(metadata={"description": "the file's size in bytes"})
    report = fields.Nested(ImportReportSchema, allow_none=True, metadata={"description": "as of the last batch"})
    error = fields.String(metadata={"description": "why a failed import stopped"})
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ErasedSchema(Schema):
    id = fields.Integer()
    erased = fields.Boolean()


class ListSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String()
    region = fields.String(allow_none=True, metadata={"description": "Region code; null for national"})
    size = fields.Integer(dump_only=True)


class MembersSchema(Schema):
    contact_ids = fields.List(Id(), required=True)


class SegmentFilterSchema(Schema):
    kind = fields.Raw(metadata={"description": "A kind or a list of kinds"})
    region = fields.Raw(metadata={"description": "A region code ('national' for none) or a list"})
    tags = fields.Raw(metadata={"description": "A tag or a list of tags"})
    media_type = fields.Raw(metadata={"description": "A media type or a list"})
    beats = fields.Raw(metadata={"description": "A beat (theme) or a list"})
    city = fields.Raw(
        metadata={"description": "A city or a list (or several separated by commas); accents and case ignored"}
    )
    q = fields.String()


class SegmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    filter = fields.Nested(SegmentFilterSchema, load_default=dict)
    region = fields.String(dump_only=True, allow_none=True)
    size = fields.Integer(dump_only=True, metadata={"description": "Contacts it holds now"})
