"""One processing path for every way a report comes in (pipe, mailbox, API, webhooks).

A hard bounce makes the delivery `bounced` (also after `sent`) and the contact bounced, and
suppresses the address; soft bounces are counted, and `BOUNCE_SOFT_LIMIT` of them within
`BOUNCE_SOFT_WINDOW_DAYS` count as a hard one; a complaint opts the contact out and suppresses the
address; an auto-reply is kept on the contact's page for the press officer to read. Each report is
recorded once (its fingerprint): the same report twice changes nothing the second time. Services
flush; the command or request that called them commits.
"""

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from accounts.models import AuditEntry
from bounces import parse
from bounces.models import BounceEvent
from contacts.models import Contact
from contacts.services import contact_erased, like_pattern
from contacts.suppression import suppress
from dbtypes import utcnow
from extensions import db
from mailings.models import Delivery, Mailing
from mailings.return_path import ReturnPath

log = logging.getLogger("relais.bounces")
RELAIS_MESSAGE_ID = re.compile(r"<relais\.(\d+)\.(\d+)\.[0-9a-f]+@[^>]+>")
SEVERITY = {"complaint": 3, "hard": 2, "soft": 1}
HANDED_OVER = ("sent", "bounced", "unknown")  # the messages a server took (the rates' denominator)


@dataclass
class Outcome:
    """What processing one message or one webhook event did, in lines for people and logs."""

    lines: list[str] = field(default_factory=list)
    changed: int = 0  # reports recorded (0: nothing new)
    what: str = ""  # the kind of message read (parse.DSN, parse.AUTO_REPLY...)

    def say(self, line: str) -> None:
        self.lines.append(line)
        log.info("%s", line)


def fingerprint(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def contact_by_email(email: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.email == email.strip().lower()).limit(1))


def delivery_by_message_id(message_id: str) -> Delivery | None:
    """Relais's Message-IDs name their delivery (`<relais.MAILING.DELIVERY.random@domain>`)."""
    found = RELAIS_MESSAGE_ID.search(message_id or "")
    if not found:
        return None
    delivery = db.session.get(Delivery, int(found.group(2)))
    return delivery if delivery is not None and delivery.message_id == found.group(0) else None


def delivery_for(email: str, mailing_id: int | None, contact: Contact | None) -> Delivery | None:
    if mailing_id is None or contact is None:
        return None
    return db.session.scalar(
        select(Delivery).where(Delivery.mailing_id == mailing_id, Delivery.contact_id == contact.id)
    )


def record(
    kind: str,
    email: str,
    source: str,
    key: str,
    status: str = "",
    diagnostic: str = "",
    delivery: Delivery | None = None,
    mailing_id: int | None = None,
    now: datetime | None = None,
) -> tuple[BounceEvent | None, str]:
    """Apply one report about one address; (None, why) when it changes nothing."""
    now = now or utcnow()
    email = email.strip().lower()
    contact = delivery.contact if delivery is not None and delivery.contact is not None else contact_by_email(email)
    if contact is not None and delivery is not None and delivery.contact_id == contact.id:
        email = contact.email  # the tag names the delivery: its address is the one that bounced
    if contact is None:  # never known, or erased (nothing of the person may be written again)
        return None, "unknown address, nothing changed"
    mailing_id = delivery.mailing_id if delivery is not None else mailing_id
    if mailing_id is not None and db.session.get(Mailing, mailing_id) is None:
        mailing_id = None  # a mailing deleted since (or a header someone made up)
    if delivery is None and mailing_id is not None:
        delivery = delivery_for(email, mailing_id, contact)
    digest = fingerprint(kind, email, key)
    if db.session.scalar(select(BounceEvent.id).where(BounceEvent.fingerprint == digest)) is not None:
        return None, "already processed, nothing changed"
    event = BounceEvent(
        fingerprint=digest,
        kind=kind,
        email=email,
        contact_id=contact.id,
        delivery_id=delivery.id if delivery is not None else None,
        mailing_id=mailing_id,
        status=status[:20],
        diagnostic=diagnostic[:4000],
        source=source[:40],
        received_at=now,
    )
    try:
        with db.session.begin_nested():  # the row first: a twin processed meanwhile (pipe and mailbox) wins
            db.session.add(event)
    except IntegrityError:
        return None, "already processed, nothing changed"
    event.action = apply(event, contact, delivery, now)
    db.session.flush()
    return event, event.action


def apply(event: BounceEvent, contact: Contact, delivery: Delivery | None, now: datetime) -> str:
    """The rules; returns what was done, in a few words."""
    words = " ".join(p for p in (event.status, event.diagnostic) if p)[:480]
    if event.kind == "auto_reply":
        return "kept for reading"
    if delivery is not None:
        note = {"hard": "bounced after delivery", "soft": "soft bounce", "complaint": "complaint"}[event.kind]
        delivery.last_error = f"{note}: {words}"[:2000]
        delivery.updated_at = now
    if event.kind == "complaint":
        suppress(event.email, "complaint", now)
        return "opted out, address suppressed"
    limit = int(current_app.config["BOUNCE_SOFT_LIMIT"])
    if event.kind == "soft":
        since = now - timedelta(days=float(current_app.config["BOUNCE_SOFT_WINDOW_DAYS"]))
        db.session.flush()
        soft = db.session.scalar(
            select(func.count(BounceEvent.id)).where(
                BounceEvent.contact_id == contact.id, BounceEvent.kind == "soft", BounceEvent.received_at >= since
            )
        )
        if soft < limit:
            return f"counted ({soft} of {limit})"
    if delivery is not None and delivery.status in ("sent", "unknown", "failed", "retry"):
        delivery.status = "bounced"
    if contact.bounced:
        return "already bounced" if event.kind == "hard" else f"already bounced ({limit} soft bounces)"
    suppress(event.email, "bounced", now)
    return "bounced, address suppressed" if event.kind == "hard" else f"bounced after {limit} soft bounces"


def process_message(raw: bytes, source: str, now: datetime | None = None) -> Outcome:
    """Read one message mailed back to the return path and apply what it reports."""
    now = now or utcnow()
    outcome = Outcome()
    report = parse.parse(raw)
    outcome.what = report.what
    key = report.message_id or hashlib.sha256(raw).hexdigest()
    tagged = tagged_deliveries(report.text)
    if report.what == parse.AUTO_REPLY:
        return auto_reply(report, tagged, source, key, now, outcome)
    if report.what == parse.NOT_A_REPORT:
        outcome.say(f"not a bounce ({report.subject or 'no subject'} from {report.sender or 'nobody'}): left alone")
        return outcome
    findings = report.findings
    if tagged and report.what in (parse.DSN, parse.TEXT_BOUNCE, parse.ARF):
        delivery = tagged[0]
        worst = max(findings, key=lambda f: SEVERITY[f.kind], default=None)
        if worst is None:
            status = parse.status_from_text(report.text) if report.what != parse.DSN else ""
            if not status:
                outcome.say(f"{report.what} for delivery {delivery.id} without a failure (delayed?): nothing changed")
                return outcome
            worst = parse.Finding(delivery.email, parse.kind_of(status) or "soft", status, report.subject)
        findings = [parse.Finding(delivery.email, worst.kind, worst.status, worst.diagnostic)]
        targets = [(findings[0], delivery)]
    else:
        targets = [(f, delivery_by_message_id(report.original_message_id)) for f in findings]
    if not targets:
        outcome.say(f"{report.what} without a failed recipient ({report.subject}): nothing changed")
        return outcome
    for finding, delivery in targets:
        if delivery is not None and delivery.email.lower() != finding.email and not tagged:
            delivery = None  # a Message-ID that names another recipient's delivery
        event, action = record(
            finding.kind,
            finding.email,
            source,
            key,
            finding.status,
            finding.diagnostic,
            delivery,
            report.mailing_id,
            now,
        )
        outcome.changed += event is not None
        outcome.say(describe(finding.kind, finding.email, finding.status, event, action))
    return outcome


def auto_reply(report: parse.Report, tagged, source: str, key: str, now: datetime, outcome: Outcome) -> Outcome:
    delivery = tagged[0] if tagged else None
    email = delivery.email if delivery is not None else report.sender
    event, action = record(
        "auto_reply", email, source, key, "", f"{report.subject}\n\n{report.excerpt}".strip(), delivery, None, now
    )
    outcome.changed += event is not None
    outcome.say(f"auto-reply from {email} ({report.subject}): not a bounce, {action}")
    return outcome


def tagged_deliveries(text: str) -> list[Delivery]:
    """The deliveries named by correctly signed return-path tags in the message."""
    return_path = ReturnPath.configured(current_app.config)
    if return_path is None:
        return []
    found = [db.session.get(Delivery, i) for i in return_path.deliveries_in(text)]
    return [d for d in found if d is not None]


def describe(kind: str, email: str, status: str, event: BounceEvent | None, action: str) -> str:
    label = {"hard": "hard bounce", "soft": "soft bounce", "complaint": "complaint"}.get(kind, kind)
    where = ""
    if event is not None and event.delivery_id:
        where = f" delivery {event.delivery_id} of mailing {event.mailing_id}"
    elif event is not None and event.mailing_id:
        where = f" mailing {event.mailing_id}"
    code = f" ({status})" if status else ""
    return f"{label} {email}{code}{where}: {action}"


def report_event(
    kind: str,
    email: str,
    source: str,
    key: str,
    reason: str = "",
    mailing_id: int | None = None,
    status: str = "",
    message_id: str = "",
    now: datetime | None = None,
) -> Outcome:
    """A report that comes already read (the API, a provider's webhook): same rules, same record.
    The delivery is the one the original Message-ID names, else the mailing's for that address."""
    outcome = Outcome(what=kind)
    email = email.strip().lower()
    delivery = delivery_by_message_id(message_id)
    if delivery is not None and delivery.email.lower() != email:
        delivery = None
    if delivery is None and mailing_id is not None:
        delivery = delivery_for(email, mailing_id, contact_by_email(email))
    status = status or {"hard": "5.0.0", "soft": "4.0.0"}.get(kind, "")
    event, action = record(kind, email, source, key, status, reason, delivery, mailing_id, now)
    outcome.changed += event is not None
    outcome.say(describe(kind, email, status, event, action))
    return outcome


def rates(handed_over: int, bounced: int, complaints: int) -> dict:
    """Bounce and complaint rates against what the big mailbox providers publish (Gmail, Yahoo: spam
    complaints under 0.3%, best under 0.1%; bounces: keep well under 2%)."""
    config = current_app.config
    bounce_rate = bounced / handed_over if handed_over else 0.0
    complaint_rate = complaints / handed_over if handed_over else 0.0
    return {
        "handed_over": handed_over,
        "bounced": bounced,
        "complaints": complaints,
        "bounce_rate": bounce_rate,
        "complaint_rate": complaint_rate,
        "bounce_level": level(bounce_rate, config["BOUNCE_RATE_WARNING"], config["BOUNCE_RATE_LIMIT"]),
        "complaint_level": level(complaint_rate, config["COMPLAINT_RATE_WARNING"], config["COMPLAINT_RATE_LIMIT"]),
    }


def level(rate: float, warning: float, limit: float) -> str:
    """`ok`, `warning` (getting close: act now) or `over` (past what the providers tolerate)."""
    if rate >= float(limit):
        return "over"
    return "warning" if rate >= float(warning) else "ok"


def mailing_rates(mailing_id: int) -> dict:
    """One mailing's bounce and complaint rates, over the messages handed to the server."""
    handed, bounced = db.session.execute(
        select(
            func.count(Delivery.id).filter(Delivery.status.in_(HANDED_OVER)),
            func.count(Delivery.id).filter(Delivery.status == "bounced"),
        ).where(Delivery.mailing_id == mailing_id)
    ).one()
    kinds = dict(
        db.session.execute(
            select(BounceEvent.kind, func.count(BounceEvent.id))
            .where(BounceEvent.mailing_id == mailing_id)
            .group_by(BounceEvent.kind)
        ).all()
    )
    found = rates(handed, bounced, kinds.get("complaint", 0))
    found.update(soft=kinds.get("soft", 0), auto_replies=kinds.get("auto_reply", 0))
    return found


def campaign_rates(campaign_id: int) -> dict[int | None, dict]:
    """Bounce and complaint rates of a campaign's mailings, per region (None: national)."""
    handed = {
        region: (n, b)
        for region, n, b in db.session.execute(
            select(
                Mailing.region_id,
                func.count(Delivery.id).filter(Delivery.status.in_(HANDED_OVER)),
                func.count(Delivery.id).filter(Delivery.status == "bounced"),
            )
            .join(Delivery, Delivery.mailing_id == Mailing.id)
            .where(Mailing.campaign_id == campaign_id)
            .group_by(Mailing.region_id)
        ).all()
    }
    complaints = dict(
        db.session.execute(
            select(Mailing.region_id, func.count(BounceEvent.id))
            .join(BounceEvent, BounceEvent.mailing_id == Mailing.id)
            .where(Mailing.campaign_id == campaign_id, BounceEvent.kind == "complaint")
            .group_by(Mailing.region_id)
        ).all()
    )
    return {region: rates(n, b, complaints.get(region, 0)) for region, (n, b) in handed.items() if n}


def events_of_mailing(mailing_id: int, limit: int = 200) -> list[BounceEvent]:
    return db.session.scalars(
        select(BounceEvent)
        .where(BounceEvent.mailing_id == mailing_id)
        .order_by(BounceEvent.received_at.desc())
        .limit(limit)
    ).all()


def events_of_contact(contact_id: int, limit: int = 50) -> list[BounceEvent]:
    return db.session.scalars(
        select(BounceEvent)
        .where(BounceEvent.contact_id == contact_id)
        .order_by(BounceEvent.received_at.desc())
        .limit(limit)
    ).all()


@contact_erased.connect
def forget_erased_contact(sender=None, contact_id: int | None = None, **_) -> None:
    """An erased person's reports go with them (the suppression hash stays, kept by contacts)."""
    emails = set(db.session.scalars(select(BounceEvent.email).where(BounceEvent.contact_id == contact_id)))
    db.session.execute(delete(BounceEvent).where(BounceEvent.contact_id == contact_id))
    for email in emails:
        recorded = like_pattern(f'"{email}"')
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.entity == "bounce_events", cast(AuditEntry.changes, String).like(recorded, escape="\\"))
            .values(changes={"erased": True})
        )
