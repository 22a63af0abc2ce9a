"""A large demo for benchmarks and load tests: `flask --app app demo load --scale N`.

N contacts, N/50 events (at least 20), N/500 mailings (2 to 200) with their deliveries, all in
the demo campaign, written with bulk inserts so 100,000 contacts take seconds. People are
invented, on example.org.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from accounts.models import Region
from campaign.events import DEFAULT_THEMES, DEFAULT_TYPES
from campaign.models import Campaign, Event
from contacts.models import MEDIA_TYPES, Contact, ContactTag, search_text_of
from dbtypes import utcnow
from extensions import db
from mailings.models import Delivery, EmailTemplate, Mailing

FIRST = ("Camille", "Dominique", "Claude", "Sacha", "Alix", "Louise", "Jules", "Inès", "Hugo", "Lina", "Yann", "Nora")
LAST = ("Martin", "Bernard", "Durand", "Lefèvre", "Moreau", "Garnier", "Le Goff", "Roux", "Fabre", "Heuzé", "Morel")
CITIES = ("Marseille", "Lyon", "Rennes", "Lille", "Bordeaux", "Toulouse", "Montpellier", "Nantes", "Dijon", "Limoges")
KINDS = ("media",) * 4 + ("network",) * 3 + ("partner", "institution", "other")
BATCH = 5000


@dataclass
class ScaleReport:
    contacts: int
    events: int
    mailings: int
    deliveries: int


def batched_insert(table, rows) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(table), batch)
            count, batch = count + len(batch), []
    if batch:
        db.session.execute(insert(table), batch)
        count += len(batch)
    return count


def contact_rows(n: int, regions: list[int], start: int, rng: random.Random, now: datetime):
    for i in range(start, start + n):
        first, last, kind = rng.choice(FIRST), rng.choice(LAST), rng.choice(KINDS)
        email = f"scale-{i:07d}@example.org"
        outlet = (
            f"{rng.choice(('Le Journal', 'La Gazette', 'Radio', 'Le Courrier'))} de {rng.choice(CITIES)}"
            if kind == "media"
            else ""
        )
        yield {
            "email": email,
            "first_name": first,
            "last_name": last,
            "kind": kind,
            "region_id": rng.choice(regions) if rng.random() < 0.9 else None,
            "media_type": rng.choice(MEDIA_TYPES) if kind == "media" else None,
            "outlet": outlet,
            "source": "démo à grande échelle",
            "legal_basis": "legitimate_interest",
            "collected_at": now,
            "opted_out": rng.random() < 0.01,
            "bounced": rng.random() < 0.005,
            "notes": "",
            "job_title": "",
            "phone": "",
            "partnership_level": "",
            "search_text": search_text_of(first, last, email, "", outlet),
            "created_at": now,
            "updated_at": now,
        }


def generate(campaign: Campaign, n: int, seed: int = 2008) -> ScaleReport:
    """Add N contacts and proportionate events, mailings and deliveries to `campaign`; the caller commits."""
    rng, now = random.Random(seed), utcnow()
    regions = list(db.session.scalars(select(Region.id).order_by(Region.id)))
    start = (db.session.scalar(select(func.count(Contact.id))) or 0) + 1
    made = batched_insert(Contact.__table__, contact_rows(n, regions, start, rng, now))
    people = db.session.execute(
        select(Contact.id, Contact.email).where(Contact.email.like("scale-%")).order_by(Contact.id)
    ).all()[-n:]
    batched_insert(ContactTag.__table__, ({"contact_id": cid, "tag": "grande-echelle"} for cid, _ in people[::10]))
    events = generate_events(campaign, max(20, n // 50), regions, rng, now)
    mailings, deliveries = generate_mailings(campaign, min(200, max(2, n // 500)), people, rng, now)
    return ScaleReport(made, events, mailings, deliveries)


def generate_events(campaign: Campaign, count: int, regions: list[int], rng: random.Random, now: datetime) -> int:
    month = datetime(campaign.ends_on.year, campaign.ends_on.month, 1, 8, tzinfo=UTC)

    def rows():
        for i in range(count):
            starts = month + timedelta(days=rng.randrange(28), hours=rng.choice((0, 2, 6, 10)))
            yield {
                "campaign_id": campaign.id,
                "region_id": rng.choice(regions),
                "title": f"Rencontre de l'ESS n° {i + 1}",
                "type": rng.choice(DEFAULT_TYPES),
                "themes": rng.sample(DEFAULT_THEMES, 2),
                "description": "",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "city": rng.choice(CITIES),
                "venue": "",
                "organiser": "Organisation de démonstration",
                "organiser_email": "organisation@example.org",
                "status": "approved" if rng.random() < 0.85 else "proposed",
                "rejection_reason": "",
                "created_at": now,
            }

    return batched_insert(Event.__table__, rows())


def generate_mailings(campaign: Campaign, count: int, people: list, rng: random.Random, now: datetime):
    template = EmailTemplate(
        campaign_id=campaign.id,
        name="Lettre d'information (démo à grande échelle)",
        subject="Le Mois de l'ESS près de chez vous",
        html="<p>Bonjour {{ contact.first_name }},</p>",
        text="",
    )
    db.session.add(template)
    db.session.flush()
    per_mailing = min(len(people), 500)
    total = 0
    for i in range(count):
        sent_at = now - timedelta(days=count - i)
        mailing = Mailing(
            campaign_id=campaign.id,
            template_id=template.id,
            name=f"Lettre n° {i + 1}",
            from_name="Mois de l'ESS",
            from_email="presse@example.org",
            status="sent",
            started_at=sent_at,
            finished_at=sent_at,
            frozen_at=sent_at,
        )
        db.session.add(mailing)
        db.session.flush()
        chosen = rng.sample(people, per_mailing)
        total += batched_insert(
            Delivery.__table__,
            (
                {
                    "mailing_id": mailing.id,
                    "contact_id": cid,
                    "email": email,
                    "status": "sent" if rng.random() < 0.97 else rng.choice(("failed", "bounced", "skipped")),
                    "attempts": 1,
                    "last_error": "",
                    "response": "250 2.0.0 Ok",
                    "message_id": "",
                    "sent_at": sent_at,
                }
                for cid, email in chosen
            ),
        )
    return count, total
