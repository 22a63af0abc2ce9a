"""Sign-in and account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from accounts.models import ROLES, User
from extensions import db

ROLE_LABELS = {
    "admin": _l("Administrateur"),
    "national": _l("Équipe nationale"),
    "regional": _l("Coordinateur régional"),
    "viewer": _l("Lecteur"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Rester connecté"))
    submit = SubmitField(_l("Se connecter"))


class UserForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    name = StringField(_l("Nom"), validators=[Length(max=200)])
    role = SelectField(_l("Rôle"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    region = SelectField(_l("Région (coordinateur régional)"), coerce=str)
    password = PasswordField(
        _l("Mot de passe initial"),
        validators=[DataRequired(), Length(min=10, max=1024)],
    )
    submit = SubmitField(_l("Créer le compte"))

    def validate_email(self, field):
        if db.session.scalar(select(User.id).where(User.email == field.data.strip().lower())):
            raise ValidationError(_l("Cette adresse a déjà un compte."))

    def validate_region(self, field):
        if self.role.data == "regional" and not field.data:
            raise ValidationError(_l("Un coordinateur régional a une région."))
