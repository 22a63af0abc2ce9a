"""Demo contacts for the seed's campaign: its partners, ESS network relays and 2008 media in several regions.

Outlets are those of 2008 (PRACTICE.md); the people are invented and every address is on example.org.
"""

from sqlalchemy import select

from contacts import audiences, services
from contacts.models import Contact, ContactList, Segment, fold
from extensions import db

SOURCE = "Démo Relais : fichier presse et partenaires 2008"

# (first name, last name, organisation, partnership level, status)
PARTNERS = [
    ("Hélène", "Marchand", "CHORUM", "partenaire national", "confirmed"),
    ("Bertrand", "Lemoine", "MAIF", "partenaire national", "confirmed"),
    ("Sylvie", "Caradec", "MACIF", "partenaire national", "confirmed"),
    ("Olivier", "Paumier", "Crédit Coopératif", "partenaire national", "confirmed"),
    ("Nadia", "Benali", "FINANSOL", "partenaire associé", "confirmed"),
    ("Thierry", "Vasseur", "USGERES", "partenaire associé", "confirmed"),
]

# (first name, last name, organisation, region code or None, tags)
NETWORK = [
    ("Martine", "Rouxel", "Union régionale des Scop de l'Ouest", "53", ["relais", "coopératives"]),
    ("Pascal", "Giraud", "URIOPSS Provence-Alpes-Côte d'Azur", "93", ["relais", "associations"]),
    ("Isabelle", "Fabre", "Mutualité française Languedoc-Roussillon", "91", ["relais", "mutuelles"]),
    ("Didier", "Hamon", "Fédération des CIGALES", None, ["relais", "finance solidaire"]),
    ("Claire", "Weber", "CRES Alsace, réseau des adhérents", "42", ["relais"]),
]

# (first name, last name, outlet, media type, scope, region code or None, beats)
MEDIA = [
    ("Amélie", "Heuzé", "Ouest-France", "regional_daily", "regional", "53", ["économie", "vie locale"]),
    ("Yann", "Le Bihan", "Le Télégramme", "regional_daily", "regional", "53", ["économie"]),
    ("Soazig", "Morvan", "France 3 Ouest", "tv", "regional", "53", ["société"]),
    ("Gwenaël", "Quéré", "France Bleu Armorique", "radio", "departement", "53", ["vie locale"]),
    ("Jérôme", "Dufau", "Sud Ouest", "regional_daily", "regional", "72", ["économie", "emploi"]),
    ("Céline", "Delattre", "La Voix du Nord", "regional_daily", "regional", "31", ["économie", "social"]),
    ("Franck", "Lefebvre", "France 3 Nord-Pas-de-Calais-Picardie", "tv", "regional", "31", ["société"]),
    ("Agnès", "Perrin", "Le Dauphiné Libéré", "regional_daily", "regional", "82", ["économie"]),
    ("Laurent", "Carrère", "La Dépêche du Midi", "regional_daily", "regional", "73", ["économie", "vie locale"]),
    ("Muriel", "Castagné", "France 3 Sud", "tv", "regional", "73", ["société"]),
    ("Sébastien", "Roig", "L'Indépendant", "regional_daily", "regional", "91", ["économie", "social"]),
    ("Anne", "Vidal", "France Bleu Hérault", "radio", "departement", "91", ["vie locale"]),
    ("Thomas", "Kieffer", "Dernières Nouvelles d'Alsace", "regional_daily", "regional", "42", ["économie"]),
    ("Valérie", "Morel", "Le Bien Public", "regional_daily", "regional", "26", ["économie"]),
    ("Michel", "Chabrol", "La Montagne", "regional_daily", "regional", "83", ["économie", "emploi"]),
    ("Sandrine", "Ferracci", "La Provence", "regional_daily", "regional", "93", ["économie", "social"]),
    ("Marc", "Santoni", "France 3 Méditerranée", "tv", "regional", "93", ["société"]),
    ("Élodie", "Barbier", "France Bleu Provence", "radio", "departement", "93", ["vie locale"]),
    ("François", "Guérin", "AFP", "agency", "national", None, ["économie", "social"]),
    ("Juliette", "Noël", "Alternatives Économiques", "specialised", "national", None, ["économie sociale", "emploi"]),
]

# where each outlet's newsroom is (the journalist's city: the contacts page and audiences filter on it)
NEWSROOMS = {
    "Ouest-France": "Rennes",
    "Le Télégramme": "Morlaix",
    "France 3 Ouest": "Rennes",
    "France Bleu Armorique": "Rennes",
    "Sud Ouest": "Bordeaux",
    "La Voix du Nord": "Lille",
    "France 3 Nord-Pas-de-Calais-Picardie": "Lille",
    "Le Dauphiné Libéré": "Grenoble",
    "La Dépêche du Midi": "Toulouse",
    "France 3 Sud": "Toulouse",
    "L'Indépendant": "Montpellier",
    "France Bleu Hérault": "Montpellier",
    "Dernières Nouvelles d'Alsace": "Strasbourg",
    "Le Bien Public": "Dijon",
    "La Montagne": "Clermont-Ferrand",
    "La Provence": "Marseille",
    "France 3 Méditerranée": "Marseille",
    "France Bleu Provence": "Aix-en-Provence",
    "AFP": "Paris",
    "Alternatives Économiques": "Paris",
}
# the invented journalists' civility, so that "Madame Heuzé" opens their invitations
MADAME = {"Amélie", "Soazig", "Céline", "Agnès", "Muriel", "Anne", "Valérie", "Sandrine", "Élodie", "Juliette"}


def address(first: str, last: str) -> str:
    def part(text: str) -> str:
        return "".join(c if c.isalnum() else "-" for c in fold(text)).strip("-")

    return f"{part(first)}.{part(last)}@example.org"


def people() -> list[dict]:
    found = []
    for first, last, organisation, level, status in PARTNERS:
        found.append(
            {
                "email": address(first, last),
                "first_name": first,
                "last_name": last,
                "organisation": organisation,
                "kind": "partner",
                "region": None,
                "partnership_status": status,
                "partnership_level": level,
                "legal_basis": "contract",
                "tags": ["partenaires", "mois-ess-2008"],
            }
        )
    for first, last, organisation, region, tags in NETWORK:
        found.append(
            {
                "email": address(first, last),
                "first_name": first,
                "last_name": last,
                "organisation": organisation,
                "kind": "network",
                "region": region,
                "legal_basis": "legitimate_interest",
                "tags": tags,
            }
        )
    for first, last, outlet, media_type, scope, region, beats in MEDIA:
        found.append(
            {
                "email": address(first, last),
                "first_name": first,
                "last_name": last,
                "organisation": outlet,
                "outlet": outlet,
                "job_title": "journaliste",
                "civility": "madame" if first in MADAME else "monsieur",
                "city": NEWSROOMS[outlet],
                "kind": "media",
                "region": region,
                "media_type": media_type,
                "media_scope": scope,
                "beats": beats,
                "legal_basis": "legitimate_interest",  # professional address, CNIL 2005 position
                "tags": ["presse"] + (["pqr"] if media_type == "regional_daily" else []),
            }
        )
    return found


def load() -> int:
    """Add the demo contacts, one list and two segments; idempotent. Returns how many contacts were new."""
    added = 0
    for data in people():
        if db.session.scalar(select(Contact.id).where(Contact.email == data["email"])) is None:
            services.save_contact(None, None, {**data, "source": SOURCE})
            added += 1
    if (
        db.session.scalar(select(ContactList.id).where(ContactList.name == "Invités de la conférence nationale"))
        is None
    ):
        invited = audiences.create_list(None, "Invités de la conférence nationale")
        ids = db.session.scalars(
            select(Contact.id).where(Contact.region_id.is_(None), Contact.kind.in_(("media", "partner")))
        ).all()
        audiences.add_members(None, invited, ids)
    for name, filter_ in (
        ("Presse quotidienne régionale", {"media_type": "regional_daily"}),
        ("Partenaires nationaux", {"kind": "partner"}),
    ):
        if db.session.scalar(select(Segment.id).where(Segment.name == name)) is None:
            audiences.create_segment(None, name, filter_)
    db.session.flush()
    return added
