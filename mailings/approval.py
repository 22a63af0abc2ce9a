"""Approval that flows: who decides, what an approval covers, its history, and the emails that
tell the national team a regional mailing waits and tell the region what national decided (each
step is written with the decision; the scheduler sends its email, so no page waits on SMTP).

An approval keeps the fingerprint of the text it approved (subject, HTML and text bodies) and of
the follow-ups it also approves: the floors above say which (press: the reminder to the invited
contacts who have not answered). Such a follow-up, to recipients of the approved mailing only and
with its text unchanged, goes without a second approval.
"""

import hashlib
import logging
from datetime import datetime
from email.utils import parseaddr

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from contacts.models import Contact
from errors import PermissionDenied
from extensions import db
from i18n import _
from mail_transport import open_channel
from mailings.approval_models import ApprovalNotice, MailingApproval
from mailings.audience import mailing_audience
from mailings.hooks import hooks
from mailings.models import Delivery, Mailing
from mailings.sanitize import clean_html

log = logging.getLogger("relais.approval")

ANNOUNCED = frozenset({"submitted", "reopened", "approved", "sent_back"})  # steps told by email
DECIDERS = ("admin", "national")  # who approves or sends back a regional mailing
ACTIONS = frozenset({"submit", "approve", "reject"})  # offered by the approval block, not the action buttons
LABELS = {
    "submitted": _l("Soumis à validation"),
    "approved": _l("Validé"),
    "sent_back": _l("Renvoyé à la région"),
    "reopened": _l("À valider de nouveau"),
    "covered": _l("Parti sans nouvelle validation"),
}


def may_decide(user: User) -> bool:
    return user.role in DECIDERS


def require_decider(user: User) -> None:
    if not may_decide(user):
        raise PermissionDenied(_("Seule l'équipe nationale valide ou renvoie les envois régionaux."))


# ---- what an approval covers -------------------------------------------------------------------


def fingerprint(subject: str, html: str, text: str) -> str:
    return hashlib.sha256("\x1f".join((subject or "", html or "", text or "")).encode()).hexdigest()


def text_of(mailing: Mailing) -> str:
    """The fingerprint of what the mailing's recipients will read (its template as stored)."""
    template = mailing.template
    return fingerprint(template.subject, template.html, template.text) if template is not None else ""


def covered_texts(mailing: Mailing) -> list[str]:
    """What approving `mailing` approves: its own text and those of its follow-ups (hooks)."""
    prints = [text_of(mailing)]
    for follow_up in hooks().follow_ups:
        for text in follow_up(mailing):
            prints.append(fingerprint(text["subject"], clean_html(text["html"]), text.get("text") or ""))
    return list(dict.fromkeys(prints))


def covered_by(mailing: Mailing) -> Mailing | None:
    """The approved mailing whose approval already covers this one: same milestone and region, a
    text it approved, and no recipient it did not have."""
    if mailing.milestone_id is None or mailing.region_id is None or mailing.template is None:
        return None
    wanted, seen = text_of(mailing), set()
    query = (
        select(MailingApproval, Mailing)
        .join(Mailing, Mailing.id == MailingApproval.mailing_id)
        .where(
            Mailing.milestone_id == mailing.milestone_id,
            Mailing.region_id == mailing.region_id,
            Mailing.approved_at.is_not(None),
            Mailing.status != "cancelled",
            MailingApproval.decision == "approved",
        )
        .order_by(MailingApproval.id.desc())
    )
    for entry, approved in db.session.execute(query):
        if approved.id == mailing.id or approved.id in seen:
            continue
        seen.add(approved.id)  # the latest approval of each mailing is the one that counts
        if wanted in (entry.covers or []) and within(mailing, approved):
            return approved
    return None


def within(follow_up: Mailing, approved: Mailing) -> bool:
    """Whether every recipient of `follow_up` was a recipient of `approved`."""
    ids = mailing_audience(follow_up)
    if approved.frozen_at is not None:
        reached = select(Delivery.contact_id).where(Delivery.mailing_id == approved.id)
    else:
        reached = mailing_audience(approved)
    if ids is None or reached is None:
        return False
    outside = select(func.count()).select_from(Contact).where(Contact.id.in_(ids), Contact.id.not_in(reached))
    return db.session.scalar(outside) == 0


# ---- history -----------------------------------------------------------------------------------


def record(
    mailing: Mailing, user: User | None, decision: str, now: datetime, comment: str = "", **extra
) -> MailingApproval:
    entry = MailingApproval(
        mailing_id=mailing.id,
        user_id=user.id if user is not None else None,
        author=(user.label if user is not None else "Relais")[:254],
        decision=decision,
        comment=(comment or "").strip(),
        created_at=now,
        covers=extra.pop("covers", []),
        announced_at=None if decision in ANNOUNCED else now,
        **extra,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def history(mailing: Mailing) -> list[MailingApproval]:
    query = select(MailingApproval).where(MailingApproval.mailing_id == mailing.id)
    return list(db.session.scalars(query.order_by(MailingApproval.created_at, MailingApproval.id)))


def latest(mailing: Mailing) -> MailingApproval | None:
    query = select(MailingApproval).where(MailingApproval.mailing_id == mailing.id)
    return db.session.scalar(query.order_by(MailingApproval.id.desc()).limit(1))


def waiting(user: User) -> list[Mailing]:
    """What waits for this person: submitted mailings for the national team; for a region's
    coordinator, its mailings national sent back."""
    if may_decide(user):
        query = select(Mailing).where(Mailing.status == "submitted").order_by(Mailing.updated_at)
        return list(db.session.scalars(query))
    if user.role != "regional" or user.region_id is None:
        return []
    drafts = select(Mailing).where(Mailing.status == "draft", Mailing.region_id == user.region_id)
    return [
        m for m in db.session.scalars(drafts.order_by(Mailing.id)) if (e := latest(m)) and e.decision == "sent_back"
    ]


# ---- emails ------------------------------------------------------------------------------------


def national_team() -> list[User]:
    query = select(User).where(User.role.in_(DECIDERS), User.active).order_by(User.email)
    return list(db.session.scalars(query))


def region_team(mailing: Mailing) -> list[User]:
    """The region's active coordinators, and whoever created the mailing if they are not among them."""
    query = select(User).where(User.role == "regional", User.region_id == mailing.region_id, User.active)
    people = list(db.session.scalars(query.order_by(User.email)))
    creator = mailing.created_by
    if creator is not None and creator.active and creator not in people and creator.role == "regional":
        people.append(creator)
    return people


def page_url(mailing: Mailing) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/mailings/{mailing.id}#approval"


def notice(entry: MailingApproval) -> tuple[list[User], str, str] | None:
    """Who hears of a step, the email's subject and its template: a submission (or a text to
    approve again) goes to the national team, a decision to the region."""
    mailing = entry.mailing
    region = mailing.region.name if mailing.region else "National"
    if entry.decision in ("submitted", "reopened"):
        return national_team(), f"À valider : {mailing.name} ({region})", "approval_request"
    if entry.decision == "approved":
        return region_team(mailing), f"Envoi validé : {mailing.name}", "approval_approved"
    if entry.decision == "sent_back":
        return region_team(mailing), f"Envoi renvoyé par l'équipe nationale : {mailing.name}", "approval_sent_back"
    return None


def announce(entry: MailingApproval, now: datetime) -> bool:
    """Email one step to each person not told of it yet, each in its own transaction with the row
    that says so (an `ApprovalNotice`, one per step and mailbox): whoever an earlier run or another
    scheduler already told is skipped. False when the server could not take it now (the others wait
    for the next run); a recipient it refuses for good is logged and not tried again."""
    found = notice(entry)
    if found is None:
        return True
    people, subject, name = found
    mailing = entry.mailing
    region = mailing.region.name if mailing.region else "National"
    context = {"mailing": mailing, "entry": entry, "region": region, "url": page_url(mailing)}
    text = render_template(f"email/{name}.txt", **context)
    html = render_template(f"email/{name}.html", **context)
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    told = set(db.session.scalars(select(ApprovalNotice.email).where(ApprovalNotice.approval_id == entry.id)))
    addresses = {person.email.lower(): person for person in people}  # one mailbox, one notice
    channel = open_channel(session=db.session)
    try:
        for address, person in addresses.items():
            if address in told or (row := claim(entry.id, person.id, address, now)) is None:
                continue
            message = Message(subject=subject, recipients=[address], body=text, html=html)
            outcome = channel.send(sender, address, message.as_bytes())
            if outcome.status == "retry" or outcome.unreachable:  # nothing was handed over: not told
                db.session.rollback()
                log.warning("approval notice %r to %s: %s (tried again later)", subject, address, outcome.text)
                return False
            if outcome.status not in ("sent", "unknown"):  # unknown: the server may have it, never sent twice
                log.warning("approval notice %r to %s refused: %s", subject, address, outcome.text)
            row.outcome = "refused" if outcome.status not in ("sent", "unknown") else outcome.status
            db.session.commit()
    finally:
        channel.close()
    return True


def claim(approval_id: int, user_id: int, address: str, now: datetime) -> ApprovalNotice | None:
    """Write that this person is told of this step, in the transaction that sends it; None when
    another run holds or has that row (on both engines the insert waits for its commit)."""
    row = ApprovalNotice(approval_id=approval_id, user_id=user_id, email=address, outcome="sending", sent_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return row


def announce_pending(now: datetime, limit: int = 50) -> int:
    """Send the emails of the approval steps that have not gone yet, oldest first, each person's
    committed as it goes; the scheduler runs it. A server that cannot take them leaves the rest for
    the next run, which tells only those not told yet."""
    query = select(MailingApproval).where(MailingApproval.announced_at.is_(None)).order_by(MailingApproval.id)
    done = 0
    for entry in db.session.scalars(query.limit(limit)).all():
        if not announce(entry, now):
            break
        entry.announced_at = now
        db.session.commit()
        done += 1
    return done
