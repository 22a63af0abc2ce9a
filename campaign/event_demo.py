"""Demo events, readiness and press coverage for the seed's campaign (November 2008).

Organisers are invented, with example.org addresses; cities and outlets are those of 2008.
Idempotent: a campaign that already has events is left alone.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from accounts.models import Region
from campaign.federation_models import PressClipping, ReadinessItem
from campaign.models import Campaign, Event, Milestone
from campaign.readiness import RULES
from campaign.services import to_utc
from extensions import db

# region code -> [(day of November, hour, title, type, themes, city, venue, organiser)]
DEMO_EVENTS: dict[str, list[tuple]] = {
    "93": [
        (
            4,
            18,
            "Forum de l'emploi dans l'ESS",
            "Forum",
            ["Insertion"],
            "Marseille",
            "Friche la Belle de Mai",
            "Association Emploi Solidaire 13",
        ),
        (
            13,
            9,
            "Visite d'une coopérative d'activité et d'emploi",
            "Visite d'entreprise",
            ["Démocratie et entreprise"],
            "Aix-en-Provence",
            "Coopérative Azur Activités",
            "Coopérative Azur Activités",
        ),
        (
            20,
            14,
            "Marché de la consommation responsable",
            "Marché",
            ["Consommation responsable", "Développement durable"],
            "Avignon",
            "Place Pie",
            "Collectif Consommer Autrement 84",
        ),
        (
            27,
            19,
            "Soirée festive du Mois de l'ESS",
            "Rendez-vous festif",
            ["Culture et territoires"],
            "Nice",
            "Théâtre de la Cité",
            "CRESS PACA",
        ),
    ],
    "91": [
        (
            6,
            9,
            "Colloque « Économie sociale et utilité sociale »",
            "Colloque",
            ["Économie et utilité sociale"],
            "Montpellier",
            "Corum",
            "CRES Languedoc-Roussillon",
        ),
        (
            15,
            10,
            "Journée portes ouvertes d'une ressourcerie",
            "Journée portes ouvertes",
            ["Recyclage", "Insertion"],
            "Nîmes",
            "Ressourcerie du Gard",
            "Ressourcerie du Gard",
        ),
        (
            25,
            14,
            "Tourisme social : rencontre des acteurs",
            "Séminaire",
            ["Tourisme social et solidaire"],
            "Perpignan",
            "Palais des congrès",
            "Union des villages de vacances 66",
        ),
    ],
    "53": [
        (
            5,
            14,
            "Salon des initiatives solidaires",
            "Salon",
            ["Développement durable"],
            "Rennes",
            "Parc des expositions",
            "Réseau Initiatives Bretagne",
        ),
        (
            12,
            18,
            "Bénévolat associatif : session d'information",
            "Session d'information",
            ["Bénévolat associatif"],
            "Brest",
            "Maison des associations",
            "Maison des associations de Brest",
        ),
        (
            19,
            9,
            "Mutualisme et prévention en entreprise",
            "Opération de prévention",
            ["Mutualisme et prévention"],
            "Quimper",
            "Espace Associatif",
            "Mutuelle des Pays de Cornouaille",
        ),
    ],
    "82": [
        (
            7,
            9,
            "Finance solidaire : placer autrement",
            "Session d'information",
            ["Investissement socialement responsable"],
            "Lyon",
            "Hôtel de Région",
            "Club d'épargne solidaire du Rhône",
        ),
        (
            14,
            14,
            "Forum des coopératives",
            "Forum",
            ["Démocratie et entreprise"],
            "Grenoble",
            "Maison de l'international",
            "Union régionale des Scop",
        ),
        (
            21,
            10,
            "Visite d'un chantier d'insertion",
            "Visite d'entreprise",
            ["Insertion", "Patrimoine et chantiers de jeunes"],
            "Saint-Étienne",
            "Chantier du Crêt",
            "Chantier du Crêt",
        ),
    ],
    "72": [
        (
            8,
            10,
            "Colloque services à la personne",
            "Colloque",
            ["Services à la personne"],
            "Bordeaux",
            "Athénée municipal",
            "Fédération aquitaine des services à domicile",
        ),
        (
            22,
            14,
            "Marché de Noël solidaire",
            "Marché",
            ["Consommation responsable"],
            "Pau",
            "Halles de Pau",
            "Collectif Pau Solidaire",
        ),
    ],
    "31": [
        (
            10,
            9,
            "Responsabilité sociale des entreprises : séminaire",
            "Séminaire",
            ["Responsabilité sociale des entreprises"],
            "Lille",
            "Maison de l'économie sociale",
            "Réseau RSE Nord",
        ),
        (
            18,
            14,
            "Élections prud'homales : ce que l'ESS y gagne",
            "Session d'information",
            ["Élections prud'homales"],
            "Arras",
            "Salle des Orfèvres",
            "Union des employeurs de l'ESS 62",
        ),
    ],
    "11": [
        (
            3,
            18,
            "Lancement francilien du Mois",
            "Rendez-vous festif",
            ["Culture et territoires"],
            "Paris",
            "Mairie du 11e arrondissement",
            "CRES Île-de-France",
        ),
        (
            17,
            9,
            "Coopération décentralisée : témoignages",
            "Séminaire",
            ["Coopération décentralisée"],
            "Saint-Denis",
            "Bourse du travail",
            "Collectif Solidarité Sud",
        ),
        (
            24,
            14,
            "Lutte contre les discriminations à l'embauche",
            "Forum",
            ["Lutte contre les discriminations", "Insertion"],
            "Créteil",
            "Maison des syndicats",
            "Association Égalité Emploi 94",
        ),
    ],
    "73": [
        (
            12,
            14,
            "Éducation populaire : la fabrique citoyenne",
            "Forum",
            ["Éducation populaire"],
            "Toulouse",
            "Espace Croix-Baragnon",
            "Fédération des MJC Midi-Pyrénées",
        ),
    ],
    "42": [
        (
            13,
            18,
            "Femme et laïcité : table ronde",
            "Colloque",
            ["Femme et laïcité"],
            "Strasbourg",
            "Palais universitaire",
            "Association Femmes d'Alsace",
        ),
        (
            26,
            10,
            "Journée portes ouvertes d'une entreprise adaptée",
            "Journée portes ouvertes",
            ["Insertion"],
            "Mulhouse",
            "Entreprise adaptée du Haut-Rhin",
            "Entreprise adaptée du Haut-Rhin",
        ),
    ],
    "26": [
        (
            20,
            14,
            "Les fondations en Bourgogne",
            "Séminaire",
            ["Fondations"],
            "Dijon",
            "Palais des ducs",
            "Fondation Bourgogne Solidaire",
        )
    ],
    "83": [
        (
            14,
            10,
            "Circuits courts et AMAP",
            "Marché",
            ["Consommation responsable"],
            "Clermont-Ferrand",
            "Place de Jaude",
            "Réseau des AMAP d'Auvergne",
        )
    ],
    "41": [
        (
            19,
            9,
            "Insertion par l'activité économique",
            "Séminaire",
            ["Insertion"],
            "Nancy",
            "Salle Poirel",
            "Union régionale des SIAE de Lorraine",
        )
    ],
    "52": [
        (
            6,
            14,
            "Salon de l'économie sociale",
            "Salon",
            ["Économie et utilité sociale"],
            "Nantes",
            "Cité des Congrès",
            "CRES Pays de la Loire",
        )
    ],
    "54": [
        (
            21,
            18,
            "Mutuelles et prévention santé",
            "Opération de prévention",
            ["Mutualisme et prévention"],
            "Poitiers",
            "Maison de la Mutualité",
            "Mutualité de la Vienne",
        )
    ],
    "74": [
        (
            27,
            14,
            "Le recyclage en Limousin",
            "Visite d'entreprise",
            ["Recyclage"],
            "Limoges",
            "Recyclerie du Limousin",
            "Recyclerie du Limousin",
        )
    ],
    "25": [
        (
            15,
            10,
            "Tourisme associatif en Basse-Normandie",
            "Session d'information",
            ["Tourisme social et solidaire"],
            "Caen",
            "Centre de congrès",
            "Union normande du tourisme associatif",
        )
    ],
}
# A few that still wait for moderation, and one that was refused.
PROPOSED = {("93", 3), ("91", 2), ("82", 2), ("11", 2), ("53", 2)}
REJECTED = {("72", 1): "Événement commercial sans lien avec l'économie sociale et solidaire."}

# (region code or None, outlet, media type, title, day, reach)
DEMO_CLIPPINGS = [
    (None, "AFP", "agency", "Premier Mois de l'économie sociale et solidaire en novembre", date(2008, 9, 9), 0),
    (
        None,
        "Alternatives Économiques",
        "specialised",
        "L'ESS se donne un mois pour se faire connaître",
        date(2008, 10, 20),
        110000,
    ),
    ("93", "La Provence", "regional_daily", "Un mois pour découvrir l'économie solidaire", date(2008, 9, 12), 140000),
    ("93", "France 3 Méditerranée", "tv", "Le Mois de l'ESS lancé à Marseille", date(2008, 11, 3), 250000),
    (
        "91",
        "L'Indépendant",
        "regional_daily",
        "Les acteurs de l'ESS réunis au Club de la Presse",
        date(2008, 10, 24),
        65000,
    ),
    ("91", "Midi Libre", "regional_daily", "L'économie sociale, 10 % de l'emploi régional", date(2008, 10, 25), 150000),
    (
        "53",
        "Ouest-France",
        "regional_daily",
        "Économie sociale : un mois d'animations en Bretagne",
        date(2008, 9, 13),
        760000,
    ),
    ("53", "Le Télégramme", "regional_daily", "Brest : le bénévolat à l'honneur", date(2008, 11, 13), 200000),
    ("82", "Le Dauphiné Libéré", "regional_daily", "Les Scop tiennent forum à Grenoble", date(2008, 11, 15), 250000),
    (
        "72",
        "Sud Ouest",
        "regional_daily",
        "Bordeaux accueille le colloque des services à la personne",
        date(2008, 11, 9),
        320000,
    ),
    ("31", "La Voix du Nord", "regional_daily", "L'ESS, un autre visage de l'entreprise", date(2008, 9, 12), 290000),
    (
        "73",
        "La Dépêche du Midi",
        "regional_daily",
        "Toulouse : l'éducation populaire fait forum",
        date(2008, 11, 12),
        200000,
    ),
    ("42", "DNA", "regional_daily", "Strasbourg : femmes et laïcité en débat", date(2008, 11, 14), 180000),
    (
        "26",
        "Le Bien Public",
        "regional_daily",
        "Les fondations bourguignonnes se présentent",
        date(2008, 11, 21),
        45000,
    ),
    ("83", "La Montagne", "regional_daily", "Les AMAP place de Jaude", date(2008, 11, 15), 200000),
    ("53", "France Bleu Armorique", "radio", "Le Mois de l'ESS à Rennes", date(2008, 11, 5), 0),
]


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:30]


def load(campaign: Campaign) -> int:
    """Add the demo events, readiness ticks and clippings to the campaign; returns events added."""
    if db.session.scalar(select(Event.id).where(Event.campaign_id == campaign.id).limit(1)):
        return 0
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    added = 0
    for code, rows in DEMO_EVENTS.items():
        region = regions.get(code)
        if region is None:
            continue
        for index, (day, hour, title, type_, themes, city, venue, organiser) in enumerate(rows, start=1):
            starts = to_utc(datetime(2008, 11, day, hour, 0), campaign.timezone)
            status = (
                "proposed" if (code, index) in PROPOSED else "rejected" if (code, index) in REJECTED else "approved"
            )
            db.session.add(
                Event(
                    campaign_id=campaign.id,
                    region_id=region.id,
                    title=title,
                    type=type_,
                    themes=themes,
                    description=f"{type_} proposé par {organiser} dans le cadre du Mois de l'ESS.",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3),
                    city=city,
                    venue=venue,
                    organiser=organiser,
                    organiser_email=f"contact@{slug(organiser)}.example.org",
                    status=status,
                    rejection_reason=REJECTED.get((code, index), ""),
                )
            )
            added += 1
    load_readiness(campaign, regions)
    load_clippings(campaign, regions)
    db.session.flush()
    return added


def load_readiness(campaign: Campaign, regions: dict[str, Region]) -> None:
    """2008 is over: most regions ticked every step; Limousin and Picardie left some open."""
    open_steps = {"74": {"press_kit_ready", "release_sent", "thanks_sent"}, "22": {"programme_printed", "thanks_sent"}}
    for code, region in regions.items():
        for position, rule in enumerate(RULES):
            done = rule.key not in open_steps.get(code, set())
            db.session.add(
                ReadinessItem(
                    campaign_id=campaign.id,
                    region_id=region.id,
                    key=rule.key,
                    title=rule.title,
                    done=done,
                    position=position,
                )
            )


def load_clippings(campaign: Campaign, regions: dict[str, Region]) -> None:
    conferences = {
        m.region_id: m
        for m in db.session.scalars(
            select(Milestone).where(
                Milestone.campaign_id == campaign.id,
                Milestone.kind.in_(("regional_press_conference", "national_press_conference")),
            )
        )
    }
    for code, outlet, media_type, title, day, reach in DEMO_CLIPPINGS:
        region = regions.get(code) if code else None
        milestone = conferences.get(region.id if region else None)
        db.session.add(
            PressClipping(
                campaign_id=campaign.id,
                region_id=region.id if region else None,
                milestone_id=milestone.id if milestone and day < date(2008, 11, 1) else None,
                outlet=outlet,
                media_type=media_type,
                title=title,
                published_on=day,
                url="",
                reach=reach or None,
            )
        )
