"""The demo campaign: the first Mois de l'ESS (November 2008), from the seed's facts.

People are invented and use example.org addresses only.
"""

import secrets
from datetime import date, datetime

from sqlalchemy import select

from accounts.models import Region, User
from accounts.services import create_user
from campaign import playbook
from campaign.models import Campaign, Milestone
from campaign.services import to_utc
from extensions import db

DEMO_CAMPAIGN = "Mois de l'ESS 2008"

# The 20 regions of the seed, with their pre-2016 INSEE codes and the names as the seed spells them.
SEED_REGIONS = [
    ("42", "Alsace", "CRES Alsace"),
    ("72", "Aquitaine", "CRES Aquitaine"),
    ("83", "Auvergne", "CRES Auvergne"),
    ("25", "Basse Normandie", "CRES Basse-Normandie"),
    ("26", "Bourgogne", "CRES Bourgogne"),
    ("53", "Bretagne", "CRES Bretagne"),
    ("24", "Région Centre", "CRES Centre"),
    ("43", "Franche Comté", "CRES Franche-Comté"),
    ("23", "Haute Normandie", "CRES Haute-Normandie"),
    ("11", "Ile de France", "CRES Île-de-France"),
    ("91", "Languedoc Roussillon", "CRES Languedoc-Roussillon"),
    ("74", "Limousin", "CRES Limousin"),
    ("41", "Lorraine", "CRES Lorraine"),
    ("73", "Midi-Pyrénées", "CRES Midi-Pyrénées"),
    ("31", "Nord-Pas de Calais", "CRES Nord-Pas de Calais"),
    ("52", "Pays de Loire", "CRES Pays de la Loire"),
    ("22", "Picardie", "CRES Picardie"),
    ("54", "Poitou-Charentes", "CRES Poitou-Charentes"),
    ("93", "Provence-Alpes-Côte d’Azur", "CRESS Provence-Alpes-Côte d’Azur"),
    ("82", "Rhône-Alpes", "CRES Rhône-Alpes"),
]

DEMO_PEOPLE = [
    ("admin@example.org", "admin", None, "Administrateur Relais"),
    (
        "coordination@example.org",
        "national",
        None,
        "Claire Fontaine (coordination nationale)",
    ),
    (
        "communication@example.org",
        "national",
        None,
        "Julien Roussel (plan de communication)",
    ),
    ("paca@example.org", "regional", "93", "Sophie Garnier (CRESS PACA)"),
    (
        "languedoc@example.org",
        "regional",
        "91",
        "Marc Delorme (CRES Languedoc-Roussillon)",
    ),
    ("bretagne@example.org", "regional", "53", "Anne Le Goff (CRES Bretagne)"),
    ("partenaires@example.org", "viewer", None, "Comité des partenaires"),
]


def load_regions() -> dict[str, Region]:
    existing = {r.code: r for r in db.session.scalars(select(Region))}
    for code, name, chamber in SEED_REGIONS:
        if code not in existing:
            existing[code] = Region(code=code, name=name, chamber=chamber)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def load_people(regions: dict[str, Region]) -> dict[str, tuple[User, str | None]]:
    """Demo accounts; a new one gets a generated password, returned once."""
    people = {}
    for email, role, code, name in DEMO_PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = create_user(email, role, password, regions[code].id if code else None, name)
        people[email] = (user, password)
    return people


def load(ag_date: date = date(2008, 6, 19), event_month: date = date(2008, 11, 1)) -> tuple[Campaign, dict]:
    """Load the seed's campaign; idempotent: what exists is kept as it is."""
    regions = load_regions()
    people = load_people(regions)
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    if campaign is None:
        national = people["coordination@example.org"][0]
        campaign = playbook.build(
            national,
            DEMO_CAMPAIGN,
            ag_date,
            event_month,
            sorted(regions.values(), key=lambda r: r.name),
        )
        campaign.description = (
            "Première édition nationale du Mois de l'Économie Sociale et Solidaire, "
            "portée par le CNCRES et 20 chambres régionales."
        )
        shape_history(campaign, people)
    db.session.flush()
    return campaign, people


def shape_history(campaign: Campaign, people: dict) -> None:
    """What happened in 2008: most is done; Languedoc-Roussillon met the press later, in October."""
    owners = {user.region_id: user for user, _ in people.values() if user.role == "regional"}
    communication = people["communication@example.org"][0]
    for m in campaign.milestones:
        m.status = "done"
        m.owner = owners.get(m.region_id) or (communication if m.region_id is None else None)
        if m.kind == "national_press_conference":
            m.venue, m.city = "Maison de l'Économie sociale", "Paris"
        if m.kind == "regional_press_conference" and m.region.code == "91":
            m.starts_at = to_utc(datetime(2008, 10, 23, 10, 0), campaign.timezone)
            m.ends_at = to_utc(datetime(2008, 10, 23, 12, 0), campaign.timezone)
            m.venue, m.city = "Club de la Presse", "Montpellier"
        elif m.kind == "regional_press_conference" and m.region.code == "74":
            m.status = "planned"  # never confirmed as held: shows as late
    campaign.milestones.append(
        Milestone(
            kind="other",
            title="Bilan national du Mois",
            starts_at=to_utc(datetime(2008, 12, 15, 10, 0), campaign.timezone),
            status="in_progress",
            owner=communication,
            description="Synthèse des bilans régionaux et des retombées presse.",
        )
    )
