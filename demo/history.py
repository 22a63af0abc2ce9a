"""What the 2008 campaign's mailings did (idempotent): each regional press conference's invitation
went to the region's media, some answered, most who said yes came; a reminder went to those who had
not answered in one region; the national release went to the national media. Deliveries carry the
server's answers as a log would, so no page of the demo is empty."""

from datetime import timedelta

from sqlalchemy import select

from campaign.models import Campaign, Milestone
from contacts.models import Contact, ContactNote
from extensions import db
from mailings.models import Delivery, EmailTemplate, Mailing
from press.models import PressRelease, Rsvp

INVITATION_NAME = "Invitation à la conférence de presse régionale"
RELEASE_NAME = "Communiqué de presse national"
REMINDER_SUBJECT = "Relance : notre conférence de presse du {{ conference.starts_at|datetime_fr }}"
REMINDER_HTML = """<p>Bonjour {{ contact.first_name }},</p>
<p>Sauf erreur, nous n'avons pas encore reçu votre réponse à notre invitation : la conférence de presse du Mois
en {{ region.name }} a lieu le <strong>{{ conference.starts_at|datetime_fr }}</strong>{% if conference.venue %},
{{ conference.venue }}{% endif %}{% if conference.city %} à {{ conference.city }}{% endif %}.</p>
<p><a href="{{ rsvp_yes_url }}">Je viendrai</a> · <a href="{{ rsvp_no_url }}">Je ne pourrai pas venir</a></p>
<p>Bien cordialement,<br>Le service presse</p>"""
QUEUED = "250 2.0.0 Ok: queued"


PHONE_NOTES = {
    "yes": "Joint·e par téléphone : viendra à la conférence de presse ; souhaite un entretien avec "
    "la présidence de la chambre après la présentation.",
    "no": "Joint·e par téléphone : ne pourra pas venir (bouclage) ; souhaite recevoir le dossier de presse "
    "et les contacts des initiatives de son département.",
}


def answer_of(contact_id: int) -> tuple[str | None, bool]:
    """A steady spread of answers: about half yes (most of them came), a fifth no, the rest silent."""
    slot = contact_id % 10
    if slot < 5:
        return "yes", slot != 4
    if slot < 7:
        return "no", False
    return None, False


def load(campaign: Campaign) -> int:
    """The history's mailings, created once; how many were added."""
    if db.session.scalar(select(Mailing.id).where(Mailing.campaign_id == campaign.id, Mailing.status == "sent")):
        return 0
    templates = {
        t.name: t for t in db.session.scalars(select(EmailTemplate).where(EmailTemplate.campaign_id == campaign.id))
    }
    invitation = templates.get(INVITATION_NAME)
    if invitation is None:
        return 0
    reminder = EmailTemplate(
        campaign_id=campaign.id, name="Relance de l'invitation", subject=REMINDER_SUBJECT, html=REMINDER_HTML, text=""
    )
    db.session.add(reminder)
    added = 0
    conferences = db.session.scalars(
        select(Milestone)
        .where(Milestone.campaign_id == campaign.id, Milestone.kind == "regional_press_conference")
        .order_by(Milestone.starts_at)
    ).all()
    reminded = False
    for conference in conferences:
        media = db.session.scalars(
            select(Contact)
            .where(Contact.kind == "media", Contact.region_id == conference.region_id)
            .order_by(Contact.id)
        ).all()
        if not media or conference.status != "done":
            continue
        chamber = conference.region.chamber or conference.region.name
        sender = f"presse.{conference.region.code}@example.org"
        sent_at = conference.starts_at - timedelta(days=10)
        mailing = sent_mailing(
            campaign, conference, invitation, f"Invitation — {conference.title}", chamber, sender, media, sent_at
        )
        added += 1
        silent = []
        press_office = f"Service presse — {chamber}"
        for contact in media:
            answer, came = answer_of(contact.id)
            answered = sent_at + timedelta(days=1 + contact.id % 5) if answer else None
            by_phone = answer is not None and contact.id % 3 == 0  # a third answered when the chamber called
            db.session.add(
                Rsvp(
                    milestone_id=conference.id,
                    contact_id=contact.id,
                    invited_at=mailing.started_at,
                    answer=answer,
                    answered_at=answered,
                    checked_in_at=conference.starts_at if came else None,
                    channel="phone" if by_phone else None,
                    recorded_by_label=press_office if by_phone else "",
                    recorded_at=answered if by_phone else None,
                )
            )
            if by_phone:
                db.session.add(
                    ContactNote(
                        contact_id=contact.id,
                        region_id=conference.region_id,
                        author_label=press_office,
                        body=PHONE_NOTES[answer],
                        created_at=answered,
                    )
                )
            if answer is None:
                silent.append(contact)
        if silent and not reminded:  # one region reminded those who had not answered, two days before
            reminded = True
            sent_mailing(
                campaign,
                conference,
                reminder,
                f"Relance — {conference.title}",
                chamber,
                sender,
                silent,
                conference.starts_at - timedelta(days=2),
            )
            added += 1
    added += release_mailing(campaign, templates.get(RELEASE_NAME))
    db.session.flush()
    return added


def release_mailing(campaign: Campaign, template: EmailTemplate | None) -> int:
    """The national release went to the national media when its embargo lifted."""
    release = db.session.scalar(
        select(PressRelease).where(PressRelease.campaign_id == campaign.id, PressRelease.region_id.is_(None))
    )
    if template is None or release is None or release.embargo_until is None:
        return 0
    national = db.session.scalars(
        select(Contact).where(Contact.kind == "media", Contact.region_id.is_(None)).order_by(Contact.id)
    ).all()
    if not national:
        return 0
    mailing = sent_mailing(
        campaign,
        release.milestone,
        template,
        f"Communiqué — {release.title}"[:200],
        "CNCRES — service de presse",
        "presse@example.org",
        national,
        release.embargo_until,
    )
    release.mailing_id = mailing.id
    return 1


def sent_mailing(campaign, milestone, template, name, from_name, from_email, people, sent_at) -> Mailing:
    """A mailing as the engine leaves it once done: its deliveries sent, one a minute apart at most."""
    region_id = milestone.region_id if milestone is not None else None
    mailing = Mailing(
        campaign_id=campaign.id,
        milestone_id=milestone.id if milestone is not None else None,
        template_id=template.id,
        region_id=region_id,
        name=name[:200],
        from_name=from_name,
        from_email=from_email,
        reply_to=from_email,
        audience={"list_ids": [], "segment_ids": [], "contact_ids": [c.id for c in people]},
        status="sent",
        scheduled_at=sent_at,
        frozen_at=sent_at,
        started_at=sent_at,
        finished_at=sent_at + timedelta(minutes=len(people)),
    )
    db.session.add(mailing)
    db.session.flush()
    for index, contact in enumerate(people):
        at = sent_at + timedelta(seconds=20 * index)
        db.session.add(
            Delivery(
                mailing_id=mailing.id,
                contact_id=contact.id,
                email=contact.email,
                status="sent",
                attempts=1,
                response=QUEUED,
                message_id=f"<{mailing.id}.{contact.id}.demo@example.org>",
                sent_at=at,
                updated_at=at,
            )
        )
    return mailing
