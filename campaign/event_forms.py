"""Forms of the federation pages: events, public proposals, moderation, readiness, press coverage."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.events import MAX_THEMES

STATUS_LABELS = {
    "proposed": _l("Proposé"),
    "approved": _l("Approuvé"),
    "rejected": _l("Refusé"),
}
MEDIA_TYPES = {
    "agency": _l("Agence"),
    "national_daily": _l("Quotidien national"),
    "regional_daily": _l("Quotidien régional"),
    "regional_weekly": _l("Hebdomadaire régional"),
    "magazine": _l("Magazine"),
    "specialised": _l("Presse spécialisée"),
    "radio": _l("Radio"),
    "tv": _l("Télévision"),
    "web": _l("Web"),
}
DATETIME = "%Y-%m-%dT%H:%M"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EventFieldsMixin:
    title = StringField(_l("Titre de l'événement"), validators=[DataRequired(), Length(max=200)])
    region = SelectField(_l("Région"), coerce=str, validators=[DataRequired()])
    type = SelectField(_l("Type"), coerce=str, validators=[DataRequired()])
    themes = CheckboxesField(_l("Thèmes"), coerce=str)
    starts_at = DateTimeLocalField(_l("Début"), format=DATETIME, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Fin (facultatif)"), format=DATETIME, validators=[Optional()])
    city = StringField(_l("Ville"), validators=[DataRequired(), Length(max=120)])
    venue = StringField(_l("Lieu"), validators=[Length(max=200)])
    organiser = StringField(_l("Organisateur"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description publique"), validators=[Length(max=5000)])

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data < self.starts_at.data:
            raise ValidationError(_l("La fin ne peut pas précéder le début."))

    def validate_themes(self, field):
        if len(field.data or []) > MAX_THEMES:
            raise ValidationError(_l("Cinq thèmes au plus."))


class EventForm(EventFieldsMixin, FlaskForm):
    organiser_email = EmailField(
        _l("E-mail de l'organisateur (facultatif)"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
    )
    submit = SubmitField(_l("Enregistrer"))


class ProposalForm(EventFieldsMixin, FlaskForm):
    organiser_email = EmailField(
        _l("Votre adresse e-mail"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    # Honeypot: hidden from people, filled by robots; a filled one is dropped without a word.
    website = StringField(_l("Site web (laissez vide)"), validators=[Length(max=200)])
    submit = SubmitField(_l("Proposer l'événement"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Refuser"))


class VocabularyForm(FlaskForm):
    types = TextAreaField(_l("Types d'événement (un par ligne)"), validators=[DataRequired(), Length(max=5000)])
    themes = TextAreaField(_l("Thèmes (un par ligne)"), validators=[DataRequired(), Length(max=10000)])
    submit = SubmitField(_l("Enregistrer les listes"))


class ReadinessItemForm(FlaskForm):
    title = StringField(_l("Étape"), validators=[DataRequired(), Length(max=200)])
    due_at = DateTimeLocalField(_l("Échéance"), format=DATETIME, validators=[Optional()])
    owner_id = SelectField(_l("Responsable"), coerce=int)
    done = BooleanField(_l("Fait"))
    submit = SubmitField(_l("Enregistrer"))


class ClippingForm(FlaskForm):
    outlet = StringField(_l("Média"), validators=[DataRequired(), Length(max=200)])
    media_type = SelectField(
        _l("Type de média"),
        choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in MEDIA_TYPES.items()],
        validators=[Optional()],
    )
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=300)])
    published_on = DateField(_l("Date de parution"), validators=[DataRequired()])
    url = URLField(_l("Adresse (URL)"), validators=[Optional(), URL(require_tld=False), Length(max=1000)])
    region = SelectField(_l("Région"), coerce=str)
    milestone_id = SelectField(_l("Jalon"), coerce=int)
    reach = IntegerField(_l("Audience estimée"), validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Enregistrer"))
