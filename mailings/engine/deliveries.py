"""Delivery rows: a mailing's audience frozen into them once, the next ones due, the counts, and
the mailing's own status as its deliveries move (finished, paused)."""

from datetime import datetime

from sqlalchemy import case, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from contacts.models import Contact
from contacts.preferences import STOPPED_REASON
from extensions import db
from mailings import states
from mailings.audience import mailing_audience
from mailings.engine.database import D, M, log
from mailings.models import Delivery, Mailing
from mailings.streams import chose_to_stop

OPEN_STATUSES = ("pending", "sending", "retry")


def freeze_audience(mailing: Mailing, now: datetime) -> int:
    """Turn the audience into one delivery row per recipient, once; returns the rows written."""
    claimed = db.session.execute(update(M).where(M.c.id == mailing.id, M.c.frozen_at.is_(None)).values(frozen_at=now))
    if claimed.rowcount != 1:
        return 0
    ids = mailing_audience(mailing)
    if ids is None:
        return 0
    stopped = Contact.id.in_(chose_to_stop(mailing))  # on their preference page, for this mailing's stream
    unreachable = or_(Contact.opted_out.is_(True), Contact.bounced.is_(True), stopped)
    rows = select(
        literal(mailing.id),
        Contact.id,
        Contact.email,
        case((unreachable, "skipped"), else_="pending"),
        literal(0),
        case(
            (Contact.opted_out.is_(True), "opted out"),
            (Contact.bounced.is_(True), "bounced"),
            (stopped, STOPPED_REASON),
            else_="",
        ),
        literal(""),
        literal(""),
    ).where(Contact.id.in_(ids))
    result = db.session.execute(
        insert(D).from_select(
            ["mailing_id", "contact_id", "email", "status", "attempts", "last_error", "response", "message_id"], rows
        )
    )
    db.session.expire(mailing, ["frozen_at"])
    if result.rowcount is not None and result.rowcount >= 0:
        return result.rowcount
    return db.session.scalar(select(func.count()).select_from(D).where(D.c.mailing_id == mailing.id)) or 0


def due_deliveries(mailing_id: int, status: str, now: datetime, limit: int, after: int = 0):
    """A mailing's unclaimed deliveries of one status (`retry` only when due), in id order from `after`:
    one range of the (mailing, status, id) index."""
    due = select(D.c.id).where(D.c.mailing_id == mailing_id, D.c.worker_id.is_(None), D.c.status == status)
    if after:
        due = due.where(D.c.id > after)
    if status == "retry":
        due = due.where(D.c.next_attempt_at <= now)
    return due.order_by(D.c.id).limit(limit)


def finish_if_done(conn: Connection, mailing_id: int, now: datetime) -> bool:
    """`sending` becomes `sent` when no delivery is left pending, sending or to retry."""
    left = select(D.c.id).where(D.c.mailing_id == mailing_id, D.c.status.in_(OPEN_STATUSES)).limit(1)
    done = conn.execute(
        update(M)
        .where(M.c.id == mailing_id, M.c.status.in_(states.sources("finish")), ~left.exists())
        .values(status=states.TRANSITIONS["finish"][1], finished_at=now, status_reason="")
    ).rowcount
    conn.commit()
    return bool(done)


def pause(conn: Connection, mailing_id: int, reason: str) -> None:
    conn.execute(
        update(M)
        .where(M.c.id == mailing_id, M.c.status == "sending")
        .values(status=states.TRANSITIONS["pause"][1], status_reason=reason[:1000])
    )
    conn.commit()
    log.warning("mailing %s paused: %s", mailing_id, reason)


def counts(mailing_id: int) -> dict:
    """Deliveries by status, with `total` (the contract's `stats`)."""
    rows = db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.mailing_id == mailing_id).group_by(Delivery.status)
    ).all()
    stats = dict.fromkeys(("pending", "sending", "retry", "sent", "failed", "bounced", "skipped", "unknown"), 0)
    stats.update({status: n for status, n in rows})
    stats["total"] = sum(stats.values())
    return stats
