"""The labels people read for the codes of a contact (kind, media type and scope, partnership,
legal basis): shown in forms and pages, written in the CSV export, and read back by the importer
(`code_of`), in French and in the reader's language. The API keeps the codes."""

from flask import has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from contacts.models import fold

KIND_LABELS = {
    "media": _l("Média"),
    "partner": _l("Partenaire"),
    "network": _l("Relais réseau"),
    "institution": _l("Institution"),
    "internal": _l("Interne"),
    "other": _l("Autre"),
}
MEDIA_TYPE_LABELS = {
    "agency": _l("Agence de presse"),
    "national_daily": _l("Quotidien national (PQN)"),
    "regional_daily": _l("Quotidien régional (PQR)"),
    "regional_weekly": _l("Hebdomadaire régional (PHR)"),
    "magazine": _l("Magazine"),
    "specialised": _l("Presse spécialisée"),
    "radio": _l("Radio"),
    "tv": _l("Télévision"),
    "web": _l("Web"),
}
CIVILITY_LABELS = {"madame": _l("Madame"), "monsieur": _l("Monsieur")}
SCOPE_LABELS = {"national": _l("Nationale"), "regional": _l("Régionale"), "departement": _l("Départementale")}
PARTNERSHIP_LABELS = {
    "prospect": _l("Prospect"),
    "negotiating": _l("En négociation"),
    "confirmed": _l("Confirmé"),
    "declined": _l("Décliné"),
}
LEGAL_BASIS_LABELS = {
    "legitimate_interest": _l("Intérêt légitime"),
    "consent": _l("Consentement"),
    "contract": _l("Contrat"),
    "public_interest": _l("Mission d'intérêt public"),
}


def label(labels: dict, code: str | None) -> str:
    """The label of a code ("" for none; an unknown code as it is)."""
    return str(labels.get(code, code)) if code else ""


_READ: dict[tuple[int, str], dict[str, str]] = {}


def code_of(text: str, labels: dict) -> str | None:
    """The code whose label is `text` (case and accents aside), in French or in the current
    language; None when no label reads so."""
    locale = str(get_locale() or "fr") if has_request_context() else "fr"
    key = (id(labels), locale)
    if key not in _READ:
        words = {}
        for language in dict.fromkeys(("fr", locale)):
            with force_locale(language):
                words.update({fold(str(name)): code for code, name in labels.items()})
        _READ[key] = words
    return _READ[key].get(fold(text))
