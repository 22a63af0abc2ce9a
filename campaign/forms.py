"""Campaign, milestone and playbook forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campaign.models import MILESTONE_KINDS, MILESTONE_STATUSES

KIND_LABELS = {
    "internal_launch": _l("Lancement interne"),
    "partner_deadline": _l("Échéance partenaires"),
    "network_relay": _l("Relais réseaux"),
    "national_press_conference": _l("Conférence de presse nationale"),
    "regional_press_conference": _l("Conférence de presse régionale"),
    "press_release": _l("Communiqué de presse"),
    "mailing": _l("Envoi"),
    "event_period": _l("Période d'événements"),
    "deadline": _l("Échéance"),
    "other": _l("Autre"),
}
STATUS_LABELS = {
    "planned": _l("Prévu"),
    "in_progress": _l("En cours"),
    "done": _l("Fait"),
    "cancelled": _l("Annulé"),
}


class MilestoneForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Type"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in MILESTONE_KINDS])
    region = SelectField(_l("Région"), coerce=str)
    starts_at = DateTimeLocalField(_l("Début"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Fin (facultatif)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    status = SelectField(
        _l("Statut"),
        choices=[SelectChoice(s, STATUS_LABELS[s]) for s in MILESTONE_STATUSES],
    )
    owner_id = SelectField(_l("Responsable"), coerce=int)
    depends_on = SelectMultipleField(_l("Dépend de"), coerce=int)
    venue = StringField(_l("Lieu"), validators=[Length(max=200)])
    city = StringField(_l("Ville"), validators=[Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Enregistrer"))

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data < self.starts_at.data:
            raise ValidationError(_l("La fin ne peut pas précéder le début."))


class PlaybookForm(FlaskForm):
    name = StringField(_l("Nom de la campagne"), validators=[DataRequired(), Length(max=200)])
    ag_date = DateField(
        _l("Date de l'assemblée générale (lancement interne)"),
        validators=[DataRequired()],
    )
    event_month_start = DateField(_l("Premier jour du mois d'événements"), validators=[DataRequired()])
    regions = SelectMultipleField(_l("Régions participantes"), coerce=str)
    submit = SubmitField(_l("Créer le calendrier"))

    def validate_event_month_start(self, field):
        if field.data and self.ag_date.data and field.data <= self.ag_date.data:
            raise ValidationError(_l("Le mois d'événements vient après l'assemblée générale."))


class BrandForm(FlaskForm):
    """The charter: colours are checked for contrast by the service (campaign.brand), which names the field."""

    primary_color = StringField(
        _l("Couleur principale (fond des bandeaux et boutons, texte blanc)"),
        validators=[DataRequired(), Length(max=7)],
        render_kw={"placeholder": "#0b6e4f", "pattern": "#[0-9a-fA-F]{6}"},
    )
    accent_color = StringField(
        _l("Couleur d'accent (liens et titres sur fond blanc)"),
        validators=[DataRequired(), Length(max=7)],
        render_kw={"placeholder": "#8a4b08", "pattern": "#[0-9a-fA-F]{6}"},
    )
    footer = TextAreaField(_l("Pied de page (mentions, adresse)"), validators=[Length(max=500)])
    logo = FileField(_l("Logo commun à toutes les régions (PNG ou JPEG, 2 Mo au plus)"))
    remove_logo = BooleanField(_l("Retirer le logo"))
    submit = SubmitField(_l("Enregistrer la charte"))


class NewEditionForm(FlaskForm):
    """A new edition from the campaign shown: its name and new month (the AG, when it moves otherwise)."""

    name = StringField(_l("Nom de la nouvelle édition"), validators=[DataRequired(), Length(max=200)])
    event_month_start = DateField(_l("Premier jour de son mois d'événements"), validators=[DataRequired()])
    ag_date = DateField(_l("Date de son assemblée générale (facultatif)"), validators=[Optional()])
    submit = SubmitField(_l("Créer la nouvelle édition"))


class ChooseCampaignForm(FlaskForm):
    """The edition a person works on, from the top navigation."""

    campaign_id = SelectField(_l("Édition"), coerce=str, validate_choice=False)
    next = HiddenField()
    submit = SubmitField(_l("Changer"))
