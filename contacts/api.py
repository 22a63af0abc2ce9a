"""JSON API: contacts (with import, export and GDPR), lists and segments."""

import json

from flask import Response, stream_with_context, url_for
from sqlalchemy.orm import selectinload

from accounts.api import api_blueprint, current_api_user
from contacts import audiences, exporter, import_jobs, import_rejects, importer, personal_data, services
from contacts.import_rows import parse_mapping
from contacts.models import Contact
from contacts.schemas import (
    ContactPatchSchema,
    ContactQuery,
    ContactSchema,
    ErasedSchema,
    ExportQuery,
    ImportForm,
    ImportJobSchema,
    ImportQuery,
    ImportReportSchema,
    ListSchema,
    MembersSchema,
    SegmentSchema,
)
from extensions import db
from pagination import PageArgs, page_schema, paginate

bp = api_blueprint("contacts_api", "Contacts: people, organisations, import, export, GDPR")
lists_bp = api_blueprint("lists", "Static lists and segments (saved filters)")

WITH_DETAILS = (
    selectinload(Contact.organisation),
    selectinload(Contact.region),
    selectinload(Contact.tag_rows),
    selectinload(Contact.beat_rows),
)


@bp.route("/contacts")
@bp.arguments(ContactQuery, location="query")
@bp.response(200, page_schema(ContactSchema))
def contacts(args):
    """The contacts this token may read, by name; filters combine (several tags: any of them)."""
    query = services.contact_query(current_api_user(), args).options(*WITH_DETAILS)
    return paginate(query, args, lambda rows: [services.contact_out(c) for c in rows])


@bp.route("/contacts", methods=["POST"])
@bp.arguments(ContactSchema)
@bp.response(201, ContactSchema)
def create_contact(data):
    """A new contact; 409 when the address is already known."""
    contact = services.save_contact(current_api_user(), None, data)
    db.session.commit()
    return services.contact_out(contact)


@bp.route("/contacts/export")
@bp.arguments(ExportQuery, location="query")
@bp.response(200, content_type="text/csv")
def export(args):
    """The filtered contacts as CSV (`;`, UTF-8 with BOM, formulas neutralised) or vCard 3.0."""
    query = services.export_query(current_api_user(), args)
    if args["format"] == "vcard":
        body, mimetype, name = exporter.export_vcard(query), "text/vcard", "contacts.vcf"
    else:
        body, mimetype, name = exporter.export_csv(query), "text/csv", "contacts.csv"
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/contacts/import", methods=["POST"])
@bp.arguments(ImportQuery, location="query")
@bp.arguments(ImportForm, location="multipart")
@bp.response(200, ImportReportSchema)
@bp.alt_response(202, schema=ImportJobSchema, description="A large file, queued: follow its `url`")
def import_contacts(query, form):
    """Import a CSV file or an Excel (.xlsx, .xls) or OpenDocument (.ods) workbook (multipart `file`;
    its first sheet with rows); `?dry_run=1` reports without changing anything.

    Google Contacts and Outlook exports and French headers are recognised; otherwise give
    `mapping`. Rejected rows are listed with their row number and the `field` at fault: a wrong
    address, region or legal basis refuses the row, any other wrong cell is left empty and the rest
    of the row imported (`imported: true`). Those rows, as they were, can be downloaded from
    `rejected_url` to fix and import again. The valid rows are written in one transaction. A file larger than RELAIS_IMPORT_BACKGROUND_BYTES (2 MB by default, not a dry
    run) is queued instead: the answer is 202 with the job's `url` (also in `Location`), where its
    progress and then its report can be read; the scheduler writes it batch by batch.
    """
    mapping = parse_mapping(form.get("mapping"))
    upload = form["file"]
    options = importer.ImportOptions(
        source=form.get("source") or f"import API {upload.filename or ''}".strip(),
        legal_basis=form["legal_basis"],
        on_duplicate=form["on_duplicate"],
        default_kind=form["kind"],
        default_region=form.get("region") or None,
        mapping=mapping,
        dry_run=query["dry_run"],
    )
    size = upload.stream.seek(0, 2)
    upload.stream.seek(0)
    if not options.dry_run and import_jobs.is_large(size):
        importer.check_file(upload.stream, options)
        job = import_jobs.queue(current_api_user(), upload.filename, upload.save, size, options)
        db.session.commit()
        url = url_for("contacts_api.get_import_job", job_id=job.id)
        return Response(
            json.dumps(ImportJobSchema().dump({**job.as_dict(), "url": url})),
            status=202,
            mimetype="application/json",
            headers={"Location": url},
        )
    rejects = import_rejects.RejectedRows.for_user(current_api_user())
    try:
        report = importer.run_import(upload.stream, current_api_user(), options, rejects=rejects)
    except Exception:
        rejects.discard()
        raise
    if options.dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return with_rejected_url(report.as_dict())


def with_rejected_url(report: dict | None) -> dict | None:
    """The report with the address of its rows to fix, when some were kept."""
    if report and report.get("rejected_file"):
        url = url_for("contacts_api.rejected_rows", token=report["rejected_file"])
        return {**report, "rejected_url": url}
    return report


@bp.route("/contacts/import/rejected/<token>")
@bp.response(200, content_type="text/csv")
def rejected_rows(token):
    """The rows to fix of an import (its `rejected_url`): a CSV (`;`, UTF-8 with BOM), each row as it
    was in the file after the columns `Ligne` and `À corriger`; fix it and import it again as it is.

    Kept a day; read by whoever imported, the national team and admins."""
    path = import_rejects.find(current_api_user(), token)
    return Response(
        path.read_bytes(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="lignes-a-corriger.csv"'},
    )


@bp.route("/contacts/import/jobs/<int:job_id>")
@bp.response(200, ImportJobSchema)
def get_import_job(job_id):
    """A queued import: its status (queued, running, done, failed), progress and report.

    Only whoever queued it reads it, and the national team and admins.
    """
    job = import_jobs.get_job(current_api_user(), job_id)
    data = {**job.as_dict(), "url": url_for("contacts_api.get_import_job", job_id=job.id)}
    return {**data, "report": with_rejected_url(data["report"])}


@bp.route("/contacts/<int:contact_id>")
@bp.response(200, ContactSchema)
def get_contact(contact_id):
    """One contact."""
    return services.contact_out(services.get_contact(current_api_user(), contact_id))


@bp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@bp.arguments(ContactPatchSchema(partial=True))
@bp.response(200, ContactSchema)
def update_contact(data, contact_id):
    """Change a contact; `opted_out: true` unsubscribes it for good."""
    contact = services.get_contact(current_api_user(), contact_id)
    services.save_contact(current_api_user(), contact, data)
    db.session.commit()
    return services.contact_out(contact)


@bp.route("/contacts/<int:contact_id>", methods=["DELETE"])
@bp.response(204)
def delete_contact(contact_id):
    """Delete a contact (a duplicate, a mistake). A person's erasure request is /erase."""
    services.delete_contact(current_api_user(), services.get_contact(current_api_user(), contact_id))
    db.session.commit()


@bp.route("/contacts/<int:contact_id>/erase", methods=["POST"])
@bp.response(200, ErasedSchema)
def erase_contact(contact_id):
    """GDPR erasure: everything goes but a hash of the address, which stays suppressed."""
    services.erase_contact(current_api_user(), services.get_contact(current_api_user(), contact_id))
    db.session.commit()
    return {"id": contact_id, "erased": True}


@bp.route("/contacts/<int:contact_id>/export")
@bp.response(200)
def export_contact(contact_id):
    """GDPR access: everything held on this person, with its history."""
    return personal_data.personal_data(current_api_user(), services.get_contact(current_api_user(), contact_id))


# ---- lists and segments ---------------------------------------------------------------------


def list_out(items) -> list[dict]:
    sizes = audiences.list_sizes([i.id for i in items])
    return [
        {
            "id": i.id,
            "name": i.name,
            "description": i.description,
            "region": i.region.code if i.region else None,
            "size": sizes[i.id],
        }
        for i in items
    ]


def segment_out(segment) -> dict:
    return {
        "id": segment.id,
        "name": segment.name,
        "filter": segment.filter,
        "region": segment.region.code if segment.region else None,
        "size": audiences.segment_size(segment),
    }


@lists_bp.route("/lists")
@lists_bp.arguments(PageArgs, location="query")
@lists_bp.response(200, page_schema(ListSchema))
def lists(args):
    """The static lists this token may read, with their size."""
    return paginate(audiences.list_query(current_api_user()), args, list_out)


@lists_bp.route("/lists", methods=["POST"])
@lists_bp.arguments(ListSchema)
@lists_bp.response(201, ListSchema)
def create_list(data):
    """A new static list (a regional coordinator's belongs to its region)."""
    created = audiences.create_list(current_api_user(), data["name"], data.get("region"), data.get("description", ""))
    db.session.commit()
    return list_out([created])[0]


@lists_bp.route("/lists/<int:list_id>")
@lists_bp.response(200, ListSchema)
def get_list(list_id):
    """One list with its size."""
    return list_out([audiences.get_list(current_api_user(), list_id)])[0]


@lists_bp.route("/lists/<int:list_id>/members", methods=["POST"])
@lists_bp.arguments(MembersSchema)
@lists_bp.response(200, ListSchema)
def add_members(data, list_id):
    """Add contacts to a list (those already in it are kept once)."""
    found = audiences.get_list(current_api_user(), list_id)
    audiences.add_members(current_api_user(), found, data["contact_ids"])
    db.session.commit()
    return list_out([found])[0]


@lists_bp.route("/segments")
@lists_bp.arguments(PageArgs, location="query")
@lists_bp.response(200, page_schema(SegmentSchema))
def segments(args):
    """The segments this token may read, with the number of contacts each holds now."""
    return paginate(audiences.segment_query(current_api_user()), args, lambda rows: [segment_out(s) for s in rows])


@lists_bp.route("/segments", methods=["POST"])
@lists_bp.arguments(SegmentSchema)
@lists_bp.response(201, SegmentSchema)
def create_segment(data):
    """A saved filter (kind, region, tags, media_type, beats, city), resolved each time it is used."""
    segment = audiences.create_segment(current_api_user(), data["name"], data.get("filter"))
    db.session.commit()
    return segment_out(segment)


@lists_bp.route("/segments/<int:segment_id>")
@lists_bp.response(200, SegmentSchema)
def get_segment(segment_id):
    """One segment with its current size."""
    return segment_out(audiences.get_segment(current_api_user(), segment_id))


blueprints = [bp, lists_bp]
