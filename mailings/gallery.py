"""The gallery: ready templates in French for each step of the playbook (campaign/playbook.py).

Each is written with the editor's own fields (mailings/editor.py) and blocks (answer buttons,
"read the release", "see the programme"), so that it opens in the visual editor as labelled chips;
its body is kept under templates/email/gallery/. "Create my copy" makes an ordinary template of the
person (a regional coordinator's copy belongs to their region), to adapt before sending.
"""

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from accounts.models import User
from errors import NotFound
from extensions import db
from i18n import _
from mailings import editor, services
from mailings.models import EmailTemplate

SOURCE = "email/gallery/{key}.html"
BASE = "@BASE@"  # the public address of this Relais, put in when the copy is made
FIELD = re.compile(r"{{\s*(.*?)\s*}}")
TAG = re.compile(r"<[^>]+>")
SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class Ready:
    """One ready template: what it is for, when it leaves, its subject (its body is a file)."""

    key: str
    name: str
    step: str
    when: str
    subject: str


GALLERY = (
    Ready(
        "save_the_date",
        _l("Save-the-date — conférence de presse"),
        _l("Save-the-date"),
        _l("J-15 : environ deux semaines avant la conférence de presse."),
        "Save the date : conférence de presse du {{ conference.starts_at|date_fr }}",
    ),
    Ready(
        "invitation_national",
        _l("Invitation — conférence de presse nationale"),
        _l("Invitation"),
        _l("J-10 (entre J-21 et J-7) : nominative, au chef de service et au journaliste."),
        "Invitation : conférence de presse nationale du {{ conference.starts_at|date_fr }}",
    ),
    Ready(
        "invitation_regional",
        _l("Invitation — conférence de presse régionale"),
        _l("Invitation"),
        _l("J-10 (entre J-21 et J-7) : médias de la région seulement, pas la presse nationale parisienne."),
        "Invitation presse — {{ region.name }}, {{ conference.starts_at|date_fr }}",
    ),
    Ready(
        "reminder",
        _l("Relance — journalistes sans réponse"),
        _l("Relance"),
        _l("J-3 à J-2 : seulement à ceux qui n'ont pas répondu à l'invitation."),
        "Serez-vous des nôtres le {{ conference.starts_at|date_fr }} ?",
    ),
    Ready(
        "release",
        _l("Communiqué de presse (avec ligne d'embargo)"),
        _l("Communiqué"),
        _l(
            "Jour J, après la conférence. Relais imprime en tête la ligne d'embargo de l'envoi "
            "(« INFORMATIONS SOUS EMBARGO JUSQU'AU… »), ou « Pour diffusion immédiate » pour un communiqué sans embargo."
        ),
        "Communiqué de presse — {{ campaign.name }}",
    ),
    Ready(
        "press_kit",
        _l("Dossier de presse — médias absents"),
        _l("Dossier de presse"),
        _l("J+1 : aux médias invités qui ne sont pas venus."),
        "Dossier de presse — {{ campaign.name }}",
    ),
    Ready(
        "relay_kit",
        _l("Kit de relais — partenaires"),
        _l("Relais dans les réseaux"),
        _l("De l'assemblée générale à la rentrée : aux partenaires et aux réseaux de l'ESS."),
        "{{ campaign.name }} : votre kit pour relayer l'information",
    ),
    Ready(
        "thanks",
        _l("Remerciements après la conférence"),
        _l("Remerciements"),
        _l("J+1 : aux journalistes venus ; à nouveau quand leur article paraît."),
        "Merci de votre venue — {{ conference.title }}",
    ),
)


def items() -> tuple[Ready, ...]:
    return GALLERY


def get(key: str) -> Ready:
    found = next((ready for ready in GALLERY if ready.key == key), None)
    if found is None:
        raise NotFound(_("Ce modèle de la galerie n'existe pas."), {"key": _("inconnu")})
    return found


def body(ready: Ready) -> str:
    """The template's HTML as stored in a copy (the file is read as text, never rendered here)."""
    app = current_app._get_current_object()
    source, _filename, _uptodate = app.jinja_loader.get_source(app.jinja_env, SOURCE.format(key=ready.key))
    return source.replace(BASE, app.config["PUBLIC_BASE_URL"].rstrip("/"))


def labels() -> dict[str, str]:
    """The French name of each field the editor inserts, by its Jinja (spaces removed)."""
    return {field.source.replace(" ", ""): str(field.label) for field in editor.fields()}


def readable(source: str) -> str:
    """A template's words as a person reads them in the gallery: fields as « Label », no markup."""
    names = labels()
    text = FIELD.sub(lambda m: f"«\u00a0{names.get(m.group(1).replace(' ', ''), m.group(1))}\u00a0»", source)
    return SPACES.sub(" ", TAG.sub(" ", text)).strip()  # the no-break spaces stay: « Label » holds together


def preview(ready: Ready) -> dict[str, str]:
    """The subject and the preheader (the first words an inbox shows), in words."""
    match = re.search(r'<p class="preheader">(.*?)</p>', body(ready), re.S)
    return {"subject": readable(ready.subject), "preheader": readable(match.group(1)) if match else ""}


def copy(user: User, key: str) -> EmailTemplate:
    """The person's own copy of a ready template; a regional coordinator's is their region's."""
    ready = get(key)
    name = str(ready.name)
    if user.role == "regional" and user.region is not None:
        name = f"{name} — {user.region.name}"
    template = services.save_template(user, None, {"name": name, "subject": ready.subject, "html": body(ready)})
    db.session.flush()
    return template
