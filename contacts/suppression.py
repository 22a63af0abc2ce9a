"""The suppression list, in one place: addresses never to write to again (unsubscribed, bounced,
complaint, erased), kept as a hash of the address so that erasure leaves nothing readable."""

import hashlib
from datetime import datetime

from sqlalchemy import select

from contacts.models import Contact, Suppression
from dbtypes import utcnow
from extensions import db


def email_hash(email: str) -> str:
    """The suppression key: sha256 of the trimmed, lower-cased address."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def suppression_reason(email: str) -> str | None:
    """Why this address is suppressed (unsubscribed, bounced, erased, complaint), or None."""
    return db.session.scalar(select(Suppression.reason).where(Suppression.email_hash == email_hash(email)))


def is_suppressed(email: str) -> bool:
    """True when the address was unsubscribed, bounced or erased: never send to it.

    For the delivery engine: check it once more when a delivery is claimed, besides the
    contact's own `opted_out`/`bounced` flags (which audience_contacts() already excludes).
    """
    return suppression_reason(email) is not None


def suppressed_among(emails) -> set[str]:
    """Those of `emails` that are on the list (one query)."""
    hashes = {email_hash(e): e for e in emails}
    found = db.session.scalars(select(Suppression.email_hash).where(Suppression.email_hash.in_(hashes)))
    return {hashes[h] for h in found}


def record(email: str, reason: str, now: datetime | None = None, replace: bool = False) -> str:
    """Put the address's hash on the list once (`replace`: with this reason even if it is there); the hash."""
    digest = email_hash(email)
    existing = db.session.scalar(select(Suppression).where(Suppression.email_hash == digest))
    if existing is None:
        db.session.add(Suppression(email_hash=digest, reason=reason, created_at=now or utcnow()))
    elif replace:
        existing.reason = reason
    return digest


def erased_hashes() -> list[str]:
    """The erasure ledger: the hashes of every erased address (nothing else of the people is kept)."""
    return list(db.session.scalars(select(Suppression.email_hash).where(Suppression.reason == "erased")))


def keep_erased(digest: str, now: datetime | None = None) -> None:
    """Put an erased address's hash back on the list (after a restore), as erased."""
    existing = db.session.scalar(select(Suppression).where(Suppression.email_hash == digest))
    if existing is None:
        db.session.add(Suppression(email_hash=digest, reason="erased", created_at=now or utcnow()))
    else:
        existing.reason = "erased"


def suppress(email: str, reason: str, now: datetime | None = None) -> None:
    """Put an address on the suppression list and flag its contact (opted_out or bounced).

    For the unsubscribe page (reason "unsubscribed"), permanent SMTP failures ("bounced") and
    complaints ("complaint"). Flushes; the caller commits.
    """
    now = now or utcnow()
    record(email, reason, now)
    contact = db.session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
    if contact is not None:
        flag_suppressed(contact, reason, now)
    db.session.flush()


def flag_suppressed(contact: Contact, reason: str, now: datetime) -> None:
    """The contact's own flag for a suppression reason: bounced, or opted out."""
    if reason == "bounced":
        if not contact.bounced:
            contact.bounced, contact.bounced_at = True, now
    elif not contact.opted_out:
        contact.opted_out, contact.opted_out_at = True, now
