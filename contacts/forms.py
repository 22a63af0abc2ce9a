"""Contact, import, list and segment forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from contacts.labels import (
    CIVILITY_LABELS,
    KIND_LABELS,
    LEGAL_BASIS_LABELS,
    MEDIA_TYPE_LABELS,
    PARTNERSHIP_LABELS,
    SCOPE_LABELS,
)
from contacts.models import CIVILITIES, CONTACT_KINDS, LEGAL_BASES, MEDIA_SCOPES, MEDIA_TYPES, PARTNERSHIP_STATUSES


def choices(values, labels, blank=None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(v, labels[v]) for v in values]


class ContactForm(FlaskForm):
    email = StringField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    civility = SelectField(
        _l("Civilité"),
        choices=choices(CIVILITIES, CIVILITY_LABELS, "—"),
        filters=[lambda value: value or ""],  # unknown (None) is the blank choice
    )
    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Length(max=100)])
    organisation = StringField(_l("Organisme"), validators=[Length(max=200)])
    job_title = StringField(_l("Fonction"), validators=[Length(max=150)])
    city = StringField(_l("Ville"), validators=[Length(max=100)])
    kind = SelectField(_l("Type de contact"), choices=choices(CONTACT_KINDS, KIND_LABELS))
    region = SelectField(_l("Région"), coerce=str)
    phone = StringField(_l("Téléphone"), validators=[Length(max=40)])
    tags = StringField(_l("Étiquettes"), validators=[Length(max=500)])
    media_type = SelectField(_l("Type de média"), choices=choices(MEDIA_TYPES, MEDIA_TYPE_LABELS, "—"))
    media_scope = SelectField(_l("Portée"), choices=choices(MEDIA_SCOPES, SCOPE_LABELS, "—"))
    outlet = StringField(_l("Titre / média"), validators=[Length(max=200)])
    beats = StringField(_l("Rubriques"), validators=[Length(max=500)])
    partnership_status = SelectField(
        _l("Statut du partenariat"), choices=choices(PARTNERSHIP_STATUSES, PARTNERSHIP_LABELS, "—")
    )
    partnership_level = StringField(_l("Niveau du partenariat"), validators=[Length(max=50)])
    source = StringField(_l("Source"), validators=[Length(max=200)])
    legal_basis = SelectField(_l("Base légale"), choices=choices(LEGAL_BASES, LEGAL_BASIS_LABELS))
    opted_out = BooleanField(_l("Désinscrit (définitif)"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=20000)])
    submit = SubmitField(_l("Enregistrer"))

    def data_for_service(self) -> dict:
        data = {
            name: (getattr(self, name).data or "").strip()
            for name in (
                "email",
                "first_name",
                "last_name",
                "organisation",
                "job_title",
                "city",
                "kind",
                "region",
                "phone",
                "outlet",
                "partnership_level",
                "source",
                "legal_basis",
                "notes",
            )
        }
        for name in ("civility", "media_type", "media_scope", "partnership_status"):
            data[name] = getattr(self, name).data or None
        data["tags"] = [t for t in (self.tags.data or "").split(",") if t.strip()]
        data["beats"] = [b for b in (self.beats.data or "").split(",") if b.strip()]
        if self.opted_out.data:
            data["opted_out"] = True
        return data


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("Fichier CSV, Excel (.xlsx, .xls) ou OpenDocument (.ods)"),
        validators=[FileRequired(_l("Choisissez un fichier CSV, Excel ou OpenDocument."))],
    )
    source = StringField(_l("Source (d'où viennent ces contacts)"), validators=[DataRequired(), Length(max=200)])
    legal_basis = SelectField(_l("Base légale"), choices=choices(LEGAL_BASES, LEGAL_BASIS_LABELS))
    on_duplicate = SelectField(
        _l("Adresse déjà connue"),
        choices=[
            SelectChoice("update", _l("Mettre à jour le contact")),
            SelectChoice("skip", _l("Ignorer la ligne")),
        ],
    )
    kind = SelectField(_l("Type par défaut"), choices=choices(CONTACT_KINDS, KIND_LABELS))
    region = SelectField(_l("Région par défaut"), coerce=str)
    submit = SubmitField(_l("Envoyer le fichier"))


class ListForm(FlaskForm):
    name = StringField(_l("Nom de la liste"), validators=[DataRequired(), Length(max=200)])
    region = SelectField(_l("Région"), coerce=str, validators=[Optional()])
    submit = SubmitField(_l("Créer la liste"))


class SegmentForm(FlaskForm):
    name = StringField(_l("Nom du segment"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Enregistrer ces filtres comme segment"))
