"""What the template editor offers, in French: the fields it inserts (shown as labelled chips,
stored as Jinja) and the button blocks (answer links, the release, the programme)."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Insert:
    label: str
    source: str  # the Jinja it stores; for a button, its address
    text: str = ""  # a button's words, as the recipient reads them (the mail is written in French)


def fields() -> list[Insert]:
    return [
        Insert(_l("Prénom"), "contact.first_name"),
        Insert(_l("Nom"), "contact.last_name"),
        Insert(_l("Prénom et nom"), "contact.full_name"),
        Insert(_l("Formule d'appel (Madame Durand)"), "contact.salutation"),
        Insert(_l("Nom du média"), "contact.organisation"),
        Insert(_l("Région"), "region.name"),
        Insert(_l("Nom de la campagne"), "campaign.name"),
        Insert(_l("Titre de la conférence"), "conference.title"),
        Insert(_l("Date de la conférence"), "conference.starts_at|date_fr"),
        Insert(_l("Date et heure de la conférence"), "conference.starts_at|datetime_fr"),
        Insert(_l("Lieu"), "conference.venue"),
        Insert(_l("Ville"), "conference.city"),
    ]


def buttons() -> list[Insert]:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return [
        Insert(_l("Bouton Je viendrai"), "{{ rsvp_yes_url }}", "Je viendrai"),
        Insert(_l("Bouton Je ne pourrai pas venir"), "{{ rsvp_no_url }}", "Je ne pourrai pas venir"),
        Insert(_l("Bouton Lire le communiqué"), f"{base}/newsroom", "Lire le communiqué"),
        Insert(_l("Bouton Voir le programme"), f"{base}/programme?region={{{{ region.code }}}}", "Voir le programme"),
    ]
