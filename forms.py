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
    form's); when the refusal names no field of this form (or none at all), its whole message is said
    above the form (`_macros.form_errors`): a field's short word ("vide") means nothing away from it."""
    placed_all = bool(error.fields)
    for name, message in error.fields.items():
        name = (aliases or {}).get(name, name)
        if name in form:
            form[name].errors.append(message)
        else:
            placed_all = False
    if not placed_all:
        form.form_errors.append(error.message)
