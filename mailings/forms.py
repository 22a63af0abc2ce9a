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


class SenderFields:
    """Who the mailing is from: one of the configured identities (a select) when there are any,
    else a name and an address typed (within RELAIS_MAIL_SENDERS)."""

    sender_id = SelectField(_l("Expéditeur"), coerce=int, validators=[Optional()], validate_choice=False)
    from_name = StringField(_l("Nom de l'expéditeur"), validators=[Optional(), Length(max=120)])
    from_email = EmailField(
        _l("Adresse de l'expéditeur"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )


class MailingForm(SenderFields, FlaskForm):
    """The audience beyond lists and segments (the filter's ticks, contacts picked by name) is read
    from the request by the view: it is a set of checkboxes, not a field."""

    name = StringField(_l("Nom de l'envoi"), validators=[DataRequired(), Length(max=200)])
    template_id = SelectField(_l("Modèle"), coerce=int, validators=[DataRequired()])
    reply_to = EmailField(_l("Adresse de réponse"), validators=[Optional(), Email(check_deliverability=False)])
    list_ids = SelectMultipleField(_l("Listes"), coerce=int, validators=[Optional()])
    segment_ids = SelectMultipleField(_l("Segments"), coerce=int, validators=[Optional()])
    milestone_id = SelectField(_l("Jalon"), coerce=int, validators=[Optional()])
    embargo_until = DateTimeLocalField(_l("Embargo jusqu'au"), format="%Y-%m-%dT%H:%M", validators=[Optional()])


class SenderIdentityForm(FlaskForm):
    region = SelectField(_l("Pour"), coerce=str, validators=[Optional()])
    from_name = StringField(_l("Nom affiché"), validators=[DataRequired(), Length(max=120)])
    from_email = EmailField(
        _l("Adresse d'expédition"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    reply_to = EmailField(
        _l("Adresse de réponse (facultatif)"), validators=[Optional(), Email(check_deliverability=False)]
    )


class ScheduleForm(FlaskForm):
    send_at = DateTimeLocalField(_l("Envoyer le"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    allow_weekend = BooleanField(_l("Envoyer quand même un week-end / jour férié"))


class TestSendForm(FlaskForm):
    email = EmailField(_l("Adresse de test"), validators=[DataRequired(), Email(check_deliverability=False)])
