"""Forms of the press pages (labels French first through lazy gettext)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from mailings.forms import SenderFields

DATETIME = "%Y-%m-%dT%H:%M"


class ConferenceForm(FlaskForm):
    venue = StringField(_l("Lieu"), validators=[Length(max=200)])
    city = StringField(_l("Ville"), validators=[Length(max=120)])
    address = StringField(_l("Adresse postale"), validators=[Length(max=300)])
    speakers = TextAreaField(_l("Intervenants (un par ligne : nom, fonction)"), validators=[Length(max=5000)])
    notes = TextAreaField(_l("Notes (dossier de presse, accès, accueil)"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Enregistrer"))


class SendForm(SenderFields, FlaskForm):
    """A conference's invitation: from one of the region's sender identities when it has any (the
    reminder leaves from the invitation's sender)."""

    submit = SubmitField(_l("Envoyer"))


class ScheduleReleaseForm(SenderFields, FlaskForm):
    """Sender and audience of a release's mailing; without a time it is prepared as a draft, whose
    page lists the recipients before it is scheduled."""

    send_at = DateTimeLocalField(_l("Envoi le (facultatif)"), format=DATETIME, validators=[Optional()])
    allow_weekend = BooleanField(_l("Envoyer quand même un week-end / jour férié"))
    submit = SubmitField(_l("Programmer l'envoi aux médias"))


class ReleaseForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=250)])
    city = StringField(_l("Ville d'envoi"), validators=[Length(max=120)])
    lead = TextAreaField(_l("Chapeau (qui, quoi, quand, où, pourquoi)"), validators=[Length(max=3000)])
    body = TextAreaField(_l("Texte du communiqué"), validators=[Length(max=60000)])  # HTML from the editor
    press_contact = TextAreaField(_l("Contact presse"), validators=[Length(max=1000)])
    embargo_until = DateTimeLocalField(
        _l("Sous embargo jusqu'au (heure de la campagne)"), format=DATETIME, validators=[Optional()]
    )
    region = SelectField(_l("Région"), validators=[Optional()])
    follows_national = SelectField(_l("Lié à l'embargo du communiqué national"), validators=[Optional()])
    ready = BooleanField(_l("Prêt à publier (au plus tôt à la levée de l'embargo)"))
    submit = SubmitField(_l("Enregistrer"))


class FileForm(FlaskForm):
    kind = SelectField(
        _l("Type"),
        choices=[SelectChoice("logo", _l("Logo")), SelectChoice("photo", _l("Photo")), SelectChoice("pdf", _l("PDF"))],
    )
    title = StringField(_l("Légende"), validators=[Length(max=200)])
    file = FileField(_l("Fichier (PNG, JPEG, WebP ou PDF)"))
    submit = SubmitField(_l("Ajouter au dossier de presse"))


class RelayKitForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=250)])
    texts = TextAreaField(
        _l("Textes à reprendre (paragraphes séparés par une ligne vide)"), validators=[Length(max=20000)]
    )
    links = TextAreaField(_l("Liens (un par ligne)"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Enregistrer"))


class RelayReportForm(FlaskForm):
    channel = StringField(_l("Où (site, lettre, réseau social…)"), validators=[DataRequired(), Length(max=200)])
    relayed_on = DateField(_l("Quand"), validators=[DataRequired()])
    url = StringField(_l("Lien (facultatif)"), validators=[Optional(), URL(require_tld=False), Length(max=1000)])
    submit = SubmitField(_l("Envoyer"))


class ExcludeForm(FlaskForm):
    contact_ids = HiddenField()
    submit = SubmitField(_l("Exclure ces contacts de l'envoi"))


class PressureSettingsForm(FlaskForm):
    pressure_days = IntegerField(_l("Fenêtre de sollicitation (jours)"), validators=[NumberRange(0, 60)])
    weekly_limit = IntegerField(
        _l("Envois au plus par contact et par semaine (0 = sans limite)"), validators=[NumberRange(0, 50)]
    )
    submit = SubmitField(_l("Enregistrer"))


class AnswerForm(FlaskForm):
    """An answer given by phone, email or on the spot, written down by a person."""

    contact_id = SelectField(_l("Contact"), coerce=int, validate_choice=True)
    answer = RadioField(
        _l("Réponse"),
        choices=[SelectChoice("yes", _l("Oui")), SelectChoice("no", _l("Non")), SelectChoice("maybe", _l("Peut-être"))],
        validators=[DataRequired()],
    )
    channel = SelectField(
        _l("Reçue par"),
        choices=[
            SelectChoice("phone", _l("Téléphone")),
            SelectChoice("email", _l("E-mail")),
            SelectChoice("in_person", _l("Sur place")),
        ],
    )
    submit = SubmitField(_l("Enregistrer la réponse"))


class WalkInForm(FlaskForm):
    """A journalist who came without an invitation, added at the door."""

    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=100)])
    media = StringField(_l("Média"), validators=[Length(max=200)])
    email = EmailField(_l("Adresse e-mail (facultative)"), validators=[Optional(), Length(max=254)])
    submit = SubmitField(_l("Ajouter et marquer présent·e"))
