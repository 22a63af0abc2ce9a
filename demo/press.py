"""Demo press relations for the seed's campaign (idempotent): a national release under embargo,
a regional one tied to it, regional conference details and a partner relay kit."""

from datetime import datetime

from sqlalchemy import select

from accounts.models import Region
from campaign.models import Campaign, Milestone
from campaign.services import to_utc
from extensions import db
from press.models import PressConference, PressRelease, RelayKit

NATIONAL_TITLE = "Novembre 2008 : premier Mois de l'économie sociale et solidaire dans vingt régions"
CONFERENCES = {  # region code: (venue, city, address, speakers), people invented
    "91": (
        "Club de la Presse",
        "Montpellier",
        "Club de la Presse, Montpellier (exemple)",
        "Hélène Exemple, présidente de la CRES Languedoc-Roussillon\nPaul Modèle, chargé de mission",
    ),
    "93": (
        "Maison de l'ESS",
        "Marseille",
        "Maison de l'ESS, Marseille (exemple)",
        "Claire Démo, présidente de la CRES PACA\nYves Essai, coordinateur du Mois",
    ),
}


def load(campaign: Campaign) -> None:
    national_conf = db.session.scalar(
        select(Milestone).where(Milestone.campaign_id == campaign.id, Milestone.kind == "national_press_conference")
    )
    for code, (venue, city, address, speakers) in CONFERENCES.items():
        region = db.session.scalar(select(Region).where(Region.code == code))
        milestone = region and db.session.scalar(
            select(Milestone).where(
                Milestone.campaign_id == campaign.id,
                Milestone.kind == "regional_press_conference",
                Milestone.region_id == region.id,
            )
        )
        if milestone is None:
            continue
        milestone.venue, milestone.city = milestone.venue or venue, milestone.city or city
        found = db.session.scalar(select(PressConference).where(PressConference.milestone_id == milestone.id))
        if found is None:
            db.session.add(PressConference(milestone_id=milestone.id, address=address, speakers=speakers, notes=""))

    embargo = national_conf.starts_at if national_conf else to_utc(datetime(2008, 9, 9, 12, 0), campaign.timezone)
    national = db.session.scalar(
        select(PressRelease).where(PressRelease.campaign_id == campaign.id, PressRelease.title == NATIONAL_TITLE)
    )
    if national is None:
        national = PressRelease(
            campaign=campaign,
            title=NATIONAL_TITLE,
            city="Paris",
            lead=(
                "Du 1er au 30 novembre 2008, les chambres régionales de l'économie sociale et solidaire "
                "organisent le premier Mois de l'ESS : plus de mille événements partout en France."
            ),
            body=(
                "Portes ouvertes, forums, conférences, ciné-débats : associations, coopératives, mutuelles et "
                "fondations montrent une autre façon d'entreprendre.\n\n"
                "« L'économie sociale et solidaire, c'est une personne, une voix », rappelle la présidente "
                "du conseil national (citation d'exemple)."
            ),
            press_contact="Service de presse — presse@example.org",
            embargo_until=embargo,
            ready=True,
            published_at=embargo,
        )
        db.session.add(national)
        lr = db.session.scalar(select(Region).where(Region.code == "91"))
        if lr is not None:
            db.session.add(
                PressRelease(
                    campaign=campaign,
                    region_id=lr.id,
                    follows_national=national,
                    title="Languedoc-Roussillon : le Mois de l'ESS du 1er novembre au 10 décembre",
                    city="Montpellier",
                    lead="La CRES Languedoc-Roussillon présente le programme régional du Mois de l'ESS.",
                    body="Le programme complet est en ligne dans la salle de presse.",
                    press_contact="CRES Languedoc-Roussillon — presse-lr@example.org",
                    ready=True,
                    published_at=embargo,
                )
            )
    if db.session.scalar(select(RelayKit.id).where(RelayKit.campaign_id == campaign.id)) is None:
        db.session.add(
            RelayKit(
                campaign=campaign,
                title="Relayez le Mois de l'ESS 2008",
                texts=(
                    "En novembre, c'est le Mois de l'économie sociale et solidaire : plus de mille événements "
                    "près de chez vous.\n\n"
                    "Associations, coopératives, mutuelles : venez découvrir une autre façon d'entreprendre."
                ),
                links="https://example.org/mois-ess-2008\nhttps://example.org/mois-ess-2008/programme",
            )
        )
    db.session.flush()
