"""Forms every domain uses, and how a service's refusal reaches a form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from errors import DomainError


class ConfirmForm(FlaskForm):
    """An empty form: a button whose POST carries the CSRF token."""

    submit = SubmitField(_l("Confirmer"))


def attach_errors(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Each of the service's field errors beside its field (`aliases`: the service's name -> the
    form's), the others above the form; a refusal that names no field is said above the form."""
    for name, message in error.fields.items():
        name = (aliases or {}).get(name, name)
        (form[name].errors if name in form else form.form_errors).append(message)
    if not error.fields:
        form.form_errors.append(error.message)
