"""The playbook: a whole campaign timeline from a few dates, on the seed's plan.

The seed (Mois de l'ESS 2008) plans: partnerships finalised at the end of the month before the
annual general assembly; the internal launch at the AG; relay through the ESS networks from the AG
to the rentrée; at the rentrée a national press conference and, the same week, a press conference
in every region; then the event month. Press practice sets the rest: save-the-date at D-15,
invitations at D-10, the release on the day, conferences Tuesday to Thursday at 10:00.

Each dependent date hangs on the one it follows (campaign.anchors: invitations at D-10 of their
conference, the reminder at D-2, regional conferences in the national press week, each region's
month on the month), so that moving a conference proposes to move what hangs on it. Nothing is
sent on a weekend or a public holiday: a send that the rule puts there goes the working day before.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from accounts.models import Region, User
from campaign.models import Campaign, Milestone
from campaign.services import at_local, save_campaign
from campaign.workdays import MAIL_KINDS, previous_working_day
from errors import ValidationFailed
from extensions import db

NATIONAL_CONFERENCE_WEEKS_BEFORE = 8  # "à la rentrée": about two months before the month
REGIONAL_CONFERENCE_DAY_OFFSET = 2  # Thursday of the national conference's week (Tuesday)


@dataclass(frozen=True)
class Plan:
    """The key dates the playbook derives; each stays editable afterwards."""

    partner_deadline: date
    ag: date
    national_conference: date
    regional_conference: date
    event_start: date
    event_end: date


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def plan(ag_date: date, event_month_start: date) -> Plan:
    if event_month_start <= ag_date:
        raise ValidationFailed(
            "the event month comes after the AG",
            {"event_month_start": "must be after ag_date"},
        )
    first_of_ag_month = ag_date.replace(day=1)
    rentree = event_month_start - timedelta(weeks=NATIONAL_CONFERENCE_WEEKS_BEFORE)
    tuesday = rentree + timedelta(days=(1 - rentree.weekday()) % 7)
    if tuesday <= ag_date:
        tuesday = ag_date + timedelta(days=(1 - ag_date.weekday()) % 7 + 7)
    return Plan(
        partner_deadline=first_of_ag_month - timedelta(days=1),
        ag=ag_date,
        national_conference=tuesday,
        regional_conference=tuesday + timedelta(days=REGIONAL_CONFERENCE_DAY_OFFSET),
        event_start=event_month_start,
        event_end=month_end(event_month_start),
    )


def build(
    actor: User,
    name: str,
    ag_date: date,
    event_month_start: date,
    regions: list[Region],
    tz: str = "Europe/Paris",
) -> Campaign:
    """Create the campaign and its whole timeline; the caller commits."""
    p = plan(ag_date, event_month_start)
    campaign = save_campaign(
        actor,
        None,
        {
            "name": name,
            "timezone": tz,
            "starts_on": p.partner_deadline - timedelta(days=30),
            "ends_on": p.event_end,
        },
    )

    def add(
        kind,
        title,
        day,
        hour=10,
        minute=0,
        end=None,
        end_hour=12,
        region=None,
        depends=(),
        description="",
        anchor=None,
    ):
        """A milestone on `day`; with `anchor` (the milestone it hangs on), `day` is the rule's."""
        offset = (day - days[anchor]).days if anchor is not None else None
        if kind in MAIL_KINDS:
            day = previous_working_day(day)
        milestone = Milestone(
            campaign=campaign,
            kind=kind,
            title=title,
            description=description,
            starts_at=at_local(day, hour, minute, tz),
            ends_at=at_local(end, end_hour, 0, tz) if end else None,
            region=region,
            status="planned",
            depends_on=list(depends),
            anchor=anchor,
            offset_days=offset,
        )
        days[milestone] = day
        db.session.add(milestone)
        return milestone

    days: dict[Milestone, date] = {}
    partners = add(
        "partner_deadline",
        "Partenariats finalisés",
        p.partner_deadline,
        18,
        description="Conventions signées avec les partenaires nationaux.",
    )
    launch = add(
        "internal_launch",
        "Lancement interne à l'AG annuelle",
        p.ag,
        10,
        end=p.ag,
        end_hour=17,
        depends=[partners],
    )
    relay = add(
        "network_relay",
        "Relais de l'information dans les réseaux de l'ESS",
        p.ag + timedelta(days=1),
        9,
        end=p.national_conference - timedelta(days=1),
        end_hour=18,
        depends=[launch],
    )
    national = add(
        "national_press_conference",
        "Conférence de presse nationale",
        p.national_conference,
        10,
        end=p.national_conference,
        end_hour=11,
        depends=[relay],
    )
    add(
        "deadline",
        "Programmes régionaux complets",
        p.national_conference - timedelta(days=14),
        18,
        depends=[launch],
        anchor=national,
    )
    add(
        "mailing",
        "Save-the-date conférence de presse nationale",
        p.national_conference - timedelta(days=15),
        9,
        anchor=national,
    )
    invitation = add(
        "mailing",
        "Invitations à la conférence de presse nationale",
        p.national_conference - timedelta(days=10),
        9,
        anchor=national,
    )
    add(
        "mailing",
        "Relance des journalistes sans réponse",
        p.national_conference - timedelta(days=2),
        9,
        depends=[invitation],
        anchor=national,
    )
    add(
        "press_release",
        "Communiqué de presse national",
        p.national_conference,
        12,
        depends=[national],
        anchor=national,
    )
    add(
        "press_release",
        "Dossier de presse aux médias absents",
        p.national_conference + timedelta(days=1),
        10,
        depends=[national],
        anchor=national,
    )
    month = add(
        "event_period",
        "Le Mois de l'ESS",
        p.event_start,
        0,
        end=p.event_end,
        end_hour=23,
        depends=[national],
    )
    for region in regions:
        conference = add(
            "regional_press_conference",
            f"Conférence de presse — {region.name}",
            p.regional_conference,
            10,
            end=p.regional_conference,
            end_hour=11,
            region=region,
            depends=[national],
            anchor=national,
        )
        add(
            "mailing",
            f"Invitations presse — {region.name}",
            p.regional_conference - timedelta(days=10),
            9,
            region=region,
            depends=[],
            anchor=conference,
        )
        add(
            "event_period",
            f"Le Mois en {region.name}",
            p.event_start,
            0,
            end=p.event_end,
            end_hour=23,
            region=region,
            depends=[conference],
            anchor=month,
        )
    db.session.flush()
    return campaign
