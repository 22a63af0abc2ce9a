"""Contact pages: search and filters, one contact, its form, GDPR actions, exports, lists and segments.

The import pages are in contacts/import_views.py, on the same blueprint (contacts/blueprint.py).
"""

import json

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from accounts.scoping import can_write, require_write
from contacts import audiences, exporter, personal_data, services
from contacts.blueprint import bp, readable_regions, region_choices
from contacts.forms import ContactForm, ListForm, SegmentForm
from contacts.labels import KIND_LABELS, LEGAL_BASIS_LABELS, MEDIA_TYPE_LABELS, PARTNERSHIP_LABELS, SCOPE_LABELS
from contacts.models import Contact
from dbtypes import row_id
from errors import DomainError
from extensions import db
from forms import ConfirmForm
from pagination import page_number

PER_PAGE = 50
FILTERS = ("q", "kind", "region", "tag", "media_type", "beat", "city")
LABELS = {
    "kinds": KIND_LABELS,
    "media_types": MEDIA_TYPE_LABELS,
    "scopes": SCOPE_LABELS,
    "partnerships": PARTNERSHIP_LABELS,
    "legal_bases": LEGAL_BASIS_LABELS,
}


def current_filters() -> dict:
    """The filters of the query string; several values of one key (?region=53&region=52) mean any of them."""
    found: dict = {}
    for key in FILTERS:
        values = [v.strip() for v in request.args.getlist(key) if v.strip()]
        if values:
            found[key] = values[0] if key == "q" else values
    return found


@bp.route("/contacts")
def index():
    filters = current_filters()
    page = page_number()
    try:
        query = services.contact_query(current_user, filters)
    except DomainError as error:
        flash(error.message, "error")
        filters.pop("region", None)
        query = services.contact_query(current_user, filters)
    total = db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
    contacts = db.session.scalars(
        query.limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .options(selectinload(Contact.organisation), selectinload(Contact.region), selectinload(Contact.tag_rows))
    ).all()
    lists = db.session.scalars(audiences.list_query(current_user)).all()
    return render_template(
        "contacts/index.html",
        contacts=contacts,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        filters=filters,
        summary=audiences.describe_filter(filters) if filters else "",
        choices=audiences.filter_choices(readable_regions()),
        lists=[lst for lst in lists if can_write(current_user, lst.region_id)],
        segment_form=SegmentForm(),
        confirm=ConfirmForm(),
        **LABELS,
    )


@bp.route("/contacts/export")
def export():
    """The filtered contacts as CSV or vCard, streamed."""
    query = services.export_query(current_user, current_filters())
    if request.args.get("format") == "vcard":
        body, mimetype, name = exporter.export_vcard(query), "text/vcard", "contacts.vcf"
    else:
        body, mimetype, name = exporter.export_csv(query), "text/csv", "contacts.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(stream_with_context(body), mimetype=mimetype, headers=headers)


def contact_form(contact: Contact | None) -> ContactForm:
    form = ContactForm(obj=contact)
    form.region.choices = region_choices(_("National"))
    if request.method == "GET" and contact is not None:
        form.region.data = contact.region.code if contact.region else ""
        form.organisation.data = contact.organisation.name if contact.organisation else ""
        form.tags.data = ", ".join(contact.tags)
        form.beats.data = ", ".join(contact.beats)
        for name in ("media_type", "media_scope", "partnership_status"):
            getattr(form, name).data = getattr(contact, name) or ""
    elif request.method == "GET" and current_user.role == "regional" and current_user.region:
        form.region.data = current_user.region.code
    return form


def save_from_form(form: ContactForm, contact: Contact | None):
    try:
        saved = services.save_contact(current_user, contact, form.data_for_service())
    except DomainError as error:
        db.session.rollback()
        for name, message in error.fields.items():
            if hasattr(form, name):
                getattr(form, name).errors = [*getattr(form, name).errors, message]
        form.form_errors.append(error.message)
        return None
    db.session.commit()
    flash(_("Contact enregistré."), "success")
    return redirect(url_for("contacts.detail", contact_id=saved.id))


@bp.route("/contacts/new", methods=["GET", "POST"])
def new():
    form = contact_form(None)
    if form.validate_on_submit() and (answer := save_from_form(form, None)):
        return answer
    return render_template("contacts/form.html", form=form, contact=None)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit(contact_id: int):
    contact = services.get_contact(current_user, contact_id)
    require_write(current_user, contact.region_id)
    form = contact_form(contact)
    if form.validate_on_submit() and (answer := save_from_form(form, contact)):
        return answer
    return render_template("contacts/form.html", form=form, contact=contact)


@bp.route("/contacts/<int:contact_id>")
def detail(contact_id: int):
    contact = services.get_contact(current_user, contact_id)
    return render_template(
        "contacts/detail.html",
        contact=contact,
        data=personal_data.personal_data(current_user, contact),
        can_write=can_write(current_user, contact.region_id),
        confirm=ConfirmForm(),
        **LABELS,
    )


@bp.route("/contacts/<int:contact_id>/export.json")
def personal_export(contact_id: int):
    """GDPR access: everything held on this person, as a JSON download."""
    contact = services.get_contact(current_user, contact_id)
    response = Response(
        render_json(personal_data.personal_data(current_user, contact)), mimetype="application/json; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="contact-{contact.id}.json"'
    return response


def render_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@bp.route("/contacts/<int:contact_id>/erase", methods=["POST"])
def erase(contact_id: int):
    if ConfirmForm().validate_on_submit():
        services.erase_contact(current_user, services.get_contact(current_user, contact_id))
        db.session.commit()
        flash(_("Contact effacé : seule une empreinte de l'adresse reste, pour ne plus jamais lui écrire."), "success")
    return redirect(url_for("contacts.index"))


@bp.route("/contacts/<int:contact_id>/delete", methods=["POST"])
def delete(contact_id: int):
    if ConfirmForm().validate_on_submit():
        services.delete_contact(current_user, services.get_contact(current_user, contact_id))
        db.session.commit()
        flash(_("Contact supprimé."), "success")
    return redirect(url_for("contacts.index"))


# ---- lists and segments ---------------------------------------------------------------------


@bp.route("/contacts/lists", methods=["GET", "POST"])
def lists():
    form = ListForm()
    form.region.choices = region_choices(_("Nationale"))
    if form.validate_on_submit():
        try:
            audiences.create_list(current_user, form.name.data, form.region.data or None)
            db.session.commit()
            flash(_("Liste créée."), "success")
            return redirect(url_for("contacts.lists"))
        except DomainError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, error.message]
    found = db.session.scalars(audiences.list_query(current_user)).all()
    segments = db.session.scalars(audiences.segment_query(current_user)).all()
    return render_template(
        "contacts/lists.html",
        form=form,
        lists=found,
        sizes=audiences.list_sizes([i.id for i in found]),
        segments=[(s, audiences.segment_size(s), audiences.describe_filter(s.filter)) for s in segments],
    )


@bp.route("/contacts/segments", methods=["POST"])
def save_segment():
    form = SegmentForm()
    if form.validate_on_submit():
        try:
            segment = audiences.create_segment(current_user, form.name.data, current_filters())
            db.session.commit()
            flash(_("Segment « %(name)s » enregistré.", name=segment.name), "success")
            return redirect(url_for("contacts.lists"))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
    else:
        flash(_("Donnez un nom au segment."), "error")
    return redirect(url_for("contacts.index", **current_filters()))


@bp.route("/contacts/lists/add", methods=["POST"])
def add_to_list():
    """Add every contact matching the current filters to a list."""
    if ConfirmForm().validate_on_submit():
        try:
            found = audiences.get_list(current_user, request.form.get("list_id", type=row_id) or 0)
            added = audiences.add_filtered_members(current_user, found, current_filters())
            db.session.commit()
            flash(_("%(n)s contacts ajoutés à « %(name)s ».", n=added, name=found.name), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
    return redirect(url_for("contacts.index", **current_filters()))
