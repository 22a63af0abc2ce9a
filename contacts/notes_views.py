"""The contact page's history section and its notes: the template global the section reads, and
the form that adds a note (on the contacts blueprint)."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from accounts.scoping import can_write
from contacts import history, notes, services
from contacts.blueprint import bp
from errors import DomainError
from extensions import db


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note (ex. : a quitté la rédaction, écrire à …)"), validators=[DataRequired(), Length(max=notes.NOTE_MAX)]
    )
    submit = SubmitField(_l("Ajouter la note"))


@bp.app_template_global("contact_history")
def contact_history(contact) -> dict:
    """For `{% include "contacts/_history.html" %}`: the items this user may read, and the note form."""
    writable = can_write(current_user, contact.region_id)
    return {"items": history.history(current_user, contact), "form": NoteForm() if writable else None}


@bp.post("/contacts/<int:contact_id>/notes")
def add_note(contact_id: int):
    contact = services.get_contact(current_user, contact_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("Note vide ou trop longue (%(n)s caractères au plus).", n=notes.NOTE_MAX), "error")
    else:
        try:
            notes.add_note(current_user, contact, form.body.data)
            db.session.commit()
            flash(_("Note ajoutée."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
    return redirect(url_for("contacts.detail", contact_id=contact.id, _anchor="history"))
