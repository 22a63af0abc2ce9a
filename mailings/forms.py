"""Template and mailing forms (Flask-WTF); French labels first."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional


class TemplateForm(FlaskForm):
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=200)])
    subject = StringField(_l("Objet du message"), validators=[DataRequired(), Length(max=500)])
    html = TextAreaField(_l("Corps HTML"), validators=[DataRequired(), Length(max=100_000)])
    text = TextAreaField(_l("Corps texte (facultatif)"), validators=[Optional(), Length(max=100_000)])


class MailingForm(FlaskForm):
    name = StringField(_l("Nom de l'envoi"), validators=[DataRequired(), Length(max=200)])
    template_id = SelectField(_l("Modèle"), coerce=int, validators=[DataRequired()])
    from_name = StringField(_l("Nom de l'expéditeur"), validators=[DataRequired(), Length(max=120)])
    from_email = EmailField(
        _l("Adresse de l'expéditeur"), validators=[DataRequired(), Email(check_deliverability=False)]
    )
    reply_to = EmailField(_l("Adresse de réponse"), validators=[Optional(), Email(check_deliverability=False)])
    list_ids = SelectMultipleField(_l("Listes"), coerce=int, validators=[Optional()])
    segment_ids = SelectMultipleField(_l("Segments"), coerce=int, validators=[Optional()])
    contact_ids = StringField(_l("Contacts (numéros, séparés par des virgules)"), validators=[Optional()])
    milestone_id = SelectField(_l("Jalon"), coerce=int, validators=[Optional()])
    embargo_until = DateTimeLocalField(_l("Embargo jusqu'au"), format="%Y-%m-%dT%H:%M", validators=[Optional()])


class ScheduleForm(FlaskForm):
    send_at = DateTimeLocalField(_l("Envoyer le"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    allow_weekend = BooleanField(_l("Envoyer quand même un week-end / jour férié"))


class TestSendForm(FlaskForm):
    email = EmailField(_l("Adresse de test"), validators=[DataRequired(), Email(check_deliverability=False)])
